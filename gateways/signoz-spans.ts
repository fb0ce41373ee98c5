// SigNoz's span figures, read from its ClickHouse: per service, the last window and the volume of
// the window before it. The poller (jobs/signoz-poller.ts) turns them into anomalies.
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { z } from "zod";
import { SIGNOZ_WINDOW_MINUTES, type ServiceWindowStats } from "../domain/signoz.js";

/**
 * SigNoz's span index (the seed's query). On a SigNoz cluster, point the poller at
 * `signoz_traces.distributed_signoz_index_v2` instead.
 */
export const SIGNOZ_SPANS_TABLE = "signoz_traces.signoz_index_v2";
/**
 * Per service: the last window and the volume of the window before it, in one scan. Nothing from
 * outside goes into the text: service names only come out of it, the windows are computed by the
 * server from now(), and the thresholds are applied in TypeScript. (Query parameters would be
 * the tool otherwise, but the `{name:Type}` syntax does not exist on ClickHouse 18.16.)
 *
 * Only columns present both in old schemas and in current SigNoz are used. Errors are counted
 * with `hasError`, which SigNoz sets for spans with status STATUS_CODE_ERROR (statusCode = 2): the
 * seed's `statusCode = 'STATUS_CODE_ERROR'` compares an Int16 column with a string and only the
 * newer `statusCodeString` column holds that text. `hasError` alone as a condition works for
 * UInt8 (old servers, no Bool type) and Bool (current SigNoz) alike; the literal `true` would not
 * parse on 18.16. Comparing `timestamp` with `now() - INTERVAL` works for DateTime and for
 * SigNoz's DateTime64(9). An empty window gives NaN averages, which arrive as null.
 */
export function spanStatsQuery(table: string = SIGNOZ_SPANS_TABLE): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/.test(table))
    throw new Error(`not a database.table name: ${table}`);
  const current = `timestamp > now() - INTERVAL ${SIGNOZ_WINDOW_MINUTES} MINUTE`;
  return `
SELECT
  serviceName AS service,
  countIf(${current}) AS spans,
  uniqIf(traceID, ${current}) AS traces,
  countIf(${current} AND hasError) AS errors,
  avgIf(durationNano, ${current}) AS avg_duration_nano,
  quantileIf(0.99)(durationNano, ${current}) AS p99_duration_nano,
  countIf(NOT (${current})) AS previous_spans
FROM ${table}
WHERE timestamp > now() - INTERVAL ${2 * SIGNOZ_WINDOW_MINUTES} MINUTE AND serviceName != ''
GROUP BY serviceName
ORDER BY serviceName`;
}

const MAX_SERVICE_NAME = 256;

// ClickHouse's JSON formats quote 64-bit integers by default.
const unsigned = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int().nonnegative());
const nanos = z
  .union([z.number(), z.string(), z.null()])
  .transform((value) => (value === null ? 0 : Number(value)))
  .pipe(z.number().nonnegative().finite());

const SpanStatsRowSchema = z.object({
  service: z.string(),
  spans: unsigned,
  traces: unsigned,
  errors: unsigned,
  avg_duration_nano: nanos,
  p99_duration_nano: nanos,
  previous_spans: unsigned,
});

/** Where span figures come from (ClickHouse in production). */
export interface SpanStatsSource {
  windowStats(): Promise<ServiceWindowStats[]>;
}

export function clickhouseSpanStats(
  client: Pick<ClickHouseClient, "query">,
  table: string = SIGNOZ_SPANS_TABLE,
): SpanStatsSource {
  const query = spanStatsQuery(table);
  return {
    async windowStats() {
      const result = await client.query({ query, format: "JSONEachRow" });
      const rows = z.array(SpanStatsRowSchema).parse(await result.json());
      // A service name too long for an alert is skipped rather than failing every poll.
      const usable = rows.filter((row) => row.service.length <= MAX_SERVICE_NAME);
      return usable.map((row) => ({
        service: row.service,
        spans: row.spans,
        traces: row.traces,
        errors: row.errors,
        avgLatencyMs: row.avg_duration_nano / 1e6,
        p99LatencyMs: row.p99_duration_nano / 1e6,
        previousSpans: row.previous_spans,
      }));
    },
  };
}

/** SigNoz's span figures from the ClickHouse at `url` (SIGNOZ_CLICKHOUSE_URL); close when done. */
export function openSignozSpans(
  url: string,
  table?: string,
): { spans: SpanStatsSource; close(): Promise<void> } {
  const client = createClient({ url, request_timeout: 30_000 });
  return { spans: clickhouseSpanStats(client, table), close: () => client.close() };
}

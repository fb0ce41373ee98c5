// SigNoz's span figures, read from its ClickHouse: which trace table this SigNoz writes (the v3
// schema on current releases, v2 on older ones), and per service the last window and the volume
// of the window before it. The poller (jobs/signoz-poller.ts) turns them into anomalies.
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { z } from "zod";
import { SIGNOZ_WINDOW_MINUTES, type ServiceWindowStats } from "../domain/signoz.js";

export type TraceSchema = "v3" | "v2";

/**
 * The tables SigNoz's schema migrator creates (signoz-otel-collector,
 * cmd/signozschemamigrator/schema_migrator/traces_migrations.go migration 1000 for v3,
 * squashed_traces_migrations.go migrations 1 and 2 for v2), newest first. The migrations always
 * run `ON CLUSTER`, so even a single-node SigNoz has the `distributed_` table, and that is the one
 * SigNoz's own query service reads. Since releases of late 2024 the exporter writes only v3.
 */
export const SIGNOZ_TRACE_TABLES: readonly string[] = [
  "signoz_traces.distributed_signoz_index_v3",
  "signoz_traces.signoz_index_v3",
  "signoz_traces.distributed_signoz_index_v2",
  "signoz_traces.signoz_index_v2",
];

/**
 * The columns each schema's query reads: a table has the schema when it has all of them. A v3
 * table also has v2's names (as ALIAS columns), so v3 is asked first.
 */
const SCHEMA_COLUMNS: Readonly<Record<TraceSchema, readonly string[]>> = {
  v3: [
    "ts_bucket_start",
    "timestamp",
    "trace_id",
    "duration_nano",
    "has_error",
    "resource_string_service$$name",
  ],
  v2: ["timestamp", "traceID", "serviceName", "durationNano", "hasError"],
};

/** What the poller reads, or why there is nothing to read. */
export type TracesTable =
  | { found: true; table: string; schema: TraceSchema; chosenBy: "detected" | "SIGNOZ_TRACES_TABLE" }
  | { found: false; reason: string };

export const NO_TRACE_TABLE = "no SigNoz trace table found";

/** One line for the log and for `/status`. */
export function describeTracesTable(traces: TracesTable): string {
  if (!traces.found) return `${NO_TRACE_TABLE} (${traces.reason})`;
  const how = traces.chosenBy === "detected" ? "detected" : "set by SIGNOZ_TRACES_TABLE";
  return `${traces.table} (${traces.schema} schema, ${how})`;
}

const TABLE_NAME = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** `database.table`, as SIGNOZ_TRACES_TABLE takes it; the names go into SQL text, so nothing else passes. */
export function splitTableName(table: string): { database: string; name: string } {
  const match = TABLE_NAME.exec(table);
  if (match?.[1] === undefined || match[2] === undefined)
    throw new Error(`not a database.table name: ${table}`);
  return { database: match[1], name: match[2] };
}

const ColumnRowSchema = z.object({ database: z.string(), table: z.string(), name: z.string() });

function schemaOf(columns: ReadonlySet<string>): TraceSchema | undefined {
  return (["v3", "v2"] as const).find((schema) =>
    SCHEMA_COLUMNS[schema].every((column) => columns.has(column)),
  );
}

/**
 * Looks in `system.columns` (there on ClickHouse 18.16 and on current releases alike) for the
 * override, or for SigNoz's tables newest first, and takes the first that has a schema's columns.
 * Rejects only when ClickHouse does not answer.
 */
export async function findTracesTable(
  client: Pick<ClickHouseClient, "query">,
  override?: string,
  signal?: AbortSignal,
): Promise<TracesTable> {
  const candidates = override === undefined ? SIGNOZ_TRACE_TABLES : [override];
  const names = candidates.map(splitTableName);
  const list = (values: string[]) => [...new Set(values)].map((value) => `'${value}'`).join(", ");
  const result = await client.query({
    query: `SELECT database, table, name FROM system.columns
      WHERE database IN (${list(names.map((n) => n.database))}) AND table IN (${list(names.map((n) => n.name))})`,
    format: "JSONEachRow",
    ...(signal === undefined ? {} : { abort_signal: signal }),
  });
  const rows = z.array(ColumnRowSchema).parse(await result.json());
  const columnsOf = (table: string) =>
    new Set(rows.filter((row) => `${row.database}.${row.table}` === table).map((row) => row.name));
  for (const table of candidates) {
    const columns = columnsOf(table);
    const schema = schemaOf(columns);
    if (schema !== undefined) {
      return {
        found: true,
        table,
        schema,
        chosenBy: override === undefined ? "detected" : "SIGNOZ_TRACES_TABLE",
      };
    }
  }
  if (override !== undefined) {
    return {
      found: false,
      reason:
        columnsOf(override).size === 0
          ? `SIGNOZ_TRACES_TABLE names ${override}, which does not exist`
          : `SIGNOZ_TRACES_TABLE names ${override}, which has neither SigNoz's v3 nor its v2 span columns`,
    };
  }
  const present = candidates.filter((table) => columnsOf(table).size > 0);
  return {
    found: false,
    reason:
      present.length === 0
        ? `none of ${candidates.join(", ")} exists`
        : `${present.join(", ")} lack${present.length === 1 ? "s" : ""} SigNoz's span columns`,
  };
}

/**
 * Per service: the last window and the volume of the window before it, in one scan, written for
 * one schema with only its own columns. Nothing from outside goes into the text but the table
 * name (checked by `splitTableName`): service names only come out of it, the windows are computed
 * by the server from now(), and the thresholds are applied in TypeScript. (Query parameters would
 * be the tool otherwise, but the `{name:Type}` syntax does not exist on ClickHouse 18.16.)
 *
 * Both schemas: errors are spans with `has_error`/`hasError`, which SigNoz sets for OTel status
 * Error (status code 2); as a bare condition it works for UInt8 (old servers, no Bool type) and
 * Bool alike, where the literal `true` would not parse on 18.16. `timestamp` is compared with
 * `now() - INTERVAL`, which works for DateTime and for SigNoz's DateTime64(9); SigNoz's own
 * nanosecond literals would silently match nothing on a DateTime column. An empty window gives
 * NaN averages, which arrive as null.
 *
 * v3: the service is `resource_string_service$$name` (filled from the resource map at insert;
 * backticks, since `$$` is no identifier character on 18.16), and the scan is bounded on the sort
 * key's `ts_bucket_start` (span start in unix seconds, floored to 1800 s) as SigNoz's own
 * service overview does, one bucket earlier than the window so no span at a bucket's edge is lost.
 *
 * v2: the seed's columns, `serviceName`, `traceID`, `durationNano`, `hasError`.
 */
export function spanStatsQuery(table: string, schema: TraceSchema): string {
  splitTableName(table);
  const current = `timestamp > now() - INTERVAL ${SIGNOZ_WINDOW_MINUTES} MINUTE`;
  const since = `now() - INTERVAL ${2 * SIGNOZ_WINDOW_MINUTES} MINUTE`;
  if (schema === "v3") {
    return `
SELECT
  \`resource_string_service$$name\` AS service,
  countIf(${current}) AS spans,
  uniqIf(trace_id, ${current}) AS traces,
  countIf(${current} AND has_error) AS errors,
  avgIf(duration_nano, ${current}) AS avg_duration_nano,
  quantileIf(0.99)(duration_nano, ${current}) AS p99_duration_nano,
  countIf(NOT (${current})) AS previous_spans
FROM ${table}
WHERE ts_bucket_start >= toUInt64(toUnixTimestamp(${since})) - 1800
  AND timestamp > ${since}
  AND \`resource_string_service$$name\` != ''
GROUP BY service
ORDER BY service`;
  }
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
WHERE timestamp > ${since} AND serviceName != ''
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

/** The figures of every service in `table`, read with its schema's query. */
export async function readSpanStats(
  client: Pick<ClickHouseClient, "query">,
  table: string,
  schema: TraceSchema,
): Promise<ServiceWindowStats[]> {
  const result = await client.query({ query: spanStatsQuery(table, schema), format: "JSONEachRow" });
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
}

/** Where span figures come from (ClickHouse in production). */
export interface SpanStatsSource {
  windowStats(): Promise<ServiceWindowStats[]>;
}

/** A poll that found no table to read: the message says so, in the words `/status` uses. */
export class NoTracesTableError extends Error {
  override readonly name = "NoTracesTableError";
  constructor(readonly traces: Extract<TracesTable, { found: false }>) {
    super(describeTracesTable(traces));
  }
}

export interface SignozSpansOptions {
  /** SIGNOZ_TRACES_TABLE: read this table instead of looking for SigNoz's. */
  table?: string | undefined;
  /** Told what the source reads whenever that changes (the first time too), for the log. */
  onTable?: (traces: TracesTable) => void;
}

/** The span figures, plus a way to look for the table again (at start-up). */
export interface SignozSpans extends SpanStatsSource {
  discover(signal?: AbortSignal): Promise<TracesTable>;
}

function sameOutcome(a: TracesTable | undefined, b: TracesTable): boolean {
  return a !== undefined && describeTracesTable(a) === describeTracesTable(b);
}

/**
 * Span figures from whichever trace table this ClickHouse has. The table is found before the
 * first poll, and again after every poll that fails (a SigNoz upgrade or a move to a cluster
 * changes it); when the new table differs, the poll is read from it at once. Until a table is
 * found, every poll fails with NoTracesTableError.
 */
export function clickhouseSpanStats(
  client: Pick<ClickHouseClient, "query">,
  options: SignozSpansOptions = {},
): SignozSpans {
  let reported: TracesTable | undefined;
  let reading: Extract<TracesTable, { found: true }> | undefined;
  // One look at a time: the start-up look and the first poll share it (and its one log line).
  let looking: Promise<TracesTable> | undefined;

  const look = async (signal?: AbortSignal): Promise<TracesTable> => {
    const traces = await findTracesTable(client, options.table, signal);
    reading = traces.found ? traces : undefined;
    if (!sameOutcome(reported, traces)) options.onTable?.(traces);
    reported = traces;
    return traces;
  };
  const discover = (signal?: AbortSignal): Promise<TracesTable> => {
    looking ??= look(signal).finally(() => {
      looking = undefined;
    });
    return looking;
  };

  const readFound = async (): Promise<ServiceWindowStats[]> => {
    const traces = reading ?? (await discover());
    if (!traces.found) throw new NoTracesTableError(traces);
    return readSpanStats(client, traces.table, traces.schema);
  };

  return {
    discover,
    async windowStats() {
      const before = reading;
      try {
        return await readFound();
      } catch (error) {
        if (error instanceof NoTracesTableError || before === undefined) throw error;
        // The table read so far failed: look again, and read the new one if there is one.
        const again = await discover().catch(() => undefined);
        if (again === undefined || sameOutcome(before, again)) throw error;
        if (!again.found) throw new NoTracesTableError(again);
        return readSpanStats(client, again.table, again.schema);
      }
    },
  };
}

/** SigNoz's span figures from the ClickHouse at `url` (SIGNOZ_CLICKHOUSE_URL); close when done. */
export function openSignozSpans(
  url: string,
  options: SignozSpansOptions = {},
): { spans: SignozSpans; close(): Promise<void> } {
  const client = createClient({ url, request_timeout: 30_000 });
  return { spans: clickhouseSpanStats(client, options), close: () => client.close() };
}

/** For `/status`: which table the poller would read now, on a connection of its own. */
export async function probeSignozTraces(
  url: string,
  table: string | undefined,
  signal: AbortSignal,
): Promise<TracesTable> {
  const client = createClient({ url, request_timeout: 30_000 });
  try {
    return await findTracesTable(client, table, signal);
  } finally {
    await client.close();
  }
}

// SigNoz's span index in a private ClickHouse, and builders for spans relative to the server's now().
import type { ClickHouseClient } from "@clickhouse/client";
import { randomBytes } from "node:crypto";

/**
 * The columns of SigNoz's `signoz_traces.signoz_index_v2` that ClickHouse 18.16 can hold (a
 * subset: the tag maps, resource maps and many attribute columns are left out). SigNoz declares
 * `timestamp DateTime64(9)` and `hasError Bool`; 18.16 has neither type (DateTime64 came in 20.1,
 * Bool in 21.12), so this table uses DateTime (seconds) and UInt8, which the poller's query treats
 * the same way. SigNoz's CODECs and its longer sort key are left out too; LowCardinality is still
 * experimental on 18.16, hence the setting.
 */
export async function createSignozSpanTable(client: ClickHouseClient, table: string): Promise<void> {
  await client.command({ query: "CREATE DATABASE IF NOT EXISTS signoz_traces" });
  await client.command({
    query: `CREATE TABLE ${table} (
      timestamp DateTime,
      traceID FixedString(32),
      spanID String,
      parentSpanID String,
      serviceName LowCardinality(String),
      name LowCardinality(String),
      kind Int8,
      durationNano UInt64,
      statusCode Int16,
      hasError UInt8,
      httpMethod LowCardinality(String),
      httpUrl LowCardinality(String),
      httpCode LowCardinality(String),
      httpRoute LowCardinality(String),
      httpHost LowCardinality(String),
      responseStatusCode LowCardinality(String),
      statusMessage String
    ) ENGINE = MergeTree
    PARTITION BY toDate(timestamp)
    ORDER BY (serviceName, timestamp)`,
    clickhouse_settings: { allow_experimental_low_cardinality_type: 1 },
  });
}

export interface SpanRow {
  timestamp: string;
  traceID: string;
  spanID: string;
  parentSpanID: string;
  serviceName: string;
  name: string;
  kind: number;
  durationNano: number;
  statusCode: number;
  hasError: number;
  httpMethod: string;
  httpUrl: string;
  httpCode: string;
  httpRoute: string;
  httpHost: string;
  responseStatusCode: string;
  statusMessage: string;
}

/**
 * `count` server spans of `service`, spread over the last window (10 s to 4 min ago) or the one
 * before it (5½ to 9½ min ago), well clear of the window edges. The first `errors` spans fail
 * (STATUS_CODE_ERROR, HTTP 500) and the first `slow` spans take `slowMs`.
 */
export function spans(
  service: string,
  count: number,
  options: {
    window?: "current" | "previous";
    durationMs?: number;
    errors?: number;
    slow?: number;
    slowMs?: number;
  } = {},
): SpanRow[] {
  const start = options.window === "previous" ? 330 : 10;
  return Array.from({ length: count }, (_, index) => {
    const failed = index < (options.errors ?? 0);
    const durationMs = index < (options.slow ?? 0) ? (options.slowMs ?? 3_000) : (options.durationMs ?? 20);
    const secondsAgo = start + (index % 230);
    return {
      timestamp: new Date(Date.now() - secondsAgo * 1_000).toISOString(),
      traceID: randomBytes(16).toString("hex"),
      spanID: randomBytes(8).toString("hex"),
      parentSpanID: "",
      serviceName: service,
      name: "GET /api/orders",
      kind: 2,
      durationNano: Math.round(durationMs * 1e6),
      statusCode: failed ? 2 : 0,
      hasError: failed ? 1 : 0,
      httpMethod: "GET",
      httpUrl: `http://${service}/api/orders`,
      httpCode: failed ? "500" : "200",
      httpRoute: "/api/orders",
      httpHost: service,
      responseStatusCode: failed ? "500" : "200",
      statusMessage: failed ? "upstream timeout" : "",
    };
  });
}

export async function insertSpans(client: ClickHouseClient, table: string, rows: SpanRow[]): Promise<void> {
  await client.insert({
    table,
    values: rows,
    format: "JSONEachRow",
    // ISO 8601 timestamps; 18.16 parses only "YYYY-MM-DD hh:mm:ss" without this.
    clickhouse_settings: { date_time_input_format: "best_effort" },
  });
}

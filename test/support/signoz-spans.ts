// SigNoz's trace tables (v3 and v2, local and distributed) in a private ClickHouse 18.16, and
// builders for spans relative to the server's now().
import type { ClickHouseClient, ClickHouseSettings } from "@clickhouse/client";
import { randomBytes } from "node:crypto";
import type { TraceSchema } from "../../gateways/signoz-spans.js";

// LowCardinality is still experimental on 18.16 (SigNoz uses it for most string columns).
const LOW_CARDINALITY = { allow_experimental_low_cardinality_type: 1 };

async function createDatabase(client: ClickHouseClient): Promise<void> {
  await client.command({ query: "CREATE DATABASE IF NOT EXISTS signoz_traces" });
}

/**
 * `signoz_traces.signoz_index_v2` as SigNoz's schema migrator creates it
 * (SigNoz/signoz-otel-collector, cmd/signozschemamigrator/schema_migrator/
 * squashed_traces_migrations.go, migration 1; first written in
 * exporter/clickhousetracesexporter/migrations/000007_init_signoz_index_v2.up.sql), the columns
 * ClickHouse 18.16 can hold: the tag and resource maps and several attribute columns are left
 * out. SigNoz declares `timestamp DateTime64(9)` and `hasError Bool`; 18.16 has neither type
 * (DateTime64 came in 20.1, Bool in 21.12), so this table uses DateTime (seconds) and UInt8,
 * which the poller's query treats the same way. SigNoz's CODECs, skip indexes, projection, TTL
 * and its longer sort key are left out too: 18.16 parses none of them.
 */
export async function createSignozIndexV2(
  client: ClickHouseClient,
  table = "signoz_traces.signoz_index_v2",
): Promise<void> {
  await createDatabase(client);
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
    clickhouse_settings: LOW_CARDINALITY,
  });
}

/** ClickHouse 18.16's stand-in for SigNoz's `m['key']` on a `Map` column (see below). */
const lookup = (map: string, key: string) => `\`${map}.value\`[indexOf(\`${map}.key\`, '${key}')]`;

/**
 * `signoz_traces.signoz_index_v3` as SigNoz's schema migrator creates it today
 * (SigNoz/signoz-otel-collector, cmd/signozschemamigrator/schema_migrator/traces_migrations.go,
 * migration 1000): every column, DEFAULT and ALIAS of that migration, in order, with what
 * ClickHouse 18.16 lacks replaced:
 * - `timestamp DateTime64(9)` is `DateTime` (seconds): 18.16 has no DateTime64.
 * - `Bool` (`has_error`, the `attributes_bool` values, the `hasError` alias) is `UInt8`.
 * - each `Map(LowCardinality(String), T)` (`attributes_string`, `attributes_number`,
 *   `attributes_bool`, `resources_string`) is two arrays `<map>.key` and `<map>.value`, and the
 *   DEFAULT `resources_string['service.name']` of `resource_string_service$$name` (and of the
 *   `attribute_string_*$$*` columns) reads the value at the key's index instead. As in SigNoz, the
 *   inserts leave these columns out and ClickHouse fills them from the maps.
 * - names with `$$` are backticked: SigNoz's generator writes them bare, which 18.16 rejects.
 * - the CODECs, the 21 skip indexes, the TTL and `ttl_only_drop_parts` are left out (18.16 parses
 *   none of them), and so are the columns later migrations add (1005 `*_exists` Bool columns,
 *   1006/1009/1012 JSON columns, 1014 `inserted_at`/`created_at` DateTime64(3)), none of which
 *   the poller reads. Engine, partition and sort key are SigNoz's.
 */
export async function createSignozIndexV3(
  client: ClickHouseClient,
  table = "signoz_traces.signoz_index_v3",
): Promise<void> {
  await createDatabase(client);
  const lowCardinality = (name: string) => `${name} LowCardinality(String)`;
  const fromMap = (column: string, map: string, key: string) =>
    `\`${column}\` LowCardinality(String) DEFAULT ${lookup(map, key)}`;
  const columns = [
    "ts_bucket_start UInt64",
    "resource_fingerprint String",
    "timestamp DateTime",
    "trace_id FixedString(32)",
    "span_id String",
    "trace_state String",
    "parent_span_id String",
    "flags UInt32",
    lowCardinality("name"),
    "kind Int8",
    "kind_string String",
    "duration_nano UInt64",
    "status_code Int16",
    "status_message String",
    "status_code_string String",
    "`attributes_string.key` Array(String)",
    "`attributes_string.value` Array(String)",
    "`attributes_number.key` Array(String)",
    "`attributes_number.value` Array(Float64)",
    "`attributes_bool.key` Array(String)",
    "`attributes_bool.value` Array(UInt8)",
    "`resources_string.key` Array(String)",
    "`resources_string.value` Array(String)",
    "events Array(String)",
    "links String",
    ...[
      "response_status_code",
      "external_http_url",
      "http_url",
      "external_http_method",
      "http_method",
      "http_host",
      "db_name",
      "db_operation",
    ].map(lowCardinality),
    "has_error UInt8",
    lowCardinality("is_remote"),
    fromMap("resource_string_service$$name", "resources_string", "service.name"),
    fromMap("attribute_string_http$$route", "attributes_string", "http.route"),
    fromMap("attribute_string_messaging$$system", "attributes_string", "messaging.system"),
    fromMap("attribute_string_messaging$$operation", "attributes_string", "messaging.operation"),
    fromMap("attribute_string_db$$system", "attributes_string", "db.system"),
    fromMap("attribute_string_rpc$$system", "attributes_string", "rpc.system"),
    fromMap("attribute_string_rpc$$service", "attributes_string", "rpc.service"),
    fromMap("attribute_string_rpc$$method", "attributes_string", "rpc.method"),
    fromMap("attribute_string_peer$$service", "attributes_string", "peer.service"),
    // ALIAS columns SigNoz keeps for queries written against signoz_index_v2
    "traceID FixedString(32) ALIAS trace_id",
    "spanID String ALIAS span_id",
    "parentSpanID String ALIAS parent_span_id",
    "spanKind String ALIAS kind_string",
    "durationNano UInt64 ALIAS duration_nano",
    "statusCode Int16 ALIAS status_code",
    "statusMessage String ALIAS status_message",
    "statusCodeString String ALIAS status_code_string",
    "references String ALIAS links",
    "responseStatusCode LowCardinality(String) ALIAS response_status_code",
    "externalHttpUrl LowCardinality(String) ALIAS external_http_url",
    "httpUrl LowCardinality(String) ALIAS http_url",
    "externalHttpMethod LowCardinality(String) ALIAS external_http_method",
    "httpMethod LowCardinality(String) ALIAS http_method",
    "httpHost LowCardinality(String) ALIAS http_host",
    "dbName LowCardinality(String) ALIAS db_name",
    "dbOperation LowCardinality(String) ALIAS db_operation",
    "hasError UInt8 ALIAS has_error",
    "isRemote LowCardinality(String) ALIAS is_remote",
    "serviceName LowCardinality(String) ALIAS `resource_string_service$$name`",
    "httpRoute LowCardinality(String) ALIAS `attribute_string_http$$route`",
    "msgSystem LowCardinality(String) ALIAS `attribute_string_messaging$$system`",
    "msgOperation LowCardinality(String) ALIAS `attribute_string_messaging$$operation`",
    "dbSystem LowCardinality(String) ALIAS `attribute_string_db$$system`",
    "rpcSystem LowCardinality(String) ALIAS `attribute_string_rpc$$system`",
    "rpcService LowCardinality(String) ALIAS `attribute_string_rpc$$service`",
    "rpcMethod LowCardinality(String) ALIAS `attribute_string_rpc$$method`",
    "peerService LowCardinality(String) ALIAS `attribute_string_peer$$service`",
  ];
  await client.command({
    query: `CREATE TABLE ${table} (
      ${columns.join(",\n      ")}
    ) ENGINE = MergeTree
    PARTITION BY toDate(timestamp)
    ORDER BY (ts_bucket_start, resource_fingerprint, has_error, name, timestamp)
    SETTINGS index_granularity = 8192`,
    clickhouse_settings: LOW_CARDINALITY,
  });
}

/**
 * SigNoz's `distributed_<table>` over the local one on `cluster`, sharded as its migrations do
 * (`cityHash64(trace_id)` for v3, `cityHash64(traceID)` for v2). SigNoz lists the local table's
 * columns again; `AS <local>` copies them, DEFAULT and ALIAS included.
 */
export async function createDistributedTable(
  client: ClickHouseClient,
  options: { cluster: string; local: string; schema: TraceSchema },
): Promise<string> {
  const [database, name] = options.local.split(".");
  const distributed = `${database}.distributed_${name}`;
  const key = options.schema === "v3" ? "trace_id" : "traceID";
  await client.command({
    query: `CREATE TABLE ${distributed} AS ${options.local}
      ENGINE = Distributed('${options.cluster}', ${database}, ${name}, cityHash64(${key}))`,
    clickhouse_settings: LOW_CARDINALITY,
  });
  return distributed;
}

/** One span, in the v2 table's columns (the v3 row is derived from it). */
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

/**
 * The span as SigNoz's v3 exporter writes it (signoz-otel-collector,
 * exporter/clickhousetracesexporter/clickhouse_exporter_v3.go): the service name only in the
 * resource map, `ts_bucket_start` the start second floored to 1800 s.
 */
function v3Row(span: SpanRow): Record<string, unknown> {
  const startSeconds = Math.floor(Date.parse(span.timestamp) / 1_000);
  return {
    ts_bucket_start: Math.floor(startSeconds / 1_800) * 1_800,
    resource_fingerprint: `service.name=${span.serviceName}`,
    timestamp: span.timestamp,
    trace_id: span.traceID,
    span_id: span.spanID,
    parent_span_id: span.parentSpanID,
    name: span.name,
    kind: span.kind,
    kind_string: "Server",
    duration_nano: span.durationNano,
    status_code: span.statusCode,
    status_message: span.statusMessage,
    status_code_string: span.statusCode === 2 ? "Error" : "Unset",
    "attributes_string.key": ["http.method", "http.route", "http.url"],
    "attributes_string.value": [span.httpMethod, span.httpRoute, span.httpUrl],
    "resources_string.key": ["service.name", "host.name"],
    "resources_string.value": [span.serviceName, `${span.serviceName}-0`],
    response_status_code: span.responseStatusCode,
    http_url: span.httpUrl,
    http_method: span.httpMethod,
    http_host: span.httpHost,
    has_error: span.hasError,
  };
}

/** `rows` into `table` in the columns of its `schema`; `settings` go along with the INSERT. */
export async function insertSpans(
  client: ClickHouseClient,
  table: string,
  schema: TraceSchema,
  rows: SpanRow[],
  settings: ClickHouseSettings = {},
): Promise<void> {
  // ISO 8601 timestamps; 18.16 parses only "YYYY-MM-DD hh:mm:ss" without this.
  const clickhouse_settings: ClickHouseSettings = { date_time_input_format: "best_effort", ...settings };
  if (schema === "v2") {
    await client.insert({ table, values: rows, format: "JSONEachRow", clickhouse_settings });
    return;
  }
  const values = rows.map(v3Row);
  const [first] = values;
  if (first === undefined) return;
  // Named columns: the ones left out get their DEFAULT, the service name among them.
  const [column, ...more] = Object.keys(first);
  if (column === undefined) return;
  await client.insert({
    table,
    values,
    format: "JSONEachRow",
    columns: [column, ...more],
    clickhouse_settings,
  });
}

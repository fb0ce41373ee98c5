// Which SigNoz trace table the poller reads, on the installs it meets: none, an older SigNoz (v2),
// one upgraded to v3, a cluster's distributed v3 table, and SIGNOZ_TRACES_TABLE set by hand; and
// the figures per service each schema's query gives. Against a private ClickHouse 18.16 that knows
// a one-node cluster named `cluster`, as SigNoz's migrations expect (test/support/signoz-spans.ts
// says how its tables differ from SigNoz's).
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from "@clickhouse/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  clickhouseSpanStats,
  findTracesTable,
  NoTracesTableError,
  spanStatsQuery,
  type TracesTable,
} from "../../gateways/signoz-spans.js";
import type { ServiceWindowStats } from "../../domain/signoz.js";
import { DEFAULT_SIGNOZ_THRESHOLDS, detectSignozAnomalies } from "../../handlers/detect-signoz-anomalies.js";
import { startClickHouse, type ClickHouseProcess } from "../support/clickhouse.js";
import {
  createDistributedTable,
  createSignozIndexV2,
  createSignozIndexV3,
  insertSpans,
  spans,
  type SpanRow,
} from "../support/signoz-spans.js";

const CLUSTER = "cluster";
const V3 = "signoz_traces.signoz_index_v3";
const V3_DISTRIBUTED = "signoz_traces.distributed_signoz_index_v3";
const V2 = "signoz_traces.signoz_index_v2";

let clickhouse: ClickHouseProcess;
let client: ClickHouseClient;

beforeAll(async () => {
  clickhouse = await startClickHouse({ cluster: CLUSTER });
  // the failures these tests provoke are asserted, not printed by the client's own logger
  client = createClient({ url: clickhouse.url, log: { level: ClickHouseLogLevel.OFF } });
});
afterAll(async () => {
  await client.close();
  await clickhouse.stop();
});
// every test builds the install it needs
beforeEach(async () => {
  await client.command({ query: "DROP DATABASE IF EXISTS signoz_traces" });
});

/** An error burst, a slow p99 and a traffic drop among healthy services. */
function troubledServices(): SpanRow[] {
  return [
    ...spans("checkout", 200, { errors: 10 }),
    ...spans("checkout", 200, { window: "previous" }),
    ...spans("payments", 100, { errors: 25 }),
    ...spans("payments", 100, { window: "previous" }),
    ...spans("search", 100, { slow: 5, slowMs: 3_000 }),
    ...spans("search", 100, { window: "previous" }),
    ...spans("inventory", 10),
    ...spans("inventory", 500, { window: "previous" }),
  ];
}

const TROUBLES = ["inventory:traffic_drop:firing", "payments:error_rate:firing", "search:latency:firing"];

function troubles(stats: ServiceWindowStats[]): string[] {
  const { anomalies } = detectSignozAnomalies(stats, DEFAULT_SIGNOZ_THRESHOLDS);
  return anomalies.map(({ service, kind, status }) => `${service}:${kind}:${status}`);
}

/** A source that also keeps what it told the log. */
function source(table?: string) {
  const told: TracesTable[] = [];
  const spans = clickhouseSpanStats(client, {
    ...(table === undefined ? {} : { table }),
    onTable: (traces) => told.push(traces),
  });
  return { spans, told };
}

describe("finding the trace table", () => {
  it("finds none on a ClickHouse without SigNoz, says so in each poll, and reads the table once it appears", async () => {
    const { spans: source_, told } = source();
    const none = {
      found: false,
      reason:
        "none of signoz_traces.distributed_signoz_index_v3, signoz_traces.signoz_index_v3, " +
        "signoz_traces.distributed_signoz_index_v2, signoz_traces.signoz_index_v2 exists",
    };
    expect(await source_.discover()).toEqual(none);
    const failed = source_.windowStats();
    await expect(failed).rejects.toBeInstanceOf(NoTracesTableError);
    await expect(failed).rejects.toThrow(`no SigNoz trace table found (${none.reason})`);
    // the database alone is not SigNoz's tables
    await client.command({ query: "CREATE DATABASE signoz_traces" });
    await client.command({ query: "CREATE TABLE signoz_traces.notes (id UInt8) ENGINE = Memory" });
    await expect(source_.windowStats()).rejects.toThrow("no SigNoz trace table found");
    // SigNoz installed meanwhile: the next poll finds its table without a restart
    await createSignozIndexV3(client, V3);
    await insertSpans(client, V3, "v3", troubledServices());
    expect(troubles(await source_.windowStats())).toEqual(TROUBLES);
    // the log heard each change once, not each poll
    expect(told).toEqual([none, { found: true, table: V3, schema: "v3", chosenBy: "detected" }]);
  });

  it("reads an older SigNoz's signoz_index_v2 with v2's columns and finds the anomalies", async () => {
    await createSignozIndexV2(client, V2);
    await insertSpans(client, V2, "v2", troubledServices());
    const { spans: v2, told } = source();
    const stats = await v2.windowStats();
    expect(told).toEqual([{ found: true, table: V2, schema: "v2", chosenBy: "detected" }]);
    expect(stats.find((row) => row.service === "payments")).toMatchObject({
      spans: 100,
      traces: 100,
      errors: 25,
      previousSpans: 100,
    });
    expect(troubles(stats)).toEqual(TROUBLES);
  });

  it("reads signoz_index_v3 once SigNoz is upgraded, though v2 is still there", async () => {
    // v2 keeps what the old exporter wrote; the current one writes only v3
    await createSignozIndexV2(client, V2);
    await insertSpans(client, V2, "v2", spans("legacy", 50, { errors: 40 }));
    await createSignozIndexV3(client, V3);
    await insertSpans(client, V3, "v3", troubledServices());
    const { spans: v3, told } = source();
    const stats = await v3.windowStats();
    expect(told).toEqual([{ found: true, table: V3, schema: "v3", chosenBy: "detected" }]);
    expect(stats.map((row) => row.service)).toEqual(["checkout", "inventory", "payments", "search"]);
    expect(stats.find((row) => row.service === "payments")).toMatchObject({
      spans: 100,
      traces: 100,
      errors: 25,
      previousSpans: 100,
    });
    const checkout = stats.find((row) => row.service === "checkout");
    expect(checkout?.errors).toBe(10);
    expect(checkout?.avgLatencyMs).toBeCloseTo(20, 3);
    expect(stats.find((row) => row.service === "search")?.p99LatencyMs).toBeGreaterThan(2_000);
    expect(troubles(stats)).toEqual(TROUBLES);
  });

  it("reads distributed_signoz_index_v3 on a cluster, where SigNoz's exporter writes", async () => {
    await createSignozIndexV3(client, V3);
    expect(await createDistributedTable(client, { cluster: CLUSTER, local: V3, schema: "v3" })).toBe(
      V3_DISTRIBUTED,
    );
    // written through the distributed table as the exporter does; synchronously, so the test need
    // not wait for ClickHouse's background sends to the shard
    await insertSpans(client, V3_DISTRIBUTED, "v3", troubledServices(), { insert_distributed_sync: 1 });
    const { spans: distributed, told } = source();
    const stats = await distributed.windowStats();
    expect(told).toEqual([{ found: true, table: V3_DISTRIBUTED, schema: "v3", chosenBy: "detected" }]);
    expect(troubles(stats)).toEqual(TROUBLES);
    // the same figures as the shard's own table
    expect(stats).toEqual(await clickhouseSpanStats(client, { table: V3 }).windowStats());
  });

  it("reads the table SIGNOZ_TRACES_TABLE names, with the schema its columns show", async () => {
    await createSignozIndexV3(client, V3);
    await insertSpans(client, V3, "v3", spans("current", 20));
    await createSignozIndexV2(client, V2);
    await insertSpans(client, V2, "v2", troubledServices());
    const { spans: forced, told } = source(V2);
    expect(troubles(await forced.windowStats())).toEqual(TROUBLES);
    expect(told).toEqual([{ found: true, table: V2, schema: "v2", chosenBy: "SIGNOZ_TRACES_TABLE" }]);
    // a v3 table under a name of the operator's own
    const renamed = "signoz_traces.spans_copy";
    await createSignozIndexV3(client, renamed);
    await insertSpans(client, renamed, "v3", troubledServices());
    expect(await findTracesTable(client, renamed)).toEqual({
      found: true,
      table: renamed,
      schema: "v3",
      chosenBy: "SIGNOZ_TRACES_TABLE",
    });
    expect(troubles(await clickhouseSpanStats(client, { table: renamed }).windowStats())).toEqual(TROUBLES);
  });

  it("says what is wrong with the table SIGNOZ_TRACES_TABLE names, and never looks elsewhere", async () => {
    await createSignozIndexV3(client, V3);
    expect(await findTracesTable(client, "signoz_traces.signoz_index_v4")).toEqual({
      found: false,
      reason: "SIGNOZ_TRACES_TABLE names signoz_traces.signoz_index_v4, which does not exist",
    });
    await client.command({ query: "CREATE TABLE signoz_traces.notes (id UInt8) ENGINE = Memory" });
    await expect(clickhouseSpanStats(client, { table: "signoz_traces.notes" }).windowStats()).rejects.toThrow(
      "no SigNoz trace table found (SIGNOZ_TRACES_TABLE names signoz_traces.notes, which has neither " +
        "SigNoz's v3 nor its v2 span columns)",
    );
  });

  it("looks again when a poll fails, and reads the table there is now in the same poll", async () => {
    await createSignozIndexV3(client, V3);
    await createDistributedTable(client, { cluster: CLUSTER, local: V3, schema: "v3" });
    await insertSpans(client, V3, "v3", troubledServices());
    const { spans: moving, told } = source();
    expect(troubles(await moving.windowStats())).toEqual(TROUBLES);
    await client.command({ query: `DROP TABLE ${V3_DISTRIBUTED}` });
    expect(troubles(await moving.windowStats())).toEqual(TROUBLES);
    expect(told.map((traces) => (traces.found ? traces.table : traces.reason))).toEqual([V3_DISTRIBUTED, V3]);
    // and when no table is left, the poll that finds out says so, and so does every later one
    await client.command({ query: `DROP TABLE ${V3}` });
    await expect(moving.windowStats()).rejects.toThrow("no SigNoz trace table found (none of");
    await expect(moving.windowStats()).rejects.toThrow("no SigNoz trace table found (none of");
    expect(told).toHaveLength(3);
    expect(told[2]).toMatchObject({ found: false });
  });
});

describe("one query per schema", () => {
  it("names only v3 columns for v3 and only v2 columns for v2", () => {
    // v3 keeps v2's names as ALIAS columns, so a v3 query using them would still run on v3: only
    // the text can show it does not
    const word = (name: string) => new RegExp(`\\b${name.replaceAll("$", "\\$")}\\b`);
    const v3 = spanStatsQuery(V3_DISTRIBUTED, "v3");
    for (const v2Name of ["serviceName", "traceID", "durationNano", "hasError"])
      expect(v3).not.toMatch(word(v2Name));
    expect(v3).toContain("`resource_string_service$$name`");
    expect(v3).toContain("ts_bucket_start >= toUInt64(toUnixTimestamp(now() - INTERVAL 10 MINUTE)) - 1800");
    const v2 = spanStatsQuery(V2, "v2");
    for (const v3Name of [
      "resource_string_service",
      "trace_id",
      "duration_nano",
      "has_error",
      "ts_bucket_start",
    ])
      expect(v2).not.toMatch(word(v3Name));
  });

  it("takes no table name that is not database.table", () => {
    expect(() => spanStatsQuery("signoz_traces.x; DROP TABLE y", "v3")).toThrow("not a database.table name");
  });
});

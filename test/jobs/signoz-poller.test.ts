// The SigNoz poller against a private ClickHouse server holding SigNoz's current trace table
// (signoz_index_v3, as test/support/signoz-spans.ts builds it), real Redis and PostgreSQL, and
// (end to end) the whole bot with the Telegram emulator. Which table is found on which install is
// tested in test/gateways/signoz-spans.test.ts.
import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getIncident } from "../../db/incidents.js";
import { DEFAULT_SIGNOZ_THRESHOLDS, detectSignozAnomalies } from "../../handlers/detect-signoz-anomalies.js";
import { scheduleSignozPoll, signozPollProcessor, type SignozPollDeps } from "../../jobs/signoz-poller.js";
import { clickhouseSpanStats, openSignozSpans } from "../../gateways/signoz-spans.js";
import { IngestJobSchema, QUEUE_NAMES, type IngestJob } from "../../jobs/queues.js";
import { startClickHouse, type ClickHouseProcess } from "../support/clickhouse.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { createSignozIndexV2, createSignozIndexV3, insertSpans, spans } from "../support/signoz-spans.js";
import { CHAT_ID, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import { SignozFiringSet } from "../../kv/signoz-firing.js";
import { pino, type Logger } from "pino";
import { chatUser } from "../support/chat-user.js";

let clickhouse: ClickHouseProcess;
let client: ClickHouseClient;
let redis: Redis;
const prefixes: string[] = [];
/** Where a current SigNoz writes spans (on a single node; the distributed table is tested elsewhere). */
const V3_TABLE = "signoz_traces.signoz_index_v3";

function prefix(): string {
  const value = uniquePrefix();
  prefixes.push(value);
  return value;
}

beforeAll(async () => {
  clickhouse = await startClickHouse();
  client = createClient({ url: clickhouse.url });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  await createSignozIndexV3(client, V3_TABLE);
  await insertSpans(client, V3_TABLE, "v3", [
    // healthy: steady volume, fast, exactly the threshold of errors (not above it)
    ...spans("checkout", 200, { errors: 10 }),
    ...spans("checkout", 200, { window: "previous" }),
    // 25 failing spans out of 100
    ...spans("payments", 100, { errors: 25 }),
    ...spans("payments", 100, { window: "previous" }),
    // 5 of 100 spans take 3 s: p99 well above 2 s, average still low
    ...spans("search", 100, { slow: 5, slowMs: 3_000 }),
    ...spans("search", 100, { window: "previous" }),
    // 500 spans, then 10: the service may be down
    ...spans("inventory", 10),
    ...spans("inventory", 500, { window: "previous" }),
    // a drop, but from a volume too small to mean anything
    ...spans("cron", 2),
    ...spans("cron", 20, { window: "previous" }),
  ]);
});

afterAll(async () => {
  await client.close();
  redis.disconnect();
  await clickhouse.stop();
  for (const value of prefixes) await deleteKeys(value);
});

describe("detecting anomalies in SigNoz spans", () => {
  it("measures each service over the last 5 minutes and the 5 before", async () => {
    const stats = await clickhouseSpanStats(client).windowStats();
    const byService = Object.fromEntries(stats.map(({ service, ...rest }) => [service, rest]));
    expect(Object.keys(byService)).toEqual(["checkout", "cron", "inventory", "payments", "search"]);
    expect(byService.payments).toMatchObject({ spans: 100, traces: 100, errors: 25, previousSpans: 100 });
    expect(byService.inventory).toMatchObject({ spans: 10, errors: 0, previousSpans: 500 });
    expect(byService.checkout?.avgLatencyMs).toBeCloseTo(20, 3);
    expect(byService.search?.p99LatencyMs).toBeGreaterThan(2_000);
    expect(byService.search?.avgLatencyMs).toBeLessThan(200);
  });

  it("finds exactly the error burst, the slow p99 and the traffic drop", async () => {
    const stats = await clickhouseSpanStats(client).windowStats();
    const { anomalies, firing } = detectSignozAnomalies(stats, DEFAULT_SIGNOZ_THRESHOLDS);
    expect(anomalies.map(({ service, kind, status }) => ({ service, kind, status }))).toEqual([
      { service: "inventory", kind: "traffic_drop", status: "firing" },
      { service: "payments", kind: "error_rate", status: "firing" },
      { service: "search", kind: "latency", status: "firing" },
    ]);
    expect(anomalies[0]).toMatchObject({ threshold: 0.8, baselineSpans: 500 });
    expect(anomalies[1]).toMatchObject({ threshold: 10, stats: { errors: 25 } });
    expect(anomalies[2]).toMatchObject({ threshold: 2_000 });
    expect(firing).toEqual([
      { service: "inventory", kind: "traffic_drop", baselineSpans: 500 },
      { service: "payments", kind: "error_rate" },
      { service: "search", kind: "latency" },
    ]);
  });

  it("does not count errors at or below the threshold as an anomaly", async () => {
    const stats = await clickhouseSpanStats(client).windowStats();
    const checkout = stats.find((row) => row.service === "checkout");
    expect(checkout?.errors).toBe(10);
    const { anomalies } = detectSignozAnomalies(stats, { ...DEFAULT_SIGNOZ_THRESHOLDS, errorCount: 25 });
    expect(anomalies.filter((anomaly) => anomaly.kind === "error_rate")).toEqual([]);
    const lower = detectSignozAnomalies(stats, { ...DEFAULT_SIGNOZ_THRESHOLDS, errorCount: 9 });
    expect(lower.anomalies.filter((a) => a.kind === "error_rate").map((a) => a.service)).toEqual([
      "checkout",
      "payments",
    ]);
  });
});

describe("the poll job", () => {
  let ingest: Queue<IngestJob>;
  let keyPrefix: string;
  let deps: SignozPollDeps;

  beforeAll(() => {
    keyPrefix = prefix();
    ingest = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: keyPrefix });
    deps = {
      spans: clickhouseSpanStats(client),
      ingest,
      firing: new SignozFiringSet(redis, keyPrefix),
      thresholds: DEFAULT_SIGNOZ_THRESHOLDS,
    };
  });
  afterAll(async () => {
    await ingest.close();
  });

  it("adds one ingest job holding every anomaly, once per poll job", async () => {
    const poll = signozPollProcessor(deps);
    const result = await poll({ id: "repeat:signoz-poll:1" });
    // BullMQ runs a stalled job again: the ingest job id is derived from the poll job's
    await poll({ id: "repeat:signoz-poll:1" });
    expect(result).toEqual({
      services: 5,
      firing: 3,
      resolved: 0,
      ingestJobId: "signoz-repeat-signoz-poll-1",
    });
    expect(await ingest.getJobCounts("waiting")).toEqual({ waiting: 1 });
    const job = await ingest.getJob(result.ingestJobId ?? "");
    const data = IngestJobSchema.parse(job?.data);
    expect(data.source).toBe("signoz");
    if (data.source !== "signoz") return;
    expect(data.anomalies.map((anomaly) => `${anomaly.service}:${anomaly.kind}`)).toEqual([
      "inventory:traffic_drop",
      "payments:error_rate",
      "search:latency",
    ]);
  });

  it("adds nothing when nothing is anomalous and nothing was firing", async () => {
    const quiet = prefix();
    const thresholds = {
      ...DEFAULT_SIGNOZ_THRESHOLDS,
      errorCount: 1_000,
      p99LatencyMs: 60_000,
      minPreviousSpans: 10_000,
    };
    const result = await signozPollProcessor({
      ...deps,
      firing: new SignozFiringSet(redis, quiet),
      thresholds,
    })({ id: "quiet-1" });
    expect(result).toEqual({ services: 5, firing: 0, resolved: 0 });
    expect(await ingest.getJob("signoz-quiet-1")).toBeUndefined();
  });

  it("resolves what fired in the previous poll and is healthy now", async () => {
    const own = { ...deps, firing: new SignozFiringSet(redis, prefix()) };
    expect(await signozPollProcessor(own)({ id: "before" })).toMatchObject({ firing: 3, resolved: 0 });
    // As if payments had recovered: its 25 errors are no longer above the threshold.
    const relaxed = signozPollProcessor({
      ...own,
      thresholds: { ...DEFAULT_SIGNOZ_THRESHOLDS, errorCount: 50 },
    });
    const recovered = await relaxed({ id: "recovered" });
    expect(recovered).toMatchObject({ firing: 2, resolved: 1 });
    const data = IngestJobSchema.parse((await ingest.getJob(recovered.ingestJobId ?? ""))?.data);
    if (data.source !== "signoz") throw new Error(`unexpected ${data.source} job`);
    expect(data.anomalies.find((anomaly) => anomaly.status === "resolved")).toMatchObject({
      service: "payments",
      kind: "error_rate",
    });
    // Resolved once: the next poll does not resolve it again.
    expect(await relaxed({ id: "recovered-again" })).toMatchObject({ firing: 2, resolved: 0 });
  });

  it("runs on one BullMQ job scheduler however many pollers start", async () => {
    const keyPrefix = prefix();
    const target = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: keyPrefix });
    // A poller as each worker process runs it (app/workers.ts): its schedule, and a worker.
    const startSignozPoller = async () => {
      const queue = new Queue(QUEUE_NAMES.signozPoll, { connection: redis, prefix: keyPrefix });
      const signoz = openSignozSpans(clickhouse.url);
      await scheduleSignozPoll(queue, 60_000);
      const processor = signozPollProcessor({
        spans: signoz.spans,
        ingest: target,
        firing: new SignozFiringSet(redis, keyPrefix),
        thresholds: DEFAULT_SIGNOZ_THRESHOLDS,
      });
      const worker = new Worker(QUEUE_NAMES.signozPoll, processor, {
        connection: redis,
        prefix: keyPrefix,
        concurrency: 1,
      });
      return {
        async close() {
          await worker.close();
          await queue.close();
          await signoz.close();
        },
      };
    };
    const first = await startSignozPoller();
    const second = await startSignozPoller();
    try {
      await expect.poll(() => target.getJobCountByTypes("waiting"), { timeout: 5_000 }).toBe(1);
      // and no second poll right behind it from the second upsert
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await target.getJobCountByTypes("waiting")).toBe(1);
      const polls = new Queue(QUEUE_NAMES.signozPoll, { connection: redis, prefix: keyPrefix });
      const schedulers = await polls.getJobSchedulers();
      await polls.close();
      expect(schedulers.map((scheduler) => [scheduler.key, scheduler.every])).toEqual([
        ["signoz-poll", 60_000],
      ]);
      const [job] = await target.getJobs(["waiting"]);
      expect(job?.data.source).toBe("signoz");
    } finally {
      await first.close();
      await second.close();
      await target.close();
    }
  });
});

describe("end to end: SigNoz errors become an incident card", () => {
  // an older SigNoz's schema, under a name only SIGNOZ_TRACES_TABLE would find
  const table = "signoz_traces.e2e_index_v2";
  let stack: Stack;
  let poll: ReturnType<typeof signozPollProcessor>;

  beforeAll(async () => {
    await createSignozIndexV2(client, table);
    await insertSpans(client, table, "v2", [
      ...spans("orders", 80, { errors: 25 }),
      ...spans("orders", 80, { window: "previous" }),
    ]);
    stack = await startStack({
      env: { PUBLIC_SIGNOZ_URL: "https://signoz.example.com" },
      // Telegram's flood limits lifted: this file is about the SigNoz poller, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      telegram: { groupPerMinute: 1_000 },
    });
    // This stack polls nothing by itself; the test runs the processor on its own table, one poll at a time.
    poll = signozPollProcessor({
      spans: clickhouseSpanStats(client, { table }),
      ingest: stack.runtime.queues.ingest,
      firing: new SignozFiringSet(stack.runtime.redis, stack.prefix),
      thresholds: DEFAULT_SIGNOZ_THRESHOLDS,
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  let incidentId = "";

  it("posts one card for the failing service", async () => {
    expect(await poll({ id: "e2e-1" })).toMatchObject({ firing: 1 });
    const [card] = await waitForChat(stack.telegram, (messages) => messages.length === 1);
    expect(card?.text).toContain("SigNozErrorRate");
    expect(card?.text).toContain("orders");
    expect(card?.text).toContain("25 errors in 80 spans");
    incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    const incident = await getIncident(stack.db.pool, incidentId);
    expect(incident).toMatchObject({ source: "signoz", severity: "P1", service: "orders", occurrences: 1 });
    expect(incident?.links).toEqual([
      { label: "SigNoz Service", url: "https://signoz.example.com/services/orders" },
    ]);
  });

  it("deduplicates the next poll of the same anomaly into the same incident, editing the card", async () => {
    await poll({ id: "e2e-2" });
    const messages = await waitForChat(stack.telegram, (all) => /2 occurrences/.test(all[0]?.text ?? ""));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.editCount).toBeGreaterThanOrEqual(1);
    expect(stack.telegram.callsOf("sendMessage")).toHaveLength(1);
    expect(await getIncident(stack.db.pool, incidentId)).toMatchObject({ occurrences: 2 });
  });

  it("resolves the incident once the service is healthy again", async () => {
    await client.command({ query: `TRUNCATE TABLE ${table}` });
    await insertSpans(client, table, "v2", spans("orders", 80));
    expect(await poll({ id: "e2e-3" })).toMatchObject({ firing: 0, resolved: 1 });
    const [card] = await waitForChat(stack.telegram, (all) => /RESOLVED/.test(all[0]?.text ?? ""));
    // nothing left to decide; only the drill-down stays
    expect((card?.reply_markup?.inline_keyboard.flat() ?? []).map((button) => button.text)).toEqual([
      "🔎 Details",
    ]);
    expect(stack.telegram.messages(CHAT_ID)).toHaveLength(1);
    expect((await getIncident(stack.db.pool, incidentId))?.status).toBe("resolved");
  });
});

/** A logger that keeps its JSON lines, to read what an operator would see. */
function keptLog(): {
  logger: Logger;
  lines: () => { level: number; msg: string; [key: string]: unknown }[];
} {
  const kept: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void kept.push(line) });
  return { logger, lines: () => kept.map((line) => JSON.parse(line) as { level: number; msg: string }) };
}

const OPERATOR = 1001;

describe("the runtime's own poller", () => {
  it("finds SigNoz's v3 table, says so in the log and in /status, polls it, and a card follows", async () => {
    const log = keptLog();
    const stack = await startStack({
      env: { SIGNOZ_CLICKHOUSE_URL: clickhouse.url },
      // Telegram's flood limits lifted: this file is about the SigNoz poller, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      telegram: { groupPerMinute: 1_000 },
      logger: log.logger,
    });
    try {
      // the v3 table holds the payments error burst seeded above
      const messages = await waitForChat(
        stack.telegram,
        (all) => all.some((m) => m.text.includes("payments")),
        15_000,
      );
      expect(messages.find((m) => m.text.includes("payments"))?.text).toContain("SigNozErrorRate");
      // said once at start-up, not again by each poll
      expect(log.lines().filter((line) => line.msg.startsWith("signoz traces"))).toEqual([
        expect.objectContaining({
          level: 30,
          msg: "signoz traces: signoz_traces.signoz_index_v3 (v3 schema, detected)",
          table: "signoz_traces.signoz_index_v3",
          schema: "v3",
        }),
      ]);
      const status = await chatUser(() => stack, OPERATOR).say("/status", (m) => m.text.includes("Status"));
      expect(status.text).toContain("🟢 SigNoz: reading signoz_traces.signoz_index_v3 (v3 schema, detected)");
    } finally {
      await stack.close();
    }
  });

  it("says plainly in the log, in each failed poll and in /status when there is no trace table to read", async () => {
    const log = keptLog();
    const stack = await startStack({
      env: { SIGNOZ_CLICKHOUSE_URL: clickhouse.url, SIGNOZ_TRACES_TABLE: "signoz_traces.signoz_index_v4" },
      logger: log.logger,
    });
    const expected =
      "no SigNoz trace table found (SIGNOZ_TRACES_TABLE names signoz_traces.signoz_index_v4, which does not exist)";
    try {
      expect(log.lines()).toContainEqual(
        expect.objectContaining({ level: 40, msg: `signoz traces: ${expected}` }),
      );
      await expect
        .poll(
          () =>
            log
              .lines()
              .filter((line) => line.msg === "job failed")
              .map((line) => line.err),
          {
            timeout: 5_000,
          },
        )
        .toContain(expected);
      const status = await chatUser(() => stack, OPERATOR).say("/status", (m) => m.text.includes("Status"));
      expect(status.text).toContain(`🟠 SigNoz: ${expected}`);
    } finally {
      await stack.close();
    }
  });
});

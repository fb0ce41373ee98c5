// The ingest queue's card requests, on real Redis, BullMQ and PostgreSQL. An opening, reopening or
// resolution asks for its card at once, repeats 2 s later. While an incident's card job of a kind
// still waits, deliveries that touch it again queue no second one (the waiting job reads the
// incident when it runs); once one has started, a change queues a job of its own, and one made
// before the worker let go of the first is kept by BullMQ and shown by one job after it. A P0's card
// never waits behind a P2 job, and a job's second run shows its cards at once.
import { Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { createMetrics } from "../../gateways/metrics.js";
import { ANALYSIS_DELAY_MS, ingestProcessor, REPEAT_CARD_DELAY_MS } from "../../jobs/ingest.processor.js";
import {
  createQueues,
  queuePrefix,
  REPEAT_CARD_JOB,
  type IngestJob,
  type NotifyJob,
  type Queues,
} from "../../jobs/queues.js";
import { notifyProcessor } from "../../jobs/notify.processor.js";
import { CardLocks } from "../../kv/card-lock.js";
import { DedupWindow } from "../../kv/dedup.js";

const prefix = uniquePrefix();
const scope = { prefix, installation: "0123456789ab" };
const TTL = { alertmanager: 300, sentry: 300, signoz: 300 };

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
let run: ReturnType<typeof ingestProcessor>;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = createQueues(redis, scope);
  run = ingestProcessor({
    ingest: { pool: db.pool, dedup: new DedupWindow(redis, prefix, TTL) },
    queues,
    metrics: createMetrics(),
  });
});
afterAll(async () => {
  await queues.close();
  await deleteKeys(prefix);
  redis.disconnect();
  await db.drop();
});
beforeEach(async () => {
  await queues.notify.obliterate({ force: true });
  await queues.analyze.obliterate({ force: true });
});

let jobs = 0;
/** An ingest job as BullMQ hands it over: a fresh id unless given, and the attempts before it. */
function delivery(
  labels: { alertname: string; severity?: string },
  options: { id?: string; attemptsMade?: number; status?: "firing" | "resolved" } = {},
): Job<IngestJob> {
  jobs += 1;
  return {
    id: options.id ?? `ingest-${jobs}`,
    data: {
      source: "alertmanager",
      receivedAt: new Date().toISOString(),
      // a warning (P2) unless said otherwise: its card jobs have a priority of 2
      payload: alertmanagerPayload({
        fingerprint: `fp-${labels.alertname}`,
        labels: { severity: "warning", ...labels },
        ...(options.status === undefined ? {} : { status: options.status }),
      }),
    },
    attemptsMade: options.attemptsMade ?? 0,
  } as Job<IngestJob>;
}

interface QueuedCard {
  incidentId: string;
  name: string;
  priority: number;
  delay: number;
}

/** The card jobs waiting in the notify queue, by incident, name and priority. */
async function waitingCards(): Promise<QueuedCard[]> {
  const waiting = await queues.notify.getJobs(["waiting", "prioritized", "delayed"]);
  return waiting
    .map((job: Job<NotifyJob>) => ({
      incidentId: job.data.incidentId,
      name: job.name,
      priority: job.opts.priority ?? 0,
      delay: job.opts.delay ?? 0,
    }))
    .sort(
      (a, b) =>
        a.incidentId.localeCompare(b.incidentId) || a.name.localeCompare(b.name) || a.priority - b.priority,
    );
}

const card = (incidentId: string | undefined, priority = 2) => ({
  incidentId,
  name: "card",
  priority,
  delay: 0,
});
const repeatCard = (incidentId: string | undefined, priority = 2) => ({
  incidentId,
  name: REPEAT_CARD_JOB,
  priority,
  delay: REPEAT_CARD_DELAY_MS,
});

describe("card jobs asked for by the ingest", () => {
  it("shows an opening at once and an incident's repeats later, in one job however many repeat it", async () => {
    const first = await run(delivery({ alertname: "Repeated" }));
    const [incident] = first.incidents;
    for (let repeat = 0; repeat < 5; repeat++) await run(delivery({ alertname: "Repeated" }));
    const other = await run(delivery({ alertname: "Another" }));
    expect(await waitingCards()).toEqual([card(incident), repeatCard(incident), card(other.incidents[0])]);
  });

  it("keeps a change made while the incident's card job runs, and shows it by one job after that one", async () => {
    const started: Job<NotifyJob>[] = [];
    let finish = () => undefined as void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const worker = new Worker<NotifyJob>(
      queues.notify.name,
      async (job) => {
        started.push(job);
        // the first job runs (it may have read the incident) while the changes below arrive
        if (started.length === 1) await held;
      },
      { connection: redis.duplicate(), prefix: queuePrefix(scope, "notify"), concurrency: 4 },
    );
    try {
      const { incidents } = await run(delivery({ alertname: "Running" }));
      await expect.poll(() => started.length, { timeout: 10_000, interval: 20 }).toBe(1);
      await run(delivery({ alertname: "Running" }, { status: "resolved" }));
      await run(delivery({ alertname: "Running" }));
      // the reopening: one job kept for both changes, none running beside the first
      expect(await waitingCards()).toEqual([]);
      expect(started).toHaveLength(1);
      finish();
      await expect.poll(() => started.length, { timeout: 10_000, interval: 20 }).toBe(2);
      expect(started.map((job) => [job.name, job.data.incidentId])).toEqual([
        ["card", incidents[0]],
        ["card", incidents[0]],
      ]);
    } finally {
      finish();
      await worker.close();
    }
  });

  it("queues a job for a change made once the waiting one has started, whatever becomes of that one", async () => {
    const { incidents } = await run(delivery({ alertname: "Started" }));
    await run(delivery({ alertname: "Started" }, { status: "resolved" }));
    const [job] = await queues.notify.getJobs(["prioritized"]);
    if (job === undefined) throw new Error("no card job queued");
    expect(await waitingCards()).toEqual([card(incidents[0])]);
    // the notify worker starts it (no chat is configured: nothing is sent); it stays in the queue,
    // as one waiting out its backoff after a failure does
    const notify = notifyProcessor({
      sync: { db: db.pool, notifier: {} as never, chatIds: () => [] },
      locks: new CardLocks(redis, prefix),
      metrics: createMetrics(),
      queues,
    });
    await notify(job);
    await run(delivery({ alertname: "Started" }));
    expect(await waitingCards()).toEqual([card(incidents[0]), card(incidents[0])]);
  });

  it("ranks a card by its delivery's severity: a critical repeat is not held back by a warning's job", async () => {
    const { incidents } = await run(delivery({ alertname: "Escalating", severity: "warning" }));
    await run(delivery({ alertname: "Escalating", severity: "warning" }));
    await run(delivery({ alertname: "Escalating", severity: "critical" }));
    await run(delivery({ alertname: "Escalating", severity: "critical" }));
    expect(await waitingCards()).toEqual([
      card(incidents[0]),
      repeatCard(incidents[0], 0),
      repeatCard(incidents[0]),
    ]);
  });

  it("shows the cards of a job's second run at once, as the first may have stopped before them", async () => {
    const { incidents } = await run(delivery({ alertname: "Rerun" }, { id: "ingest-rerun" }));
    await queues.notify.obliterate({ force: true });
    // its alerts recorded already; and a retry counted by BullMQ
    await run(delivery({ alertname: "Rerun" }, { id: "ingest-rerun" }));
    expect(await waitingCards()).toEqual([card(incidents[0])]);
    await queues.notify.obliterate({ force: true });
    await run(delivery({ alertname: "Rerun" }, { attemptsMade: 1 }));
    expect(await waitingCards()).toEqual([card(incidents[0])]);
  });
});

describe("a new incident's analysis", () => {
  it("starts a moment after its card is asked for, so the card's reads and send go first", async () => {
    const { incidents } = await run(delivery({ alertname: "Opened", severity: "critical" }));
    expect(await waitingCards()).toEqual([card(incidents[0], 0)]);
    const analyses = await queues.analyze.getJobs(["waiting", "prioritized", "delayed"]);
    expect(analyses.map((job) => ({ id: job.id, delay: job.opts.delay }))).toEqual([
      { id: `auto-${incidents[0]}`, delay: ANALYSIS_DELAY_MS },
    ]);
    expect(await analyses[0]?.getState()).toBe("delayed");
    expect(ANALYSIS_DELAY_MS).toBeLessThanOrEqual(100);
  });
});

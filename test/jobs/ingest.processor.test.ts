// The ingest queue's card requests, on real Redis, BullMQ and PostgreSQL. While an incident's card
// job still waits in the notify queue, deliveries that touch the incident again queue no second
// one: the waiting job reads the incident when it starts, their changes included. Once it has
// started, the next change queues a new job; a P0 change never waits behind a P2 job; and a run of
// a job after a failed one queues its cards whatever that one claimed.
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findLiveIncident } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { createMetrics } from "../../gateways/metrics.js";
import { ingestProcessor, PENDING_CARD_MS, REPEAT_CARD_DELAY_MS } from "../../jobs/ingest.processor.js";
import { notifyProcessor } from "../../jobs/notify.processor.js";
import {
  createQueues,
  REPEAT_CARD_JOB,
  type IngestJob,
  type NotifyJob,
  type Queues,
} from "../../jobs/queues.js";
import { CardLocks } from "../../kv/card-lock.js";
import { DedupWindow } from "../../kv/dedup.js";

const prefix = uniquePrefix();
const scope = { prefix, installation: "0123456789ab" };

const TTL = { alertmanager: 300, sentry: 300, signoz: 300 };

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
let locks: CardLocks;
let run: ReturnType<typeof ingestProcessor>;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = createQueues(redis, scope);
  locks = new CardLocks(redis, prefix);
  run = ingestProcessor({
    ingest: { pool: db.pool, dedup: new DedupWindow(redis, prefix, TTL) },
    queues,
    metrics: createMetrics(),
    pendingCards: locks,
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
});

let jobs = 0;
/** An ingest job as BullMQ hands it over: a fresh id unless given, and the attempts before it. */
function delivery(
  labels: { alertname: string; severity?: string },
  options: { id?: string; attemptsMade?: number } = {},
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
      }),
    },
    attemptsMade: options.attemptsMade ?? 0,
  } as Job<IngestJob>;
}

/** The card jobs waiting in the notify queue: incident, name, BullMQ priority (0 for none), delay. */
async function waitingCards(): Promise<
  { incidentId: string; name: string; priority: number; delay: number }[]
> {
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
    expect(await redis.pttl(`${prefix}:pending:card:${incident}:2:later`)).toBeGreaterThan(
      PENDING_CARD_MS - 5_000,
    );
  });

  it("queues a new one once the waiting job has started, since it may have read the incident already", async () => {
    const { incidents } = await run(delivery({ alertname: "Started" }));
    await run(delivery({ alertname: "Started" }));
    const [job] = await queues.notify.getJobs(["delayed"]);
    if (job === undefined) throw new Error("no repeat's card job queued");
    // the notify processor starts it; no chat is configured, so nothing is sent
    const notify = notifyProcessor({
      sync: { db: db.pool, notifier: {} as never, chatIds: () => [] },
      locks,
      metrics: createMetrics(),
      queues,
    });
    await notify(job);
    await job.remove();
    await run(delivery({ alertname: "Started" }));
    await run(delivery({ alertname: "Started" }));
    expect(await waitingCards()).toEqual([card(incidents[0]), repeatCard(incidents[0])]);
  });

  it("ranks a repeat's card by the repeat's severity: a critical one is not held back by a warning's", async () => {
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

  it("queues every card at once when the job ran before, whatever that run claimed", async () => {
    const { incidents } = await run(delivery({ alertname: "Rerun" }, { id: "ingest-rerun" }));
    // the job's second run (its alerts recorded already), and a retry counted by BullMQ
    await run(delivery({ alertname: "Rerun" }, { id: "ingest-rerun" }));
    await run(delivery({ alertname: "Rerun" }, { attemptsMade: 1 }));
    expect(await waitingCards()).toEqual([card(incidents[0]), card(incidents[0]), card(incidents[0])]);
  });

  it("gives back its claims when the card jobs could not be queued", async () => {
    const failing = ingestProcessor({
      ingest: { pool: db.pool, dedup: new DedupWindow(redis, prefix, TTL) },
      queues: { ...queues, notify: { addBulk: () => Promise.reject(new Error("Redis went away")) } as never },
      metrics: createMetrics(),
      pendingCards: locks,
    });
    await expect(failing(delivery({ alertname: "Unqueued" }))).rejects.toThrow("Redis went away");
    const incident = await findLiveIncident(db.pool, "alertmanager", "fp-Unqueued");
    if (incident === undefined) throw new Error("the delivery opened no incident");
    expect(await redis.exists(`${prefix}:pending:card:${incident.id}:2`)).toBe(0);
  });
});

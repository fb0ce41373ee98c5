// What matters first reaches the chat first: a P0's card jobs run before the P1 and P2 cards queued
// ahead of them (BullMQ priority), and an edit of a P0 card (its analysis arriving) takes the sends
// kept for urgent messages when a storm has spent the chat's ordinary ones; a card that must wait
// for the budget gets its delayed retry even when queueing it failed once. On real PostgreSQL,
// Redis, BullMQ and the Telegram emulator's Bot API.
import { Worker, type Job } from "bullmq";
import { Api } from "grammy";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { telegramNotifier } from "../../bot/telegram-notifier.js";
import { addEvent, insertIncident, takeIncident } from "../../db/incidents.js";
import type { Severity } from "../../domain/incident.js";
import { syncIncidentCard, type SyncCardDeps } from "../../handlers/sync-incident-card.js";
import { createMetrics } from "../../gateways/metrics.js";
import { DEFERRED_CARD_JOB, notifyProcessor } from "../../jobs/notify.processor.js";
import { createQueues, enqueueCard, queuePrefix, type NotifyJob, type Queues } from "../../jobs/queues.js";
import { CardLocks } from "../../kv/card-lock.js";
import { ChatBudget } from "../../kv/chat-budget.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const GROUP = "-1003000000001";
const prefix = uniquePrefix();
const scope = { prefix, installation: "0123456789ab" };

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
let telegram: TelegramEmulator;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = createQueues(redis, scope);
  telegram = await TelegramEmulator.start();
});
afterAll(async () => {
  await telegram.close();
  await queues.close();
  await deleteKeys(prefix);
  redis.disconnect();
  await db.drop();
});

async function incident(id: string, severity: Severity): Promise<void> {
  await insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: id,
      severity,
      title: `Alert ${id}`,
      labels: { alertname: `Alert${severity}` },
      annotations: {},
      links: [],
    },
    new Date(),
  );
}

describe("card priority", () => {
  it("runs a P0's card job, and unranked updates, before the P1 and P2 cards queued earlier", async () => {
    const order: [string, Severity | undefined][] = [
      ["INC-20260101-0001", "P2"],
      ["INC-20260101-0002", "P1"],
      ["INC-20260101-0003", "P2"],
      ["INC-20260101-0004", "P0"],
      ["INC-20260101-0005", undefined],
    ];
    for (const [incidentId, severity] of order) await enqueueCard(queues.notify, incidentId, severity);
    const worker = new Worker(queues.notify.name, null, {
      connection: redis.duplicate(),
      prefix: queuePrefix(scope, "notify"),
      autorun: false,
    });
    try {
      const taken: string[] = [];
      for (let index = 0; index < order.length; index++) {
        const job = await worker.getNextJob("priority-test");
        taken.push((job?.data as { incidentId: string } | undefined)?.incidentId ?? "none");
        await job?.moveToCompleted("done", "priority-test", false);
      }
      expect(taken).toEqual([
        "INC-20260101-0004",
        "INC-20260101-0005",
        "INC-20260101-0002",
        "INC-20260101-0001",
        "INC-20260101-0003",
      ]);
    } finally {
      await worker.close();
    }
  });

  it("edits a P0 card with the reserved sends once the chat's ordinary sends are spent; a P2 edit waits", async () => {
    // Telegram's group minute without the pace window: this test spends the minute, not the pace
    const budget = new ChatBudget(redis, prefix, { groupPerMinute: 18, privatePerMinute: 60 });
    const deps: SyncCardDeps = {
      db: db.pool,
      notifier: telegramNotifier(new Api(telegram.token, { apiRoot: telegram.apiRoot })),
      chatIds: () => [GROUP],
      budget,
    };
    await incident("INC-20260102-0001", "P0");
    await incident("INC-20260102-0002", "P2");
    expect((await syncIncidentCard(deps, "INC-20260102-0001")).outcome).toBe("posted");
    expect((await syncIncidentCard(deps, "INC-20260102-0002")).outcome).toBe("posted");
    // a storm's own cards spend the rest of the ordinary sends of this minute
    while ((await budget.take(GROUP, "normal")) === 0);

    // both cards change (someone took them): only the P0 is shown at once
    for (const id of ["INC-20260102-0001", "INC-20260102-0002"]) {
      await takeIncident(db.pool, id, "alice");
      await addEvent(db.pool, id, "taken", {}, "alice");
    }
    const lower = await syncIncidentCard(deps, "INC-20260102-0002");
    expect(lower.outcome).toBe("deferred");
    expect(lower.retryInMs).toBeGreaterThan(0);
    expect((await syncIncidentCard(deps, "INC-20260102-0001")).outcome).toBe("edited");
    const edits = telegram.calls.filter((call) => call.method === "editMessageText" && call.status === "ok");
    expect(edits).toHaveLength(1);
  });

  it("queues one deferred retry per incident, again on the job's next run when queueing it failed", async () => {
    const budget = new ChatBudget(redis, prefix, { groupPerMinute: 18, privatePerMinute: 60 });
    await incident("INC-20260103-0001", "P2");
    const sync: SyncCardDeps = {
      db: db.pool,
      notifier: telegramNotifier(new Api(telegram.token, { apiRoot: telegram.apiRoot })),
      chatIds: () => [GROUP],
      budget,
    };
    // the chat's ordinary sends are spent: the card's sync is deferred
    while ((await budget.take(GROUP, "normal")) === 0);
    // how the next add fails: before Redis ran it, or after (its answer lost)
    let failNext: "before" | "after" | undefined;
    const notify = new Proxy(queues.notify, {
      get(target, property, receiver) {
        if (property === "add" && failNext !== undefined) {
          return async (...args: Parameters<Queues["notify"]["add"]>) => {
            const how = failNext;
            failNext = undefined;
            if (how === "after") await target.add(...args);
            throw new Error("Connection is closed.");
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const locks = new CardLocks(redis, prefix);
    const run = notifyProcessor({ sync, locks, metrics: createMetrics(), queues: { notify } });
    const cardJob = (id: string) =>
      ({
        id,
        name: "card",
        data: { incidentId: "INC-20260103-0001", changedAt: new Date().toISOString() },
        opts: { priority: 2 },
        removeDeduplicationKey: () => Promise.resolve(0),
      }) as unknown as Job<NotifyJob>;
    const deferred = async () =>
      (await queues.notify.getJobs(["delayed"])).filter(
        (queued) => queued.name === DEFERRED_CARD_JOB && queued.data.incidentId === "INC-20260103-0001",
      );

    // the add fails before Redis ran it (Redis gone): the claim stays this job's
    failNext = "before";
    await expect(run(cardJob("card-1"))).rejects.toThrow("Connection is closed.");
    expect(await deferred()).toHaveLength(0);
    // another change's job finds the retry claimed and queues none
    expect(await run(cardJob("card-2"))).toBe("deferred");
    expect(await deferred()).toHaveLength(0);
    // BullMQ runs the failed job again: the retry it claimed is queued now
    expect(await run(cardJob("card-1"))).toBe("deferred");
    expect(await deferred()).toHaveLength(1);

    // the retry runs and is deferred again (the budget still spent); its add's answer is lost
    const [retry] = await deferred();
    if (retry === undefined) throw new Error("no deferred retry");
    await retry.remove();
    failNext = "after";
    await expect(run(retry as Job<NotifyJob>)).rejects.toThrow("Connection is closed.");
    expect(await deferred()).toHaveLength(1);
    // its next attempt adds the same job again, which BullMQ keeps once
    expect(await run(retry as Job<NotifyJob>)).toBe("deferred");
    expect(await deferred()).toHaveLength(1);
  });
});

// Snooze reminders on real Redis and PostgreSQL: when the chat's send budget is spent (a storm),
// the reminder waits in the queue for the budget instead of failing or being dropped.
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getIncident, insertIncident, saveTelegramMessage } from "../../db/incidents.js";
import { remindJob, remindProcessor } from "../../jobs/remind.processor.js";
import { ChatBusy } from "../../handlers/end-snooze.js";
import { createQueues, QUEUE_NAMES, type Queues, queuePrefix } from "../../jobs/queues.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let db: TestDatabase;
let redis: Redis;
let prefix: string;
let queues: Queues;
let worker: Worker | undefined;
beforeEach(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  prefix = uniquePrefix();
  queues = createQueues(redis, { prefix, installation: "0123456789ab" });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queues.close();
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});

const INCIDENT = "INC-20261124-0001";

describe("a snooze reminder while the chat's budget is spent", () => {
  it("waits for the budget, then reminds once and ends the snooze", async () => {
    await insertIncident(
      db.pool,
      INCIDENT,
      {
        source: "alertmanager",
        fingerprint: "fp-1",
        severity: "P1",
        title: "HighErrorRate",
        labels: { alertname: "HighErrorRate" },
        annotations: {},
        links: [],
      },
      new Date(),
    );
    const until = new Date(Date.now() - 1_000);
    await db.pool.query(`UPDATE incidents SET snoozed_until = $2, snoozed_by = '@alice' WHERE id = $1`, [
      INCIDENT,
      until,
    ]);
    await saveTelegramMessage(db.pool, {
      incidentId: INCIDENT,
      chatId: "-100",
      messageId: 7,
      renderedHash: "x",
      renderedVersion: 1,
    });
    const attempts: number[] = [];
    const sent: { chatId: string; replyTo: number | undefined; text: string }[] = [];
    worker = new Worker(
      QUEUE_NAMES.remind,
      remindProcessor({
        db: db.pool,
        remind: (chatId, text, replyTo) => {
          attempts.push(Date.now());
          // the first try finds the chat's minute spent, 400 ms from a free slot
          if (attempts.length === 1) return Promise.reject(new ChatBusy(400));
          sent.push({ chatId, replyTo, text });
          return Promise.resolve({ kind: "posted" as const });
        },
        enqueueCard: () => Promise.resolve(),
      }),
      {
        connection: redis,
        prefix: queuePrefix({ prefix, installation: "0123456789ab" }, QUEUE_NAMES.remind),
      },
    );
    const job = remindJob(INCIDENT, until);
    await queues.remind.add("remind", job.data, job.options);
    await expect.poll(() => sent.length, { timeout: 5_000 }).toBe(1);
    expect(sent[0]).toMatchObject({ chatId: "-100", replyTo: 7 });
    expect(sent[0]?.text).toContain(`Snooze over: ${INCIDENT} is still open`);
    // it waited for the budget, and counted as neither failed nor retried
    expect((attempts[1] ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(350);
    await expect.poll(async () => (await getIncident(db.pool, INCIDENT))?.snoozedUntil).toBeNull();
    expect(await queues.remind.getJobCounts("failed")).toMatchObject({ failed: 0 });
  });
});

// The storm queue's worker on real BullMQ, Redis and PostgreSQL: a new storm's summary is asked for
// at once, and two refreshes of it running side by side (the one booked when the storm opened and a
// bucket's) post one card between them, not one each.
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertIncident } from "../../db/incidents.js";
import { getStorm } from "../../db/storms.js";
import type { ChatNotices, StormSummary } from "../../domain/notices.js";
import { placeIncident, type StormRefresh } from "../../handlers/storm.js";
import { createQueues, queuePrefix, type Queues } from "../../jobs/queues.js";
import { requestStormRefresh, stormProcessor } from "../../jobs/storm.processor.js";
import { CardLocks } from "../../kv/card-lock.js";
import { StormGate } from "../../kv/storm-gate.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const CHAT = "-1004000000001";
const prefix = uniquePrefix();
const scope = { prefix, installation: "0123456789ab" };
/** Far enough that no bucket of the test comes due while it runs. */
const INTERVAL_MS = 600_000;

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = createQueues(redis, scope);
});
afterAll(async () => {
  await queues.close();
  await deleteKeys(prefix);
  redis.disconnect();
  await db.drop();
});

async function incident(id: string): Promise<{ id: string; severity: "P2"; status: "open" }> {
  await insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: id,
      severity: "P2",
      title: `Alert ${id}`,
      labels: { alertname: id },
      annotations: {},
      links: [],
    },
    new Date(),
  );
  return { id, severity: "P2", status: "open" };
}

/** Resolves once `condition` holds (asked every 20 ms); fails after 30 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await condition());) {
    if (Date.now() - started > 30_000) throw new Error("condition never held");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the storm queue", () => {
  it("asks for a new storm's summary at once, and for later changes at the next refresh", async () => {
    const gate = new StormGate(redis, `${prefix}:ask`, { threshold: 1, windowSeconds: 60 });
    const asked: StormRefresh[] = [];
    const deps = {
      db: db.pool,
      gate,
      refresh: (_stormId: number, when: StormRefresh) => Promise.resolve(void asked.push(when)),
    };
    const chat = "-1004000000002";
    expect((await placeIncident(deps, chat, await incident("INC-20261204-0101"))).kind).toBe("card");
    const first = await placeIncident(deps, chat, await incident("INC-20261204-0102"));
    const second = await placeIncident(deps, chat, await incident("INC-20261204-0103"));
    expect(first.kind).toBe("folded");
    expect(second).toEqual(first);
    // nothing in the chat yet: both folds ask for the summary now (one job per storm coalesces them)
    expect(asked).toEqual(["now", "now"]);

    await db.pool.query("UPDATE storms SET message_id = 7 WHERE chat_id = $1", [chat]);
    await placeIncident(deps, chat, await incident("INC-20261204-0104"));
    expect(asked.at(-1)).toBe("next");
  });

  it("posts one summary card when two refreshes of a new storm run side by side", async () => {
    const gate = new StormGate(redis, `${prefix}:race`, { threshold: 1, windowSeconds: 60 });
    const place = { db: db.pool, gate, refresh: () => Promise.resolve() };
    await placeIncident(place, CHAT, await incident("INC-20261204-0201"));
    const folded = await placeIncident(place, CHAT, await incident("INC-20261204-0202"));
    if (folded.kind !== "folded") throw new Error("the second incident should have opened a storm");
    const stormId = folded.stormId;

    // The chat's Bot API, slow to answer the first post: it holds it until a second post arrives
    // (two cards: the defect) or the other run has stepped back to wait for the first.
    const posts: StormSummary[] = [];
    const edits: StormSummary[] = [];
    const notices: ChatNotices = {
      postStorm: async (_place, summary) => {
        posts.push(summary);
        await until(async () => posts.length > 1 || (await queues.storm.getDelayedCount()) > 0);
        return { kind: "posted", messageId: posts.length };
      },
      updateStorm: (_chatId, _messageId, summary) =>
        Promise.resolve(edits.push(summary) > 0 ? "updated" : "gone"),
      postEscalation: () => Promise.reject(new Error("not expected")),
    };
    const worker = new Worker(
      queues.storm.name,
      stormProcessor({
        sync: { db: db.pool, gate, notices },
        queue: queues.storm,
        locks: new CardLocks(redis, prefix),
        enqueueCard: () => Promise.resolve(),
        intervalMs: INTERVAL_MS,
      }),
      { connection: redis.duplicate(), prefix: queuePrefix(scope, "storm"), concurrency: 2 },
    );
    try {
      // the refresh booked when the storm opened, and a bucket's that came due at the same moment
      await requestStormRefresh(queues.storm, stormId, "now", INTERVAL_MS);
      await queues.storm.add("storm", { stormId }, { jobId: `storm-${stormId}-due` });
      await expect
        .poll(
          async () =>
            Promise.all(
              [`storm-${stormId}-opened`, `storm-${stormId}-due`].map((id) => queues.storm.getJobState(id)),
            ),
          { timeout: 30_000, interval: 50 },
        )
        .toEqual(["completed", "completed"]);
    } finally {
      await worker.close();
    }
    expect(posts).toHaveLength(1);
    // the run that waited found the card in the chat and as it should be: nothing more was sent
    expect(edits).toHaveLength(0);
    expect((await getStorm(db.pool, stormId))?.messageId).toBe(1);
  });
});

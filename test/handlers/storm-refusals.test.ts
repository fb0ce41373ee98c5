// A storm's summary card sent to a chat that takes no message, on real PostgreSQL and Redis and the
// Telegram emulator's Bot API: a gone topic moves the card to the chat's General topic, a chat the
// bot was removed from ends the storm there and hands its open incidents back to be shown one by
// one wherever their cards go now. (A migrated group is end to end: test/e2e/chat-migration-first-send.)
import { Api } from "grammy";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { telegramNotices } from "../../bot/telegram-notices.js";
import { chatFailures } from "../../db/chats.js";
import { insertIncident } from "../../db/incidents.js";
import { getStorm } from "../../db/storms.js";
import type { ChatDeliveryDeps } from "../../handlers/chat-delivery.js";
import { placeIncident, syncStormCard } from "../../handlers/storm.js";
import { StormGate } from "../../kv/storm-gate.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const FORUM = -1002000000901;
const HOME = -1002000000902;
const REMOVED = -1002000000903;
const prefix = uniquePrefix();

let db: TestDatabase;
let redis: Redis;
let telegram: TelegramEmulator;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});
afterEach(async () => {
  await telegram.close();
});

let next = 1;
/** A storm in `place` with two incidents folded into it; returns its id. */
async function stormIn(place: string, gate: StormGate): Promise<{ stormId: number; folded: string[] }> {
  const deps = { db: db.pool, gate, refresh: () => Promise.resolve() };
  const placed: { id: string; kind: string; stormId?: number }[] = [];
  for (let i = 0; i < 4; i++) {
    const id = `INC-20261204-${String(next++).padStart(4, "0")}`;
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
    placed.push({ id, ...(await placeIncident(deps, place, { id, severity: "P2", status: "open" })) });
  }
  const folded = placed.filter((p) => p.kind === "folded");
  return { stormId: folded[0]?.stormId ?? 0, folded: folded.map((p) => p.id) };
}

function deps(gate: StormGate) {
  const delivery: ChatDeliveryDeps = {
    db: db.pool,
    defaultChatId: String(HOME),
    enqueueCard: () => Promise.resolve(),
  };
  return {
    db: db.pool,
    gate,
    notices: telegramNotices(new Api(telegram.token, { apiRoot: telegram.apiRoot })),
    delivery,
  };
}

describe("a storm card its chat refuses", () => {
  it("moves to the chat's General topic when its topic is gone, and reports the topic", async () => {
    telegram = await TelegramEmulator.start({ forumTopics: [{ chatId: FORUM, threadId: 42, name: "Ops" }] });
    const gate = new StormGate(redis, `${prefix}:topic`, { threshold: 2, windowSeconds: 60 });
    const { stormId } = await stormIn(`${FORUM}/42`, gate);
    expect(await syncStormCard(deps(gate), stormId)).toMatchObject({ outcome: "posted" });
    expect(telegram.topicMessages(FORUM, 42).filter((m) => m.from_bot)).toHaveLength(1);

    telegram.deleteTopic(FORUM, 42);
    // the storm card is edited: "message to edit not found", then posted again: no such thread
    await stormIn(`${FORUM}/42`, gate);
    expect(await syncStormCard(deps(gate), stormId)).toMatchObject({ outcome: "posted", ended: false });
    expect(telegram.topicMessages(FORUM, undefined).filter((m) => m.from_bot)).toHaveLength(1);
    expect(await getStorm(db.pool, stormId)).toMatchObject({ chatId: String(FORUM), threadId: null });
    expect(await chatFailures(db.pool)).toEqual([
      expect.objectContaining({ chatId: `${FORUM}/42`, reason: "topic_not_found" }),
    ]);
    await db.pool.query("DELETE FROM chat_failures");
  });

  it("ends the storm in a chat the bot was removed from, and hands its open incidents back", async () => {
    telegram = await TelegramEmulator.start({ knownChats: [REMOVED, HOME] });
    const gate = new StormGate(redis, `${prefix}:removed`, { threshold: 2, windowSeconds: 60 });
    const { stormId, folded } = await stormIn(String(REMOVED), gate);
    telegram.removeBot({ chatId: REMOVED });

    const synced = await syncStormCard(deps(gate), stormId);
    expect(synced).toMatchObject({ outcome: "undeliverable", ended: true });
    expect(synced.outcome === "missing" ? [] : [...(synced.endedNow ?? [])].sort()).toEqual(folded.sort());
    expect((await getStorm(db.pool, stormId))?.endedAt).not.toBeNull();
    expect(await chatFailures(db.pool)).toEqual([
      expect.objectContaining({ chatId: String(REMOVED), reason: "removed" }),
    ]);
    // nothing went to the default chat: the incidents go there one by one, as their own cards
    expect(telegram.messages(HOME)).toEqual([]);
  });
});

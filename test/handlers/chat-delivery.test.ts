// Where cards can go, on real PostgreSQL: aliases left by migrations (and what they do to the
// stored cards), unreachable chats recorded once, and the default chat as the fallback.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatFailures } from "../../db/chats.js";
import { insertIncident, saveTelegramMessage, telegramMessages } from "../../db/incidents.js";
import { foldIncident, foldsOfIncident, getStorm, openStorm, saveStormMessage } from "../../db/storms.js";
import {
  afterRefusal,
  chatReachable,
  chatUnreachable,
  deliverEach,
  followChatMigration,
  planDelivery,
  type ChatDeliveryDeps,
} from "../../handlers/chat-delivery.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

const HOME = "-4000000001";
const ROUTED = "-1002000000001";
const OTHER = "-1002000000002";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

function deps(overrides: Partial<ChatDeliveryDeps> = {}) {
  const queued: string[] = [];
  const counted: string[] = [];
  const logged: { level: string; msg: string }[] = [];
  const value: ChatDeliveryDeps = {
    db: db.pool,
    defaultChatId: HOME,
    enqueueCard: (incidentId) => Promise.resolve(queued.push(incidentId)),
    countFailure: (chatId, reason) => counted.push(`${chatId}:${reason}`),
    logger: {
      warn: (_obj: object, msg: string) => logged.push({ level: "warn", msg }),
      info: (_obj: object, msg: string) => logged.push({ level: "info", msg }),
    } as unknown as NonNullable<ChatDeliveryDeps["logger"]>,
    ...overrides,
  };
  return { value, queued, counted, logged };
}

async function incidentShownIn(id: string, chatId: string, status: "open" | "resolved", messageId: number) {
  await insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: id,
      severity: "P2",
      title: id,
      labels: { alertname: id },
      annotations: {},
      links: [],
    },
    new Date(),
  );
  await db.pool.query("UPDATE incidents SET status = $2 WHERE id = $1", [id, status]);
  await saveTelegramMessage(db.pool, {
    incidentId: id,
    chatId,
    messageId,
    renderedHash: "h",
    renderedVersion: 1,
  });
}

describe("following a migration", () => {
  it("records the alias once, forgets open incidents' cards in the old chat and queues them", async () => {
    await incidentShownIn("INC-20260101-0901", HOME, "open", 7);
    await incidentShownIn("INC-20260101-0902", HOME, "resolved", 8);
    const storm = await openStorm(db.pool, HOME);
    await saveStormMessage(db.pool, { stormId: storm.id, messageId: 9, renderedHash: "s" });
    await incidentShownIn("INC-20260101-0903", OTHER, "open", 10);
    await foldIncident(db.pool, { incidentId: "INC-20260101-0903", chatId: HOME, stormId: storm.id });
    const refreshed: number[] = [];
    const d = deps({ refreshStorm: (stormId) => Promise.resolve(refreshed.push(stormId)) });
    const supergroup = "-1004000000001";

    expect(await followChatMigration(d.value, HOME, supergroup)).toEqual({
      incidentIds: ["INC-20260101-0901"],
    });
    expect(d.queued).toEqual(["INC-20260101-0901"]);
    // the storm in progress moves with its folds; its summary is posted anew in the supergroup
    expect(refreshed).toEqual([storm.id]);
    expect(await getStorm(db.pool, storm.id)).toMatchObject({ chatId: supergroup, messageId: null });
    expect((await foldsOfIncident(db.pool, "INC-20260101-0903")).map((fold) => fold.chatId)).toEqual([
      supergroup,
    ]);
    expect(await telegramMessages(db.pool, "INC-20260101-0901")).toEqual([]);
    // a resolved incident's card stays where it was: nothing will edit it
    expect((await telegramMessages(db.pool, "INC-20260101-0902")).map((m) => m.chatId)).toEqual([HOME]);

    // the service message and a refused send both report the move: the second changes nothing
    expect(await followChatMigration(d.value, HOME, supergroup)).toEqual({ incidentIds: [] });
    expect(d.logged.filter((line) => line.msg.includes("supergroup"))).toHaveLength(1);

    const plan = await planDelivery(d.value, [HOME, ROUTED]);
    expect(plan.targets).toEqual([supergroup, ROUTED]);
    expect(plan.fallback).toBe(supergroup);
  });
});

describe("unreachable chats", () => {
  it("are recorded and logged once, counted every time, and routed to the default chat", async () => {
    const d = deps();
    const refusal = {
      kind: "unreachable" as const,
      reason: "removed" as const,
      description: "Forbidden: bot was kicked from the supergroup chat",
    };
    await chatUnreachable(d.value, ROUTED, refusal);
    await chatUnreachable(d.value, ROUTED, refusal);
    expect(d.counted).toEqual([`${ROUTED}:removed`, `${ROUTED}:removed`]);
    expect(d.logged.filter((line) => line.level === "warn")).toHaveLength(1);
    expect(await chatFailures(db.pool)).toEqual([
      expect.objectContaining({ chatId: ROUTED, reason: "removed", failures: 2 }),
    ]);

    const plan = await planDelivery(d.value, [ROUTED, OTHER]);
    // the default chat is followed through its alias (the test above migrated it)
    expect(plan.targets).toEqual(["-1004000000001", OTHER]);

    await chatReachable(d.value, ROUTED);
    await chatReachable(d.value, ROUTED);
    expect(d.logged.filter((line) => line.msg === "Telegram chat reachable again")).toHaveLength(1);
    expect((await planDelivery(d.value, [ROUTED])).targets).toEqual([ROUTED]);
  });

  it("drops a routed chat when the default chat is unreachable too, and tries both again later", async () => {
    const d = deps({ defaultChatId: OTHER });
    const gone = {
      kind: "unreachable" as const,
      reason: "not_found" as const,
      description: "Bad Request: chat not found",
    };
    await chatUnreachable(d.value, ROUTED, gone);
    await chatUnreachable(d.value, OTHER, gone);
    expect(
      d.logged.find((line) => line.level === "warn" && line.msg.includes("until the bot is back")),
    ).toBeDefined();
    expect(await planDelivery(d.value, [ROUTED])).toMatchObject({ targets: [], fallback: undefined });

    // after the retry interval both are tried again, and a success there clears them
    const later = await planDelivery({ ...d.value, retryUnreachableAfterMs: 0 }, [ROUTED]);
    expect(later.targets).toEqual([ROUTED]);
    expect([...later.retrying].sort()).toEqual([OTHER, ROUTED].sort());
    await chatReachable(d.value, ROUTED);
    await chatReachable(d.value, OTHER);
    expect(await chatFailures(db.pool)).toEqual([]);
  });
});

describe("forum topics", () => {
  const FORUM = "-1002000000077";
  const TOPIC = `${FORUM}/42`;
  const threadGone = {
    kind: "unreachable" as const,
    reason: "topic_not_found" as const,
    description: "Bad Request: message thread not found",
  };

  it("shows a card once per chat: the first route's topic has it", async () => {
    const d = deps({ defaultChatId: `${FORUM}/9` });
    const plan = await planDelivery(d.value, [TOPIC, `${FORUM}/43`, FORUM]);
    expect(plan.targets).toEqual([TOPIC]);
    expect(plan.fallback).toBe(`${FORUM}/9`);
  });

  it("sends a gone topic's messages to its chat's General topic, and records the topic alone", async () => {
    const d = deps({ defaultChatId: OTHER });
    expect(await afterRefusal(d.value, TOPIC, threadGone, OTHER)).toBe(FORUM);
    expect(await chatFailures(db.pool)).toEqual([
      expect.objectContaining({ chatId: TOPIC, reason: "topic_not_found", failures: 1 }),
    ]);
    expect(d.logged.find((line) => line.level === "warn")?.msg).toBe(
      `Telegram topic unreachable: its cards go to the General topic of ${FORUM} meanwhile`,
    );
    // the next message goes to the General topic at once; another topic of the chat still works
    expect((await planDelivery(d.value, [TOPIC])).targets).toEqual([FORUM]);
    expect((await planDelivery(d.value, [`${FORUM}/43`])).targets).toEqual([`${FORUM}/43`]);
    await chatReachable(d.value, TOPIC);
  });

  it("sends every topic of a chat the bot was removed from to the default chat", async () => {
    const d = deps({ defaultChatId: OTHER });
    const removed = {
      kind: "unreachable" as const,
      reason: "removed" as const,
      description: "Forbidden: bot was kicked from the supergroup chat",
    };
    expect(await afterRefusal(d.value, TOPIC, removed, OTHER)).toBe(OTHER);
    expect((await chatFailures(db.pool)).map((failure) => failure.chatId)).toEqual([FORUM]);
    expect((await planDelivery(d.value, [TOPIC, `${FORUM}/43`])).targets).toEqual([OTHER]);
    // a refused default chat that is the same chat takes nothing instead
    expect(await afterRefusal(d.value, TOPIC, removed, FORUM)).toBeUndefined();
    await chatReachable(d.value, FORUM);
  });

  it("walks each place once: a gone topic, then its General topic, which takes the message", async () => {
    const d = deps({ defaultChatId: OTHER });
    const asked: string[] = [];
    const { unreachable } = await deliverEach(
      d.value,
      { targets: [TOPIC, OTHER], fallback: OTHER, retrying: new Set() },
      (place) => {
        asked.push(place);
        return Promise.resolve(place === TOPIC ? threadGone : "sent");
      },
    );
    expect(asked).toEqual([TOPIC, OTHER, FORUM]);
    expect(unreachable).toEqual([TOPIC]);
    // tried again later, the topic works: the failure is cleared
    const retried = await planDelivery({ ...d.value, retryUnreachableAfterMs: 0 }, [TOPIC]);
    expect(retried.retrying.has(TOPIC)).toBe(true);
    await deliverEach(d.value, retried, () => Promise.resolve("sent"));
    expect(await chatFailures(db.pool)).toEqual([]);
  });
});

// A snooze reminder sent where the card is, on real PostgreSQL and the Telegram emulator's Bot API:
// into the card's forum topic as a reply to it; and, when the card's chat takes no message any
// more, the reminder takes the one delivery path (the default chat, reported), without a reply to
// a message id that means nothing there. (A migrated group is end to end:
// test/e2e/chat-migration-first-send.)
import { Api } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { telegramReminder } from "../../bot/telegram-notices.js";
import { chatFailures } from "../../db/chats.js";
import { insertIncident, saveTelegramMessage, snoozeUntil } from "../../db/incidents.js";
import { endSnooze } from "../../handlers/end-snooze.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const FORUM = -1002000000951;
const HOME = -1002000000952;

let db: TestDatabase;
let telegram: TelegramEmulator;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
afterEach(async () => {
  await telegram.close();
});

/** An incident snoozed until `until` whose card is message `messageId` in `chatId` (topic `threadId`). */
async function snoozedCard(id: string, chatId: number, messageId: number, until: Date, threadId?: number) {
  await insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: id,
      severity: "P2",
      title: "DiskAlmostFull",
      labels: { alertname: "DiskAlmostFull" },
      annotations: {},
      links: [],
    },
    new Date(),
  );
  await saveTelegramMessage(db.pool, {
    incidentId: id,
    chatId: String(chatId),
    ...(threadId === undefined ? {} : { threadId }),
    messageId,
    renderedHash: "h",
    renderedVersion: 1,
  });
  const now = new Date(until.getTime() - 60_000);
  await snoozeUntil(db.pool, { id, until, by: "@alice", now, replaceBefore: until });
}

function remind() {
  const api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
  return (input: { incidentId: string; until: Date }) =>
    endSnooze(
      {
        db: db.pool,
        remind: telegramReminder(api),
        enqueueCard: () => Promise.resolve(),
        delivery: { db: db.pool, defaultChatId: String(HOME), enqueueCard: () => Promise.resolve() },
      },
      input,
    );
}

describe("a snooze reminder", () => {
  it("replies to the card in the card's forum topic", async () => {
    telegram = await TelegramEmulator.start({ forumTopics: [{ chatId: FORUM, threadId: 42, name: "Ops" }] });
    const card = await new Api(telegram.token, { apiRoot: telegram.apiRoot }).sendMessage(FORUM, "card", {
      message_thread_id: 42,
    });
    const until = new Date(Date.now() + 1_000);
    await snoozedCard("INC-20261204-0101", FORUM, card.message_id, until, 42);

    expect(await remind()({ incidentId: "INC-20261204-0101", until })).toBe("reminded");
    const reminder = telegram.topicMessages(FORUM, 42).find((m) => m.text.startsWith("⏰ Snooze over"));
    expect(reminder?.message.reply_to_message?.message_id).toBe(card.message_id);
    expect(telegram.topicMessages(FORUM, undefined)).toEqual([]);
  });

  it("goes to the default chat, as a plain message, when the bot was removed from the card's chat", async () => {
    telegram = await TelegramEmulator.start({ knownChats: [FORUM, HOME] });
    await new Api(telegram.token, { apiRoot: telegram.apiRoot }).sendMessage(HOME, "an older message");
    const until = new Date(Date.now() + 1_000);
    await snoozedCard("INC-20261204-0102", FORUM, 1, until);
    telegram.removeBot({ chatId: FORUM });

    expect(await remind()({ incidentId: "INC-20261204-0102", until })).toBe("reminded");
    const reminder = telegram.messages(HOME).find((m) => m.text.startsWith("⏰ Snooze over"));
    expect(reminder?.message.reply_to_message).toBeUndefined();
    expect(await chatFailures(db.pool)).toEqual([
      expect.objectContaining({ chatId: String(FORUM), reason: "removed" }),
    ]);
  });
});

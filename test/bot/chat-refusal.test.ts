// Telegram's refusals read into outcomes, against the emulator's Bot API: the card notifier
// returns a migrated, removed, blocked or unknown chat, or an unknown forum topic, as a value and
// throws anything else.
import { Api } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { chatRefusalOf } from "../../bot/chat-refusal.js";
import { telegramNotifier } from "../../bot/telegram-notifier.js";
import type { IncidentCard } from "../../domain/card.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const GROUP = -4012345678;
const SUPERGROUP = -1002000000001;
const USER = 4242;

let emulator: TelegramEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function boot(options: ConstructorParameters<typeof TelegramEmulator>[0] = {}) {
  emulator = await TelegramEmulator.start(options);
  return { emu: emulator, api: new Api(emulator.token, { apiRoot: emulator.apiRoot }) };
}

async function errorOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => error,
  );
}

const card: IncidentCard = {
  incidentId: "INC-20260101-0001",
  severity: "P2",
  status: "open",
  source: "alertmanager",
  service: "db",
  title: "DiskAlmostFull",
  summary: "90% used",
  occurrences: 1,
  firstSeenAt: new Date("2026-01-01T00:00:00Z"),
  lastSeenAt: new Date("2026-01-01T00:00:00Z"),
  links: [],
  history: [],
  buttons: [],
};

describe("chatRefusalOf", () => {
  it("reads migration, removal, blocking and an unknown chat from the Bot API's answers", async () => {
    const { emu, api } = await boot({ knownChats: [GROUP, SUPERGROUP, USER] });
    await api.sendMessage(SUPERGROUP, "hello");
    const supergroup = emu.migrateChat(GROUP);
    emu.removeBot({ chatId: SUPERGROUP });
    emu.removeBot({ chatId: USER });

    expect(chatRefusalOf(await errorOf(api.sendMessage(GROUP, "x")))).toEqual({
      kind: "migrated",
      toChatId: String(supergroup),
    });
    expect(chatRefusalOf(await errorOf(api.sendMessage(SUPERGROUP, "x")))).toEqual({
      kind: "unreachable",
      reason: "removed",
      description: "Forbidden: bot was kicked from the supergroup chat",
    });
    expect(chatRefusalOf(await errorOf(api.sendMessage(USER, "x")))).toEqual({
      kind: "unreachable",
      reason: "blocked",
      description: "Forbidden: bot was blocked by the user",
    });
    expect(chatRefusalOf(await errorOf(api.sendMessage(-1009, "x")))).toEqual({
      kind: "unreachable",
      reason: "not_found",
      description: "Bad Request: chat not found",
    });
  });

  it("reads a forum topic Telegram does not know as the topic unreachable, not the chat", async () => {
    const { emu, api } = await boot({
      forumTopics: [{ chatId: SUPERGROUP, threadId: 42, name: "Incidents" }],
    });
    emu.deleteTopic(SUPERGROUP, 42);
    expect(chatRefusalOf(await errorOf(api.sendMessage(SUPERGROUP, "x", { message_thread_id: 42 })))).toEqual(
      {
        kind: "unreachable",
        reason: "topic_not_found",
        description: "Bad Request: message thread not found",
      },
    );
  });

  it("leaves every other failure alone", async () => {
    const { api } = await boot();
    expect(chatRefusalOf(await errorOf(api.editMessageText(SUPERGROUP, 99, "x")))).toBeUndefined();
    expect(chatRefusalOf(await errorOf(api.sendMessage(SUPERGROUP, "")))).toBeUndefined();
    expect(chatRefusalOf(new Error("socket hang up"))).toBeUndefined();
  });
});

describe("telegramNotifier", () => {
  it("returns refusals as outcomes and posts where the chat takes the card", async () => {
    const { emu, api } = await boot();
    const notifier = telegramNotifier(api);
    const posted = await notifier.post(String(GROUP), card);
    expect(posted).toMatchObject({ kind: "posted" });
    const messageId = posted.kind === "posted" ? posted.messageId : 0;

    const supergroup = emu.migrateChat(GROUP);
    expect(await notifier.update(String(GROUP), messageId, { ...card, occurrences: 2 })).toEqual({
      kind: "migrated",
      toChatId: String(supergroup),
    });
    expect(await notifier.post(String(supergroup), card)).toMatchObject({ kind: "posted" });
    expect(await notifier.update(String(supergroup), 999, card)).toEqual({ kind: "gone" });
  });

  it("posts into the forum topic a place names, and edits the card there by its id alone", async () => {
    const { emu, api } = await boot({
      forumTopics: [{ chatId: SUPERGROUP, threadId: 42, name: "Incidents" }],
    });
    const notifier = telegramNotifier(api);
    const posted = await notifier.post(`${SUPERGROUP}/42`, card);
    const messageId = posted.kind === "posted" ? posted.messageId : 0;
    expect(emu.message(SUPERGROUP, messageId)?.topic).toBe(42);
    expect(await notifier.update(String(SUPERGROUP), messageId, { ...card, occurrences: 2 })).toEqual({
      kind: "updated",
    });
    expect(emu.message(SUPERGROUP, messageId)).toMatchObject({ topic: 42, editCount: 1 });
    expect(await notifier.post(`${SUPERGROUP}/43`, card)).toMatchObject({ reason: "topic_not_found" });
  });
});

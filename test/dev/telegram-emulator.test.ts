import { afterEach, describe, expect, it, vi } from "vitest";
import { Api, Bot, GrammyError } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import {
  main,
  parseTelegramHtml,
  TelegramEmulator,
  type TelegramEmulatorOptions,
} from "../../dev/emulators/telegram.js";

const GROUP = -1001234567890;
const PRIVATE = 4242;
const START = 1_700_000_000_000;

let emulator: TelegramEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function boot(options: TelegramEmulatorOptions = {}): Promise<{ emu: TelegramEmulator; api: Api }> {
  emulator = await TelegramEmulator.start(options);
  return { emu: emulator, api: new Api(emulator.token, { apiRoot: emulator.apiRoot }) };
}

/** A settable clock, for flood windows and message dates. */
function fakeClock(start = START) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function rejection(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

function keyboard(...data: string[]): InlineKeyboardMarkup {
  return { inline_keyboard: [data.map((d, i) => ({ text: `Button ${i}`, callback_data: d }))] };
}

/** Starts grammY's own long polling; the returned function stops it and waits for the loop to end. */
async function startPolling(bot: Bot): Promise<() => Promise<void>> {
  let started = (): void => undefined;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const running = bot.start({ onStart: () => started() });
  await ready;
  return async () => {
    await bot.stop();
    await running;
  };
}

describe("identity and routing", () => {
  it("answers getMe so that bot.init() learns the bot", async () => {
    const { emu } = await boot({ token: "777001:SECRET", botUsername: "incident_bot" });
    const bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
    await bot.init();
    expect(emu.botId).toBe(777001);
    expect(bot.botInfo).toMatchObject({
      id: 777001,
      is_bot: true,
      username: "incident_bot",
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    });
  });

  it("refuses a wrong token with 401 Unauthorized", async () => {
    const { emu } = await boot();
    const intruder = new Api("123456:WRONG", { apiRoot: emu.apiRoot });
    const error = await rejection(intruder.getMe());
    expect(error.error_code).toBe(401);
    expect(error.description).toBe("Unauthorized");
  });

  it("refuses a wrong token with 401 on every method, getUpdates included, and does nothing", async () => {
    const { emu } = await boot();
    const intruder = new Api("123456:REVOKED", { apiRoot: emu.apiRoot });
    const calls = [
      () => intruder.getMe(),
      () => intruder.getUpdates({ timeout: 1 }),
      () => intruder.sendMessage(GROUP, "hello"),
      () => intruder.editMessageText(GROUP, 1, "edited"),
      () => intruder.setMyCommands([{ command: "status", description: "Status" }]),
      () => intruder.deleteWebhook(),
    ];
    for (const call of calls) {
      const error = await rejection(call());
      expect([error.error_code, error.description]).toEqual([401, "Unauthorized"]);
    }
    expect(emu.messages(GROUP)).toEqual([]);
    expect(emu.pollPending).toBe(false);
  });

  it("answers an unknown method with 404 and accepts GET with query parameters", async () => {
    const { emu } = await boot();
    const unknown = await fetch(`${emu.apiRoot}/bot${emu.token}/sendTelepathy`, { method: "POST" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ ok: false, error_code: 404, description: "Not Found" });

    const viaGet = await fetch(`${emu.apiRoot}/bot${emu.token}/SENDMESSAGE?chat_id=${PRIVATE}&text=hi`);
    expect(viaGet.status).toBe(200);
    expect(await viaGet.json()).toMatchObject({ ok: true, result: { text: "hi", chat: { id: PRIVATE } } });
    expect(emu.callsOf("sendMessage")).toHaveLength(1);
  });
});

describe("sendMessage", () => {
  it("turns Telegram HTML into plain text and UTF-16 entities", async () => {
    const clock = fakeClock();
    const { emu, api } = await boot({ now: clock.now });
    const html =
      '🔥 <b>P0</b> <i>api</i> <code>x&lt;1</code> <a href="https://example.com/i/1">trace</a> ' +
      "<u>u</u> <s>s</s> <tg-spoiler>sp</tg-spoiler> &amp; AT&T\n" +
      '<blockquote expandable>why</blockquote><pre><code class="language-ts">let a = 1;</code></pre>';

    const sent = await api.sendMessage(GROUP, html, {
      parse_mode: "HTML",
      reply_markup: keyboard("v1:ack:1"),
    });

    expect(sent.text).toBe("🔥 P0 api x<1 trace u s sp & AT&T\nwhylet a = 1;");
    expect(sent.entities).toEqual([
      { type: "bold", offset: 3, length: 2 },
      { type: "italic", offset: 6, length: 3 },
      { type: "code", offset: 10, length: 3 },
      { type: "text_link", offset: 14, length: 5, url: "https://example.com/i/1" },
      { type: "underline", offset: 20, length: 1 },
      { type: "strikethrough", offset: 22, length: 1 },
      { type: "spoiler", offset: 24, length: 2 },
      { type: "expandable_blockquote", offset: 34, length: 3 },
      { type: "pre", offset: 37, length: 10, language: "ts" },
    ]);
    expect(sent).toMatchObject({
      message_id: 1,
      date: START / 1000,
      chat: { id: GROUP, type: "supergroup" },
      from: { id: emu.botId, is_bot: true },
      reply_markup: keyboard("v1:ack:1"),
    });
    const [stored] = emu.messages(GROUP);
    expect(stored).toMatchObject({ message_id: 1, html, text: sent.text, editCount: 0, history: [] });
  });

  it("numbers messages per chat and types chats by their id", async () => {
    const { api } = await boot();
    const first = await api.sendMessage(-4001, "one");
    const second = await api.sendMessage(-4001, "two");
    const private1 = await api.sendMessage(PRIVATE, "dm");
    expect([first.message_id, second.message_id, private1.message_id]).toEqual([1, 2, 1]);
    expect(first.chat.type).toBe("group");
    expect(private1.chat.type).toBe("private");
  });

  it("detects URLs and commands in text, and trims surrounding whitespace", async () => {
    const { api } = await boot();
    const sent = await api.sendMessage(PRIVATE, "  see https://grafana.example.com/d/1. then /status\n");
    expect(sent.text).toBe("see https://grafana.example.com/d/1. then /status");
    expect(sent.entities).toEqual([
      { type: "url", offset: 4, length: 31 },
      { type: "bot_command", offset: 42, length: 7 },
    ]);
  });

  it("accepts exactly 4096 characters after entity parsing and refuses 4097", async () => {
    const { api } = await boot();
    await expect(
      api.sendMessage(GROUP, `<b>${"a".repeat(4096)}</b>`, { parse_mode: "HTML" }),
    ).resolves.toMatchObject({ entities: [{ type: "bold", offset: 0, length: 4096 }] });
    const error = await rejection(api.sendMessage(GROUP, "a".repeat(4097)));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe("Bad Request: message is too long");
  });

  it("refuses text that is empty once parsed and trimmed", async () => {
    const { api } = await boot();
    for (const text of ["", "   \n", "<b></b>"]) {
      const error = await rejection(api.sendMessage(GROUP, text, { parse_mode: "HTML" }));
      expect(error.description).toBe("Bad Request: message text is empty");
    }
  });

  it("counts callback data in UTF-8 bytes, 64 at most", async () => {
    const { api } = await boot();
    await expect(
      api.sendMessage(GROUP, "ok", { reply_markup: keyboard("x".repeat(64)) }),
    ).resolves.toBeDefined();
    await expect(
      api.sendMessage(GROUP, "ok", { reply_markup: keyboard("é".repeat(32)) }),
    ).resolves.toBeDefined();
    for (const data of ["x".repeat(65), "é".repeat(33)]) {
      const error = await rejection(api.sendMessage(GROUP, "too much", { reply_markup: keyboard(data) }));
      expect(error.description).toBe("Bad Request: BUTTON_DATA_INVALID");
    }
  });

  it.each([
    ["<div>x</div>", 'Unsupported start tag "div" at byte offset 0'],
    ["<b>open", 'Can\'t find end tag corresponding to start tag "b"'],
    ["<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
    ["x</b>", "Unexpected end tag at byte offset 1"],
    ["5 < 6", 'Unsupported start tag "" at byte offset 2'],
    ["é <br>", 'Unsupported start tag "br" at byte offset 3'],
    ["<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
    ['<a href="x>y', "Unclosed start tag at byte offset 0"],
  ])("refuses the HTML %j", async (html, reason) => {
    const { api } = await boot();
    const error = await rejection(api.sendMessage(GROUP, html, { parse_mode: "HTML" }));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe(`Bad Request: can't parse entities: ${reason}`);
  });

  it("rejects a bare ampersand only when asked to be strict", () => {
    expect(parseTelegramHtml("AT&T &#128293;&#x41;").text).toBe("AT&T 🔥A");
    expect(() => parseTelegramHtml("AT&T", { strictAmpersand: true })).toThrow(/can't parse entities/);
  });

  it("knows only the configured chats when asked to, by id or @username", async () => {
    const { api } = await boot({ knownChats: [GROUP, "@oncall_room"] });
    await expect(api.sendMessage("@oncall_room", "hi")).resolves.toMatchObject({
      chat: { username: "oncall_room" },
    });
    const error = await rejection(api.sendMessage(-999, "hi"));
    expect(error.description).toBe("Bad Request: chat not found");
  });

  it("replies to a known message and refuses a missing one", async () => {
    const { api } = await boot();
    const card = await api.sendMessage(GROUP, "card");
    const reply = await api.sendMessage(GROUP, "on it", {
      reply_parameters: { message_id: card.message_id },
    });
    expect(reply.reply_to_message).toMatchObject({ message_id: card.message_id, text: "card" });
    const error = await rejection(api.sendMessage(GROUP, "lost", { reply_parameters: { message_id: 99 } }));
    expect(error.description).toBe("Bad Request: message to be replied not found");
  });
});

describe("editing and deleting", () => {
  it("edits in place and keeps the earlier versions", async () => {
    const clock = fakeClock();
    const { emu, api } = await boot({ now: clock.now });
    const card = await api.sendMessage(GROUP, "<b>firing</b>", {
      parse_mode: "HTML",
      reply_markup: keyboard("a"),
    });
    clock.advance(5_000);

    const edited = await api.editMessageText(GROUP, card.message_id, "<b>resolved</b>", {
      parse_mode: "HTML",
    });

    expect(edited).toMatchObject({ text: "resolved", edit_date: START / 1000 + 5 });
    // Editing the text without reply_markup removes the keyboard, as on Telegram.
    expect(edited).not.toHaveProperty("reply_markup");
    const [stored] = emu.messages(GROUP);
    expect(stored).toMatchObject({ text: "resolved", html: "<b>resolved</b>", editCount: 1 });
    expect(stored?.history).toEqual([
      {
        text: "firing",
        html: "<b>firing</b>",
        entities: [{ type: "bold", offset: 0, length: 6 }],
        reply_markup: keyboard("a"),
        date: START / 1000,
      },
    ]);
  });

  it("refuses an edit that changes nothing", async () => {
    const { api } = await boot();
    const card = await api.sendMessage(GROUP, "<i>same</i>", {
      parse_mode: "HTML",
      reply_markup: keyboard("a"),
    });
    const sameText = api.editMessageText(GROUP, card.message_id, "<i>same</i>", {
      parse_mode: "HTML",
      reply_markup: keyboard("a"),
    });
    const notModified =
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
    expect((await rejection(sameText)).description).toBe(notModified);
    const sameMarkup = api.editMessageReplyMarkup(GROUP, card.message_id, { reply_markup: keyboard("a") });
    expect((await rejection(sameMarkup)).description).toBe(notModified);
    // The same words without italics are a change.
    await expect(api.editMessageText(GROUP, card.message_id, "same")).resolves.toMatchObject({
      text: "same",
    });
  });

  it("refuses to edit or delete a message that does not exist", async () => {
    const { emu, api } = await boot();
    const card = await api.sendMessage(GROUP, "card");
    expect((await rejection(api.editMessageText(GROUP, 404, "x"))).description).toBe(
      "Bad Request: message to edit not found",
    );
    await api.deleteMessage(GROUP, card.message_id);
    expect(emu.messages(GROUP)).toEqual([]);
    expect((await rejection(api.deleteMessage(GROUP, card.message_id))).description).toBe(
      "Bad Request: message to delete not found",
    );
  });
});

describe("flood control", () => {
  it("answers 429 with retry_after once a group got 20 messages in a minute", async () => {
    const clock = fakeClock();
    // The per-chat pace (1/s after a burst) is lifted: this test is about the 20/min group limit,
    // and it sends 20 messages at one instant of a fake clock to reach it.
    const { api } = await boot({ now: clock.now, perChatPerSecond: 1_000, perChatBurst: 1_000 });
    await api.sendMessage(GROUP, "alert 0");
    clock.advance(10_000);
    for (let i = 1; i < 20; i++) await api.sendMessage(GROUP, `alert ${i}`);

    const first = await rejection(api.sendMessage(GROUP, "one too many"));
    expect(first.error_code).toBe(429);
    expect(first.description).toBe("Too Many Requests: retry after 50");
    expect(first.parameters.retry_after).toBe(50);
    await expect(api.sendMessage(-555, "another group is fine")).resolves.toBeDefined();

    clock.advance(49_500);
    expect((await rejection(api.sendMessage(GROUP, "still too many"))).parameters.retry_after).toBe(1);
    clock.advance(500); // the first alert is now 60 s old
    await expect(api.sendMessage(GROUP, "a slot freed")).resolves.toBeDefined();
    expect((await rejection(api.sendMessage(GROUP, "full again"))).parameters.retry_after).toBe(10);
  });

  it("limits messages per second over all chats", async () => {
    const clock = fakeClock();
    const { api } = await boot({ now: clock.now, perSecond: 3 });
    for (const chat of [1, 2, 3]) await api.sendMessage(chat, "hi");
    expect((await rejection(api.sendMessage(4, "hi"))).parameters.retry_after).toBe(1);
    clock.advance(1_000);
    await expect(api.sendMessage(4, "hi")).resolves.toBeDefined();
  });

  it("paces one chat at about one message a second after a short burst, private chats too", async () => {
    const clock = fakeClock();
    const { api } = await boot({ now: clock.now });
    for (const chat of [GROUP, PRIVATE]) {
      for (let i = 0; i < 3; i++) await api.sendMessage(chat, `burst ${i}`);
      const refused = await rejection(api.sendMessage(chat, "one too fast"));
      expect(refused.error_code).toBe(429);
      expect(refused.description).toBe("Too Many Requests: retry after 1");
      expect(refused.parameters.retry_after).toBe(1);
    }
    await expect(api.sendMessage(-555, "another chat has its own pace")).resolves.toBeDefined();
    clock.advance(1_000);
    await expect(api.sendMessage(GROUP, "one a second")).resolves.toBeDefined();
    expect((await rejection(api.sendMessage(GROUP, "not two"))).error_code).toBe(429);
    clock.advance(500);
    expect((await rejection(api.sendMessage(GROUP, "half a second later"))).parameters.retry_after).toBe(1);
    clock.advance(500);
    await expect(api.sendMessage(GROUP, "a second later")).resolves.toBeDefined();
  });

  it("charges edits to the per-chat pace as to the group budget", async () => {
    const clock = fakeClock();
    const { api } = await boot({ now: clock.now, perChatBurst: 2 });
    const card = await api.sendMessage(GROUP, "v1");
    await api.editMessageText(GROUP, card.message_id, "v2");
    expect((await rejection(api.editMessageText(GROUP, card.message_id, "v3"))).error_code).toBe(429);
    clock.advance(1_000);
    await expect(api.editMessageText(GROUP, card.message_id, "v3")).resolves.toBeDefined();
  });

  it("charges edits to the group budget unless countEdits is off", async () => {
    for (const countEdits of [true, false]) {
      const { api } = await boot({ groupPerMinute: 2, countEdits });
      const card = await api.sendMessage(GROUP, "v1");
      await api.editMessageText(GROUP, card.message_id, "v2");
      const next = api.sendMessage(GROUP, "another");
      if (countEdits) expect((await rejection(next)).error_code).toBe(429);
      else await expect(next).resolves.toBeDefined();
      await emulator?.close();
    }
  });
});

describe("callback queries", () => {
  it("delivers a button press to a polling bot and records its answer", async () => {
    const { emu, api } = await boot();
    const bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
    bot.on("callback_query:data", (ctx) =>
      ctx.answerCallbackQuery({ text: `got ${ctx.callbackQuery.data}` }),
    );
    const stop = await startPolling(bot);
    const card = await api.sendMessage(GROUP, "card", { reply_markup: keyboard("v1:approve:7") });

    const queryId = emu.pressButton({
      chatId: GROUP,
      messageId: card.message_id,
      fromUserId: 9,
      data: "v1:approve:7",
    });
    await emu.waitFor((call) => call.method === "answerCallbackQuery");
    await stop();

    expect(emu.answerOf(queryId)).toMatchObject({ callback_query_id: queryId, text: "got v1:approve:7" });
    const again = await rejection(api.answerCallbackQuery(queryId));
    expect(again.description).toBe(
      "Bad Request: query is too old and response timeout expired or query ID is invalid",
    );
    expect((await rejection(api.answerCallbackQuery("12345"))).error_code).toBe(400);
  });

  it("refuses an answer that comes after the callback window, even the first", async () => {
    const clock = fakeClock();
    const { emu, api } = await boot({ now: clock.now, callbackAnswerWindowMs: 5_000 });
    const card = await api.sendMessage(GROUP, "card", { reply_markup: keyboard("v1:silence:7") });
    const press = () =>
      emu.pressButton({ chatId: GROUP, messageId: card.message_id, fromUserId: 9, data: "v1:silence:7" });
    const inTime = press();
    clock.advance(5_000);
    await expect(api.answerCallbackQuery(inTime)).resolves.toBe(true);
    const late = press();
    clock.advance(5_001);
    const error = await rejection(api.answerCallbackQuery(late, { text: "Silenced" }));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe(
      "Bad Request: query is too old and response timeout expired or query ID is invalid",
    );
    expect(emu.answerOf(late)).toBeUndefined();
  });

  it("expires callback answers after 10 s by default", async () => {
    const clock = fakeClock();
    const { emu, api } = await boot({ now: clock.now });
    const card = await api.sendMessage(GROUP, "card", { reply_markup: keyboard("v1:approve:7") });
    const id = emu.pressButton({
      chatId: GROUP,
      messageId: card.message_id,
      fromUserId: 9,
      data: "v1:approve:7",
    });
    clock.advance(10_001);
    expect((await rejection(api.answerCallbackQuery(id))).error_code).toBe(400);
  });

  it("refuses to press a button the message does not have", async () => {
    const { emu, api } = await boot();
    const card = await api.sendMessage(GROUP, "card", { reply_markup: keyboard("v1:approve:7") });
    expect(() =>
      emu.pressButton({ chatId: GROUP, messageId: card.message_id, fromUserId: 9, data: "forged" }),
    ).toThrow(/no button/);
  });
});

describe("chats that change or go away", () => {
  const BASIC_GROUP = -4012345678;

  it("upgrades a group to a supergroup: 400 with migrate_to_chat_id, and both service messages", async () => {
    const { emu, api } = await boot();
    const card = await api.sendMessage(BASIC_GROUP, "card v1");
    const supergroup = emu.migrateChat(BASIC_GROUP);
    expect(supergroup).toBe(-1004012345678);

    for (const call of [
      api.sendMessage(BASIC_GROUP, "next card"),
      api.editMessageText(BASIC_GROUP, card.message_id, "card v2"),
      api.deleteMessage(BASIC_GROUP, card.message_id),
    ]) {
      const error = await rejection(call);
      expect(error.error_code).toBe(400);
      expect(error.description).toBe("Bad Request: group chat was upgraded to a supergroup chat");
      expect(error.parameters.migrate_to_chat_id).toBe(supergroup);
    }
    const moved = await api.sendMessage(supergroup, "card in the supergroup");
    expect(moved.chat).toMatchObject({ id: supergroup, type: "supergroup", title: `Group ${BASIC_GROUP}` });

    const updates = await api.getUpdates();
    expect(
      updates.map((u) => [
        u.message?.chat.id,
        u.message?.migrate_to_chat_id,
        u.message?.migrate_from_chat_id,
      ]),
    ).toEqual([
      [BASIC_GROUP, supergroup, undefined],
      [supergroup, undefined, BASIC_GROUP],
    ]);
    // the old group keeps its history
    expect(emu.messages(BASIC_GROUP).map((m) => m.text)).toContain("card v1");
  });

  it("delivers the migration service messages to a polling grammY bot", async () => {
    const { emu } = await boot();
    const bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
    const seen: string[] = [];
    bot.on("message:migrate_to_chat_id", (ctx) => {
      seen.push(`to ${ctx.message.migrate_to_chat_id}`);
    });
    bot.on("message:migrate_from_chat_id", (ctx) => {
      seen.push(`from ${ctx.message.migrate_from_chat_id}`);
    });
    const stop = await startPolling(bot);
    const supergroup = emu.migrateChat(BASIC_GROUP, { supergroupId: -1009999000000 });
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    await stop();
    expect(seen).toEqual([`to ${supergroup}`, `from ${BASIC_GROUP}`]);
  });

  it("refuses to migrate what is not a basic group", async () => {
    const { emu } = await boot();
    expect(() => emu.migrateChat(GROUP)).toThrow(/not a group/);
  });

  it("answers 403 once the bot was removed, worded per chat type, with a my_chat_member update", async () => {
    const { emu, api } = await boot();
    const card = await api.sendMessage(GROUP, "card");
    await api.sendMessage(BASIC_GROUP, "hello");
    await api.sendMessage(PRIVATE, "hello");
    emu.removeBot({ chatId: GROUP, byUserId: 77 });
    emu.removeBot({ chatId: BASIC_GROUP });
    emu.removeBot({ chatId: PRIVATE });

    const kicked = await rejection(api.sendMessage(GROUP, "next"));
    expect(kicked.error_code).toBe(403);
    expect(kicked.description).toBe("Forbidden: bot was kicked from the supergroup chat");
    expect((await rejection(api.editMessageText(GROUP, card.message_id, "v2"))).error_code).toBe(403);
    expect((await rejection(api.sendMessage(BASIC_GROUP, "next"))).description).toBe(
      "Forbidden: bot was kicked from the group chat",
    );
    expect((await rejection(api.sendMessage(PRIVATE, "next"))).description).toBe(
      "Forbidden: bot was blocked by the user",
    );

    const [update] = await api.getUpdates({ limit: 1 });
    expect(update?.my_chat_member).toMatchObject({
      chat: { id: GROUP },
      from: { id: 77 },
      old_chat_member: { status: "member", user: { id: emu.botId } },
      new_chat_member: { status: "kicked", user: { id: emu.botId } },
    });

    emu.addBot({ chatId: GROUP });
    await expect(api.sendMessage(GROUP, "back")).resolves.toBeDefined();
    const updates = await api.getUpdates({ offset: (update?.update_id ?? 0) + 1 });
    expect(updates.at(-1)?.my_chat_member?.new_chat_member.status).toBe("member");
  });

  it("answers 400 chat not found for a chat it does not know", async () => {
    const { api } = await boot({ knownChats: [GROUP] });
    const error = await rejection(api.editMessageText(-1007777, 1, "x"));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe("Bad Request: chat not found");
  });

  it("passes migrate_to_chat_id through an injected failure", async () => {
    const { emu, api } = await boot();
    emu.failNext("sendMessage", {
      error_code: 400,
      description: "Bad Request: group chat was upgraded to a supergroup chat",
      migrate_to_chat_id: -1001,
    });
    expect((await rejection(api.sendMessage(BASIC_GROUP, "x"))).parameters.migrate_to_chat_id).toBe(-1001);
  });
});

describe("commands", () => {
  it("stores valid commands", async () => {
    const { api } = await boot();
    const commands = [
      { command: "status", description: "Cluster status" },
      { command: "silence_1h", description: "x".repeat(256) },
    ];
    await api.setMyCommands(commands);
    expect(await api.getMyCommands()).toEqual(commands);
  });

  it("keeps one list per language_code and shows a user the one of their language, else the default", async () => {
    const { api, emu } = await boot();
    await api.setMyCommands([{ command: "help", description: "What the bot can do" }]);
    await api.setMyCommands([{ command: "help", description: "機器人的功能" }], { language_code: "zh" });
    expect(await api.getMyCommands({ language_code: "zh" })).toEqual([
      { command: "help", description: "機器人的功能" },
    ]);
    expect(emu.commandMenu("zh")[0]?.description).toBe("機器人的功能");
    expect(emu.commandMenu("de")[0]?.description).toBe("What the bot can do");
    expect(emu.commandMenu()[0]?.description).toBe("What the bot can do");
  });

  it("refuses a language_code that is not two letters (zh-TW is not one)", async () => {
    const { api } = await boot();
    const error = await rejection(
      api.setMyCommands([{ command: "help", description: "x" }], { language_code: "zh-TW" as "zh" }),
    );
    expect(error.description).toBe("Bad Request: invalid language code specified");
  });

  it.each([
    ["an upper-case command", "Status", "ok", "Bad Request: BOT_COMMAND_INVALID"],
    ["a dash", "has-dash", "ok", "Bad Request: BOT_COMMAND_INVALID"],
    ["a 33-character command", "a".repeat(33), "ok", "Bad Request: command length must not exceed 32"],
    ["an empty command", "", "ok", "Bad Request: command must be non-empty"],
    ["an empty description", "help", "", "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"],
    [
      "a 257-character description",
      "help",
      "x".repeat(257),
      "Bad Request: command description length must not exceed 256",
    ],
  ])("refuses %s", async (_case, command, description, expected) => {
    const { api } = await boot();
    const error = await rejection(api.setMyCommands([{ command, description }]));
    expect(error.description).toBe(expected);
  });
});

describe("long polling", () => {
  it("delivers a user command to bot.start() with its bot_command entity", async () => {
    const { emu } = await boot();
    const bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
    bot.command("status", (ctx) => ctx.reply(`all green, ${ctx.from?.id ?? 0}`));
    const stop = await startPolling(bot);

    const sent = emu.sendUserMessage({ chatId: GROUP, fromUserId: 77, text: "/status@chatops_test_bot now" });
    await emu.waitFor((call) => call.method === "sendMessage");
    await stop();

    expect(sent.entities).toEqual([{ type: "bot_command", offset: 0, length: 24 }]);
    expect(emu.messages(GROUP).map((m) => [m.message_id, m.from_bot, m.text])).toEqual([
      [1, false, "/status@chatops_test_bot now"],
      [2, true, "all green, 77"],
    ]);
  });

  it("never delivers an update again once the offset confirmed it", async () => {
    const { emu, api } = await boot();
    const first = emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "one" });
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "two" });

    const batch = await api.getUpdates({ limit: 1 });
    expect(batch.map((u) => u.message?.message_id)).toEqual([first.message_id]);
    const [only] = batch;
    const rest = await api.getUpdates({ offset: (only?.update_id ?? 0) + 1 });
    expect(rest.map((u) => u.message?.text)).toEqual(["two"]);
    const last = rest[0]?.update_id ?? 0;
    expect(await api.getUpdates({ offset: last + 1 })).toEqual([]);
    expect(await api.getUpdates()).toEqual([]);
  });

  it("holds getUpdates for its timeout when nothing is pending", async () => {
    const { api } = await boot();
    const started = Date.now();
    expect(await api.getUpdates({ timeout: 1 })).toEqual([]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("answers a waiting poll as soon as an update arrives", async () => {
    const { emu, api } = await boot();
    const poll = api.getUpdates({ timeout: 10 });
    await vi.waitFor(() => expect(emu.pollPending).toBe(true));
    const updateId = emu.pushUpdate({
      message: {
        message_id: 1,
        date: 1,
        chat: { id: PRIVATE, type: "private", first_name: "Ann" },
        from: { id: PRIVATE, is_bot: false, first_name: "Ann" },
        text: "hi",
      },
    });
    expect((await poll).map((u) => u.update_id)).toEqual([updateId]);
  });

  it("ends the older of two concurrent polls with 409 Conflict", async () => {
    const { emu, api } = await boot();
    const older = api.getUpdates({ timeout: 10 });
    await vi.waitFor(() => expect(emu.pollPending).toBe(true));
    const newer = api.getUpdates({ timeout: 10 });

    const conflict = await rejection(older);
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toBe(
      "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    );
    await vi.waitFor(() => expect(emu.pollPending).toBe(true));
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "hi" });
    expect((await newer).map((u) => u.message?.text)).toEqual(["hi"]);
  });

  it("releases a waiting poll promptly on close()", async () => {
    const { emu, api } = await boot();
    const poll = api.getUpdates({ timeout: 30 });
    await vi.waitFor(() => expect(emu.pollPending).toBe(true));
    const started = Date.now();
    await emu.close();
    expect(await poll).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("queues only the update types allowed_updates asked for", async () => {
    const { emu, api } = await boot();
    await api.getUpdates({ allowed_updates: ["callback_query"] });
    emu.sendUserMessage({ chatId: PRIVATE, fromUserId: PRIVATE, text: "ignored" });
    const card = await api.sendMessage(PRIVATE, "card", { reply_markup: keyboard("go") });
    emu.pressButton({ chatId: PRIVATE, messageId: card.message_id, fromUserId: PRIVATE, data: "go" });
    const updates = await api.getUpdates();
    expect(updates.map((u) => Object.keys(u).filter((k) => k !== "update_id"))).toEqual([["callback_query"]]);
  });
});

describe("inspection and control", () => {
  it("fails the next call as told, logs every call, and forgets everything on reset()", async () => {
    const { emu, api } = await boot();
    emu.failNext("sendMessage", {
      error_code: 429,
      description: "Too Many Requests: retry after 7",
      retry_after: 7,
    });
    const injected = await rejection(api.sendMessage(GROUP, "first"));
    expect(injected.parameters.retry_after).toBe(7);
    await api.sendMessage(GROUP, "second");
    expect(emu.callsOf("sendMessage").map((c) => [c.status, c.params.text])).toEqual([
      [429, "first"],
      ["ok", "second"],
    ]);

    emu.reset();
    expect(emu.calls).toEqual([]);
    expect(emu.messages(GROUP)).toEqual([]);
    await expect(api.sendMessage(GROUP, "fresh")).resolves.toMatchObject({ message_id: 1 });
  });

  it("answers every call with a server error during an outage, and works again once it ends", async () => {
    const { emu, api } = await boot();
    emu.outage({ error_code: 502, description: "Bad Gateway" });
    for (const call of [() => api.getMe(), () => api.sendMessage(GROUP, "lost")]) {
      const error = await rejection(call());
      expect([error.error_code, error.description]).toEqual([502, "Bad Gateway"]);
    }
    expect(emu.messages(GROUP)).toEqual([]);
    emu.outage(undefined);
    await expect(api.sendMessage(GROUP, "back")).resolves.toMatchObject({ text: "back" });
  });

  it("rejects waitFor when no matching call comes in time", async () => {
    const { emu } = await boot();
    await expect(emu.waitFor((call) => call.method === "sendMessage", 50)).rejects.toThrow(/within 50 ms/);
  });

  it("runs standalone, printing the chat and taking user input over HTTP", async () => {
    const print = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      emulator = await main(["--port", "0", "--token", "555:DEMO"]);
      const api = new Api("555:DEMO", { apiRoot: emulator.apiRoot });
      await api.sendMessage(GROUP, "<b>P1</b> disk full", {
        parse_mode: "HTML",
        reply_markup: keyboard("v1:ack:3"),
      });
      const response = await fetch(`${emulator.apiRoot}/emulator/user-message`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ chat_id: GROUP, from_user_id: 9, text: "/status" }),
      });
      expect(response.status).toBe(200);
      expect((await api.getUpdates()).map((u) => u.message?.text)).toEqual(["/status"]);
      const lines = print.mock.calls.map((args) => String(args[0]));
      expect(lines).toContain(`[${GROUP}] bot #1: P1 disk full\n    [Button 0]`);
      expect(lines).toContain(`[${GROUP}] user 9: /status`);

      const control = async (path: string, body: unknown) => {
        const answer = await fetch(`${emulator?.apiRoot ?? ""}/emulator/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        expect(answer.status).toBe(200);
        return ((await answer.json()) as { result: unknown }).result;
      };
      const supergroup = await control("migrate-chat", { chat_id: -4012345678 });
      expect(supergroup).toBe(-1004012345678);
      await control("remove-bot", { chat_id: GROUP, by_user_id: 9 });
      expect((await rejection(api.sendMessage(GROUP, "x"))).error_code).toBe(403);
      await control("add-bot", { chat_id: GROUP });
      await expect(api.sendMessage(GROUP, "back")).resolves.toBeDefined();
      expect(print.mock.calls.map((args) => String(args[0]))).toEqual(
        expect.arrayContaining([
          `[-4012345678] upgraded to supergroup -1004012345678`,
          `[${GROUP}] bot removed`,
        ]),
      );
    } finally {
      print.mockRestore();
    }
  });
});

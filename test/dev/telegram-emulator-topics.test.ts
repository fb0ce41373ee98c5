// Forum topics in the Telegram emulator, as the Bot API behaves: a topic is named by its creation
// message, messages in it carry message_thread_id and is_topic_message, a send to a thread that is
// no topic (deleted, never created, the General topic's 1) answers 400 "message thread not found",
// a reply goes where the replied-to message is, and grammY's ctx.reply answers inside the topic.
import { afterEach, describe, expect, it } from "vitest";
import { Api, Bot, GrammyError } from "grammy";
import { TelegramEmulator, type TelegramEmulatorOptions } from "../../dev/emulators/telegram.js";

const FORUM = -1001234567890;
const PLAIN_SUPERGROUP = -1009876543210;

let emulator: TelegramEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function boot(options: TelegramEmulatorOptions = {}): Promise<{ emu: TelegramEmulator; api: Api }> {
  emulator = await TelegramEmulator.start(options);
  return { emu: emulator, api: new Api(emulator.token, { apiRoot: emulator.apiRoot }) };
}

async function rejection(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

describe("forum topics", () => {
  it("posts into a topic: message_thread_id and is_topic_message, and the chat is a forum", async () => {
    const { emu, api } = await boot({ forumTopics: [{ chatId: FORUM, threadId: 42, name: "Incidents" }] });
    const card = await api.sendMessage(FORUM, "card", { message_thread_id: 42 });
    expect(card).toMatchObject({ message_thread_id: 42, is_topic_message: true });
    expect(card.chat).toMatchObject({ id: FORUM, type: "supergroup", is_forum: true });
    const general = await api.sendMessage(FORUM, "in General");
    expect(general.message_thread_id).toBeUndefined();
    expect(general.is_topic_message).toBeUndefined();

    // the topic also holds its creation message (forum_topic_created), which has no text
    expect(emu.topicMessages(FORUM, 42).map((m) => [m.from_bot, m.text])).toEqual([
      [false, ""],
      [true, "card"],
    ]);
    expect(emu.topicMessages(FORUM, undefined).map((m) => m.text)).toEqual(["in General"]);
    // an edit names the message alone and leaves it in its topic
    await api.editMessageText(FORUM, card.message_id, "card v2");
    expect(emu.message(FORUM, card.message_id)).toMatchObject({ text: "card v2", topic: 42 });
  });

  it("answers 400 message thread not found for a thread that is no topic, General's 1 included", async () => {
    const { api } = await boot({ forumTopics: [{ chatId: FORUM, threadId: 42, name: "Incidents" }] });
    for (const [chatId, threadId] of [
      [FORUM, 43],
      [FORUM, 1],
      [PLAIN_SUPERGROUP, 42],
    ] as const) {
      const error = await rejection(api.sendMessage(chatId, "x", { message_thread_id: threadId }));
      expect(error.error_code).toBe(400);
      expect(error.description).toBe("Bad Request: message thread not found");
    }
  });

  it("deletes a topic with its messages: edits find nothing, sends find no thread", async () => {
    const { emu, api } = await boot({ forumTopics: [{ chatId: FORUM, threadId: 42, name: "Incidents" }] });
    const card = await api.sendMessage(FORUM, "card", { message_thread_id: 42 });
    const elsewhere = await api.sendMessage(FORUM, "General stays");
    emu.deleteTopic(FORUM, 42);

    expect((await rejection(api.editMessageText(FORUM, card.message_id, "v2"))).description).toBe(
      "Bad Request: message to edit not found",
    );
    expect((await rejection(api.sendMessage(FORUM, "x", { message_thread_id: 42 }))).description).toBe(
      "Bad Request: message thread not found",
    );
    expect(emu.messages(FORUM).map((m) => m.message_id)).toEqual([elsewhere.message_id]);
  });

  it("names a new topic by its creation message, which reaches the bot as an update", async () => {
    const { emu, api } = await boot({ knownChats: [FORUM] });
    await api.sendMessage(FORUM, "before the forum");
    const threadId = emu.openTopic(FORUM, "Database");
    expect(threadId).toBe(2);
    const [update] = await api.getUpdates();
    expect(update?.message).toMatchObject({
      message_id: threadId,
      message_thread_id: threadId,
      is_topic_message: true,
      forum_topic_created: { name: "Database" },
    });
    expect((await api.sendMessage(FORUM, "x", { message_thread_id: threadId })).message_thread_id).toBe(
      threadId,
    );
    expect(() => emu.openTopic(-4012345678, "no")).toThrow(/only a supergroup/);
  });

  it("puts a reply where the replied-to message is: its topic, or General's reply thread", async () => {
    const { api } = await boot({
      forumTopics: [{ chatId: FORUM, threadId: 42, name: "Incidents" }],
      // five sends in a row to one chat: this test is about threads, not Telegram's per-chat pace
      perChatBurst: 10,
    });
    const card = await api.sendMessage(FORUM, "card", { message_thread_id: 42 });
    const reply = await api.sendMessage(FORUM, "reminder", {
      reply_parameters: { message_id: card.message_id, allow_sending_without_reply: true },
    });
    expect(reply).toMatchObject({ message_thread_id: 42, is_topic_message: true });

    const inGeneral = await api.sendMessage(FORUM, "general card");
    const answer = await api.sendMessage(FORUM, "answer", {
      reply_parameters: { message_id: inGeneral.message_id },
    });
    // a thread id, but no topic: sending back to that thread id is what fails
    expect(answer.message_thread_id).toBe(inGeneral.message_id);
    expect(answer.is_topic_message).toBeUndefined();
    expect(
      (await rejection(api.sendMessage(FORUM, "x", { message_thread_id: inGeneral.message_id }))).description,
    ).toBe("Bad Request: message thread not found");
  });

  it("delivers a command written in a topic so that grammY's ctx.reply answers in that topic", async () => {
    const { emu } = await boot({ forumTopics: [{ chatId: FORUM, threadId: 42, name: "Incidents" }] });
    const bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
    bot.command("ping", (ctx) => ctx.reply("pong"));
    await bot.init();
    const asked = emu.sendUserMessage({ chatId: FORUM, fromUserId: 7, text: "/ping", threadId: 42 });
    expect(asked).toMatchObject({ message_thread_id: 42, is_topic_message: true });
    const inGeneral = emu.sendUserMessage({ chatId: FORUM, fromUserId: 7, text: "/ping" });
    for (const update of await bot.api.getUpdates()) await bot.handleUpdate(update);

    const pongs = emu.messages(FORUM).filter((m) => m.from_bot);
    expect(pongs.map((m) => [m.text, m.topic])).toEqual([
      ["pong", 42],
      ["pong", undefined],
    ]);
    expect(inGeneral.message_thread_id).toBeUndefined();
    expect(() => emu.sendUserMessage({ chatId: FORUM, fromUserId: 7, text: "x", threadId: 99 })).toThrow(
      /no topic 99/,
    );
  });

  it("opens and deletes topics over the control routes the demo drives", async () => {
    const { emu, api } = await boot({ knownChats: [FORUM] });
    const control = (path: string, body: unknown) =>
      fetch(`${emu.apiRoot}/emulator/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((response) => response.json() as Promise<{ ok: boolean; result: unknown }>);
    expect(await control("open-topic", { chat_id: FORUM, name: "Ops", message_thread_id: 77 })).toEqual({
      ok: true,
      result: 77,
    });
    await api.sendMessage(FORUM, "x", { message_thread_id: 77 });
    await control("delete-topic", { chat_id: FORUM, message_thread_id: 77 });
    expect((await rejection(api.sendMessage(FORUM, "x", { message_thread_id: 77 }))).error_code).toBe(400);
  });
});

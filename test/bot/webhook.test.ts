// The bot role in webhook mode: setWebhook with the URL, the secret and the update types the bot
// handles, retried while Telegram is unreachable, not retried when Telegram refuses the URL; and the
// http role's update handler, which initialises the bot on the first update.
import { Bot } from "grammy";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startWebhook, updateHandler } from "../../bot/webhook.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";
import { freePort } from "../../dev/processes.js";

const TOKEN = "123456:TEST-TOKEN";
const SECRET = "0123456789abcdef0123456789abcdef";

function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, lines };
}

let telegram: TelegramEmulator | undefined;
afterEach(async () => {
  await telegram?.close();
  telegram = undefined;
});

describe("startWebhook", () => {
  it("sets the webhook with the secret and the update types the bot handles, once Telegram answers", async () => {
    const port = await freePort();
    const bot = new Bot(TOKEN, { client: { apiRoot: `http://127.0.0.1:${port}` } });
    const { logger, lines } = recordingLogger();
    let ready = 0;
    const webhook = startWebhook(
      bot,
      { url: "https://bot.example.org/telegram/hook", secret: SECRET },
      logger,
      async () => {
        ready++;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few refused getMe attempts
    telegram = new TelegramEmulator({ token: TOKEN, port });
    await telegram.start();
    try {
      const call = await telegram.waitFor((c) => c.method === "setWebhook" && c.status === "ok", 10_000);
      expect(call.params.url).toBe("https://bot.example.org/telegram/hook");
      expect(call.params.secret_token).toBe(SECRET);
      expect(call.params.allowed_updates).toEqual(
        expect.arrayContaining(["message", "callback_query", "my_chat_member"]),
      );
      expect(ready).toBe(1);
      await expect.poll(() => lines.some((line) => line.msg === "bot webhook set")).toBe(true);
      expect(telegram.callsOf("getUpdates")).toHaveLength(0);
    } finally {
      await webhook.stop();
    }
  });

  it("gives up on a URL Telegram refuses, saying so", async () => {
    telegram = await TelegramEmulator.start({ token: TOKEN });
    const bot = new Bot(TOKEN, { client: { apiRoot: telegram.apiRoot } });
    const { logger, lines } = recordingLogger();
    const webhook = startWebhook(bot, { url: "http://bot.example.org/hook", secret: SECRET }, logger);
    try {
      await expect
        .poll(() => lines.find((line) => line.msg === "Telegram refused TELEGRAM_WEBHOOK_URL")?.level)
        .toBe(50);
      expect(telegram.callsOf("setWebhook")).toHaveLength(1);
    } finally {
      await webhook.stop();
    }
  });
});

describe("updateHandler", () => {
  it("initialises the bot on the first update and hands every update to it", async () => {
    telegram = await TelegramEmulator.start({ token: TOKEN });
    const bot = new Bot(TOKEN, { client: { apiRoot: telegram.apiRoot } });
    const seen: string[] = [];
    bot.on("message:text", (ctx) => void seen.push(ctx.message.text));
    const handle = updateHandler(bot);
    const message = (id: number, text: string) => ({
      update_id: id,
      message: {
        message_id: id,
        date: 1,
        chat: { id: 42, type: "private" as const, first_name: "Ann" },
        from: { id: 42, is_bot: false, first_name: "Ann" },
        text,
      },
    });
    await Promise.all([handle(message(1, "one")), handle(message(2, "two"))]);
    expect(seen.sort()).toEqual(["one", "two"]);
    expect(telegram.callsOf("getMe")).toHaveLength(1);
  });
});

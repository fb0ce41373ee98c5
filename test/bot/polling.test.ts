import { Bot } from "grammy";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startPolling } from "../../bot/polling.js";
import { freePort } from "../../dev/processes.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const TOKEN = "123456:TEST-TOKEN";

function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, lines };
}

describe("startPolling", () => {
  it("does not block while Telegram is unreachable, and polls once it answers", async () => {
    const port = await freePort();
    const bot = new Bot(TOKEN, { client: { apiRoot: `http://127.0.0.1:${port}` } });
    let handled = 0;
    bot.on("message", () => void handled++);
    const { logger, lines } = recordingLogger();
    const polling = startPolling(bot, logger); // returns at once
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few refused attempts
    expect(bot.isInited()).toBe(false);

    const telegram = new TelegramEmulator({ token: TOKEN, port });
    await telegram.start();
    try {
      await expect.poll(() => telegram.pollPending, { timeout: 5_000 }).toBe(true);
      telegram.sendUserMessage({ chatId: 42, fromUserId: 42, text: "hello" });
      await expect.poll(() => handled, { timeout: 5_000 }).toBe(1);
      expect(lines.some((line) => line.msg === "bot polling")).toBe(true);
    } finally {
      await polling.stop();
      await telegram.close();
    }
  });

  it("gives up on a token Telegram rejects, saying so", async () => {
    const telegram = new TelegramEmulator({ token: TOKEN });
    await telegram.start();
    try {
      const bot = new Bot("999:WRONG", { client: { apiRoot: telegram.apiRoot } });
      const { logger, lines } = recordingLogger();
      const polling = startPolling(bot, logger);
      await expect
        .poll(() => lines.some((line) => line.msg.includes("rejected TELEGRAM_BOT_TOKEN")))
        .toBe(true);
      await polling.stop();
      expect(telegram.callsOf("getUpdates")).toHaveLength(0);
    } finally {
      await telegram.close();
    }
  });

  it("stops promptly while Telegram is still unreachable", async () => {
    const bot = new Bot(TOKEN, { client: { apiRoot: `http://127.0.0.1:${await freePort()}` } });
    const polling = startPolling(bot, pino({ level: "silent" }));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const started = Date.now();
    await polling.stop();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

import { autoRetry } from "@grammyjs/auto-retry";
import { Api, Bot } from "grammy";
import type { PollingState } from "../../kv/telegram-health.js";
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

  it("waits out a 409 from a second poller with growing pauses, and polls again once it is gone", async () => {
    const telegram = new TelegramEmulator({ token: TOKEN });
    await telegram.start();
    // another copy of the bot, somewhere, long-polling with the same token
    let otherPolls = true;
    const other = new Api(TOKEN, { apiRoot: telegram.apiRoot });
    const otherLoop = (async () => {
      while (otherPolls) await other.getUpdates({ timeout: 1 }).catch(() => undefined);
    })();
    await expect.poll(() => telegram.pollPending).toBe(true);

    const bot = new Bot(TOKEN, { client: { apiRoot: telegram.apiRoot } });
    let handled = 0;
    bot.on("message", () => void handled++);
    const { logger, lines } = recordingLogger();
    const states: PollingState[] = [];
    // pauses and settling shortened from 2-30 s and 5 s, so the test waits seconds, not minutes
    const polling = startPolling(bot, logger, undefined, undefined, {
      report: (state) => states.push(state),
      retryMs: { first: 100, max: 400 },
      settleMs: 1_500,
    });
    try {
      await expect.poll(() => states.at(-1), { timeout: 10_000 }).toBe("conflict");
      // still in conflict a few attempts later, and said so once
      await expect
        .poll(() => telegram.callsOf("getUpdates").filter((call) => call.status === 409).length, {
          timeout: 10_000,
        })
        .toBeGreaterThan(6);
      expect(states.at(-1)).toBe("conflict");
      expect(lines.filter((line) => line.msg.includes("409 Conflict"))).toHaveLength(1);
      expect(lines.filter((line) => line.msg === "bot polling")).toHaveLength(1);

      otherPolls = false;
      await otherLoop;
      await expect.poll(() => states.at(-1), { timeout: 10_000 }).toBe("polling");
      expect(lines.some((line) => line.msg === "bot polling again: the other poller is gone")).toBe(true);
      telegram.sendUserMessage({ chatId: 42, fromUserId: 42, text: "back" });
      await expect.poll(() => handled, { timeout: 5_000 }).toBe(1);
      expect(states).not.toContain("stopped");
    } finally {
      otherPolls = false;
      await polling.stop();
      await telegram.close();
    }
  });

  it("reports a token Telegram rejects", async () => {
    const telegram = new TelegramEmulator({ token: TOKEN });
    await telegram.start();
    try {
      const bot = new Bot("123456:REVOKED", { client: { apiRoot: telegram.apiRoot } });
      const states: PollingState[] = [];
      const polling = startPolling(bot, pino({ level: "silent" }), undefined, undefined, {
        report: (state) => states.push(state),
      });
      await expect.poll(() => states).toEqual(["starting", "token_rejected"]);
      await polling.stop();
    } finally {
      await telegram.close();
    }
  });

  it("stops while polling though Telegram went away, instead of retrying the last offset forever", async () => {
    const telegram = new TelegramEmulator({ token: TOKEN });
    await telegram.start();
    const bot = new Bot(TOKEN, { client: { apiRoot: telegram.apiRoot } });
    // as in the bot (bot/index.ts): network errors are retried with backoff, without end
    bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120 }));
    const polling = startPolling(bot, pino({ level: "silent" }));
    await expect.poll(() => telegram.pollPending, { timeout: 5_000 }).toBe(true);
    await telegram.close();
    // resolves (the test would time out otherwise): the offset confirmation gave up
    await polling.stop();
    expect(bot.isRunning()).toBe(false);
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

import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBot, registerCommands } from "../../bot/index.js";
import { startPolling } from "../../bot/polling.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";
import { botCommands } from "../../bot/commands/help.js";
import { messagesFor } from "../../domain/i18n/index.js";

const TOKEN = "123456:TEST-TOKEN";

function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, lines };
}

let telegram: TelegramEmulator;
beforeEach(async () => {
  telegram = new TelegramEmulator({ token: TOKEN });
  await telegram.start();
});
afterEach(async () => {
  await telegram.close();
});

describe("registerCommands", () => {
  it("gives Telegram the six commands once polling can start", async () => {
    const { logger } = recordingLogger();
    const bot = createBot({ token: TOKEN, apiRoot: telegram.apiRoot, logger });
    const polling = startPolling(bot, logger, () => registerCommands(bot, logger));
    try {
      await expect.poll(() => telegram.pollPending, { timeout: 5_000 }).toBe(true);
      const commands = await bot.api.getMyCommands();
      expect(commands.map((c) => c.command)).toEqual([
        "status",
        "incidents",
        "ack",
        "silence",
        "rollback",
        "whoami",
        "help",
      ]);
    } finally {
      await polling.stop();
    }
  });

  it("registers the menu per language (zh, en) and the default in BOT_LANGUAGE", async () => {
    const { logger } = recordingLogger();
    const bot = createBot({ token: TOKEN, apiRoot: telegram.apiRoot, logger });
    await registerCommands(bot, logger, "zh-TW");
    const chinese = telegram.commandMenu("zh");
    expect(chinese.map((c) => c.command)).toEqual(botCommands("en").map((c) => c.command));
    expect(chinese.find((c) => c.command === "ack")?.description).toBe(messagesFor("zh-TW").commands.ack);
    expect(telegram.commandMenu("en").find((c) => c.command === "ack")?.description).toBe(
      messagesFor("en").commands.ack,
    );
    // a user of any other language gets BOT_LANGUAGE's list
    expect(telegram.commandMenu("ja")).toEqual(chinese);
    expect(telegram.callsOf("setMyCommands").map((call) => call.params.language_code ?? "")).toEqual([
      "en",
      "zh",
      "",
    ]);
  });

  it("only logs when Telegram refuses them; polling still starts", async () => {
    const { logger, lines } = recordingLogger();
    const bot = createBot({ token: TOKEN, apiRoot: telegram.apiRoot, logger });
    telegram.failNext("setMyCommands", {
      error_code: 400,
      description: "Bad Request: BOT_COMMANDS_TOO_MUCH",
    });
    let handled = 0;
    bot.command("ping", () => void handled++);
    const polling = startPolling(bot, logger, () => registerCommands(bot, logger));
    try {
      await expect.poll(() => telegram.pollPending, { timeout: 5_000 }).toBe(true);
      expect(lines.some((line) => line.msg === "could not register the bot commands with Telegram")).toBe(
        true,
      );
      telegram.sendUserMessage({ chatId: 42, fromUserId: 42, text: "/ping" });
      await expect.poll(() => handled, { timeout: 5_000 }).toBe(1);
    } finally {
      await polling.stop();
    }
  });
});

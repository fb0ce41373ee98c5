// A press whose handler is slow is still answered within Telegram's window ("Working on it…"), and
// the handler's own late answer is not sent; a fast handler's answer is its own. Against the
// emulator, whose answer window is shortened to 1 s so the test need not outwait Telegram's.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { packCallbackData } from "../../bot/callback-data/callback-data.js";
import { messagesFor } from "../../domain/i18n/index.js";

const WORKING_ON_IT = messagesFor("en").answers.workingOnIt;
import { createBot } from "../../bot/index.js";
import { startPolling, type Polling } from "../../bot/polling.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const CHAT = -1001234567890;
const DATA = packCallbackData({ verb: "approve", id: "INC-20260101-0001" });

let telegram: TelegramEmulator | undefined;
let polling: Polling | undefined;
afterEach(async () => {
  await polling?.stop();
  await telegram?.close();
});

async function pressWith(approve: () => Promise<{ text: string }>) {
  telegram = await TelegramEmulator.start({ callbackAnswerWindowMs: 1_000 });
  const logger = pino({ level: "silent" });
  const bot = createBot({
    token: telegram.token,
    apiRoot: telegram.apiRoot,
    logger,
    answerCallbacksWithinMs: 200,
    buttons: { approve },
  });
  polling = startPolling(bot, logger);
  const card = await bot.api.sendMessage(CHAT, "card", {
    reply_markup: { inline_keyboard: [[{ text: "Approve", callback_data: DATA }]] },
  });
  return telegram.pressButton({ chatId: CHAT, messageId: card.message_id, fromUserId: 1001, data: DATA });
}

describe("answering presses in time", () => {
  it("answers a slow press itself and drops the handler's late answer", async () => {
    let release = (): void => undefined;
    let finished = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const query = await pressWith(async () => {
      await gate;
      finished = true;
      return { text: "Approved." };
    });
    await expect.poll(() => telegram?.answerOf(query)?.text, { timeout: 5_000 }).toBe(WORKING_ON_IT);
    release();
    await expect.poll(() => finished, { timeout: 5_000 }).toBe(true);
    await polling?.stop();
    polling = undefined;
    const answers = telegram?.callsOf("answerCallbackQuery") ?? [];
    expect(answers.map((call) => [call.status, call.params.text])).toEqual([["ok", WORKING_ON_IT]]);
  });

  it("leaves a fast press its own answer", async () => {
    const query = await pressWith(() => Promise.resolve({ text: "Approved." }));
    await expect.poll(() => telegram?.answerOf(query)?.text, { timeout: 5_000 }).toBe("Approved.");
    expect(telegram?.callsOf("answerCallbackQuery")).toHaveLength(1);
  });
});

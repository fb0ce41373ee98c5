// A person in the test chat, for tests that drive the bot through the Telegram emulator: writes a
// message and waits for the bot's answer, presses a button and waits for its toast, finds buttons.
import type { InlineKeyboardButton } from "grammy/types";
import { expect } from "vitest";
import { CHAT_ID, waitForChat, type Stack } from "../../dev/stack.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

export function buttons(message: EmulatedMessage | undefined): InlineKeyboardButton.CallbackButton[] {
  return (message?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .filter((button): button is InlineKeyboardButton.CallbackButton => "callback_data" in button);
}

export function button(
  message: EmulatedMessage | undefined,
  text: string | RegExp,
): InlineKeyboardButton.CallbackButton {
  const found = buttons(message).find((b) =>
    typeof text === "string" ? b.text === text : text.test(b.text),
  );
  if (found === undefined)
    throw new Error(`no button ${String(text)} in ${JSON.stringify(buttons(message))}`);
  return found;
}

/** `stack()` is read at each call, so the helpers can be made before the stack starts. */
export function chatUser(stack: () => Stack, defaultUser: number) {
  return {
    /** The user writes `text`; resolves with the bot's first later message matching `predicate`. */
    say: async (
      text: string,
      predicate: (message: EmulatedMessage) => boolean = () => true,
      from = defaultUser,
    ): Promise<EmulatedMessage> => {
      const sent = stack().telegram.sendUserMessage({
        chatId: CHAT_ID,
        fromUserId: from,
        username: `user${from}`,
        text,
      });
      const find = (all: EmulatedMessage[]) =>
        all.find((m) => m.from_bot && m.message_id > sent.message_id && predicate(m));
      return find(
        await waitForChat(stack().telegram, (all) => find(all) !== undefined, 10_000),
      ) as EmulatedMessage;
    },

    /** Presses a button; resolves once the bot answered the press. */
    press: async (
      message: EmulatedMessage,
      data: string,
      from = defaultUser,
    ): Promise<Readonly<Record<string, unknown>>> => {
      const id = stack().telegram.pressButton({
        chatId: CHAT_ID,
        messageId: message.message_id,
        fromUserId: from,
        username: `user${from}`,
        data,
      });
      await expect.poll(() => stack().telegram.answerOf(id), { timeout: 5_000 }).toBeDefined();
      return stack().telegram.answerOf(id) ?? {};
    },
  };
}

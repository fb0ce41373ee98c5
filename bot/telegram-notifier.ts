// Shows incident cards in Telegram: posts once (into a forum topic when the place names one),
// edits in place afterwards. A chat that takes no message (migrated, bot removed, unknown, topic
// gone) is an answer, not an error (bot/chat-refusal.ts). A P0's card, posted or edited, goes
// ahead of the lower cards waiting for the same chat (bot/send-throttle.ts). An edit keeps the
// Snooze or Silence choices a person opened on the card (kv/open-choices.ts) while the card still
// offers that button.
import type { Api } from "grammy";
import { editInPlace } from "./edit-in-place.js";
import { type Notifier, type IncidentCard } from "../domain/card.js";
import { renderTelegramCard } from "./cards/render-telegram.js";
import { refusedOr } from "./chat-refusal.js";
import { sendTarget } from "./send-target.js";
import { sendWith } from "./send-throttle.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";
import { choiceKeyboard } from "./cards/choice-keyboard.js";
import type { OpenChoices } from "../kv/open-choices.js";

export function telegramNotifier(
  api: Api,
  options: {
    timeZone?: string;
    language?: Language;
    choices?: Pick<OpenChoices, "shown" | "close">;
  } = {},
): Notifier {
  const render = (card: IncidentCard) => {
    const { text, replyMarkup } = renderTelegramCard(card, options);
    const markup = replyMarkup ?? { inline_keyboard: [] };
    return { text, markup };
  };
  /** The choices open on this message, when the card still offers their button. */
  const keptChoices = async (chatId: string, messageId: number, card: IncidentCard) => {
    const verb = await options.choices?.shown(chatId, messageId);
    if (verb === undefined) return undefined;
    // resolved, or silenced meanwhile: the choices go with the button they came from
    if (card.buttons.some((button) => button.verb === verb)) {
      return choiceKeyboard(verb, card.incidentId, messagesFor(options.language));
    }
    await options.choices?.close(chatId, messageId);
    return undefined;
  };
  return {
    async post(place, card) {
      const { text, markup } = render(card);
      const { chatId, thread } = sendTarget(place);
      return refusedOr(async () => {
        const message = await sendWith(card.severity === "P0", () =>
          api.sendMessage(chatId, text, {
            ...thread,
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            reply_markup: markup,
          }),
        );
        return { kind: "posted" as const, messageId: message.message_id };
      });
    },
    async update(chatId, messageId, card) {
      const { text, markup } = render(card);
      const keyboard = (await keptChoices(chatId, messageId, card)) ?? markup;
      return refusedOr(async () => {
        const kind = await editInPlace(() =>
          sendWith(card.severity === "P0", () =>
            api.editMessageText(chatId, messageId, text, {
              parse_mode: "HTML",
              link_preview_options: { is_disabled: true },
              reply_markup: keyboard,
            }),
          ),
        );
        return { kind };
      });
    },
  };
}

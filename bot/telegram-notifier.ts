// Shows incident cards in Telegram: posts once (into a forum topic when the place names one),
// edits in place afterwards. A chat that takes no message (migrated, bot removed, unknown, topic
// gone) is an answer, not an error (bot/chat-refusal.ts). A P0's card, posted or edited, goes
// ahead of the lower cards waiting for the same chat (bot/send-throttle.ts).
import type { Api } from "grammy";
import { editInPlace } from "./edit-in-place.js";
import { type Notifier, type IncidentCard } from "../domain/card.js";
import { renderTelegramCard } from "./cards/render-telegram.js";
import { refusedOr } from "./chat-refusal.js";
import { sendTarget } from "./send-target.js";
import { sendWith } from "./send-throttle.js";
import type { Language } from "../domain/i18n/index.js";

export function telegramNotifier(
  api: Api,
  options: { timeZone?: string; language?: Language } = {},
): Notifier {
  const render = (card: IncidentCard) => {
    const { text, replyMarkup } = renderTelegramCard(card, options);
    const markup = replyMarkup ?? { inline_keyboard: [] };
    return { text, markup };
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
      return refusedOr(async () => {
        const kind = await editInPlace(() =>
          sendWith(card.severity === "P0", () =>
            api.editMessageText(chatId, messageId, text, {
              parse_mode: "HTML",
              link_preview_options: { is_disabled: true },
              reply_markup: markup,
            }),
          ),
        );
        return { kind };
      });
    },
  };
}

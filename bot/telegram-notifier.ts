// Shows incident cards in Telegram: posts once, edits in place afterwards.
import { GrammyError, type Api } from "grammy";
import { type Notifier, type IncidentCard } from "../domain/card.js";
import { renderTelegramCard } from "./cards/render-telegram.js";

const NOT_MODIFIED = "message is not modified";
const GONE = ["message to edit not found", "message can't be edited", "MESSAGE_ID_INVALID"];

/**
 * Edits a message in place: "updated" also when it already shows this content (a retried job),
 * "gone" when it no longer exists (someone deleted it); anything else is thrown.
 */
export async function editInPlace(edit: () => Promise<unknown>): Promise<"updated" | "gone"> {
  try {
    await edit();
    return "updated";
  } catch (error) {
    if (error instanceof GrammyError) {
      if (error.description.includes(NOT_MODIFIED)) return "updated";
      if (GONE.some((text) => error.description.includes(text))) return "gone";
    }
    throw error;
  }
}

export function telegramNotifier(api: Api, options: { timeZone?: string } = {}): Notifier {
  const render = (card: IncidentCard) => {
    const { text, replyMarkup } = renderTelegramCard(card, options);
    const markup = replyMarkup ?? { inline_keyboard: [] };
    return { text, markup };
  };
  return {
    async post(chatId, card) {
      const { text, markup } = render(card);
      const message = await api.sendMessage(chatId, text, {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        reply_markup: markup,
      });
      return { messageId: message.message_id };
    },
    async update(chatId, messageId, card) {
      const { text, markup } = render(card);
      return editInPlace(() =>
        api.editMessageText(chatId, messageId, text, {
          parse_mode: "HTML",
          link_preview_options: { is_disabled: true },
          reply_markup: markup,
        }),
      );
    },
  };
}

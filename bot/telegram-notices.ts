// Shows the storm summary card and escalation messages in Telegram (HTML, every dynamic string
// escaped, inside 4096 characters).
import type { Api } from "grammy";
import type { ChatNotices } from "../domain/notices.js";
import { editInPlace } from "./edit-in-place.js";
import { refusedOr } from "./chat-refusal.js";
import { renderEscalation, renderStormSummary } from "./cards/render-notices.js";
import type { Language } from "../domain/i18n/index.js";

/** Posts a plain reminder (a snooze ran out) as a reply to the card. */
export function telegramReminder(api: Api) {
  return (chatId: string, text: string, replyTo: number): Promise<unknown> =>
    api.sendMessage(chatId, text, {
      reply_parameters: { message_id: replyTo, allow_sending_without_reply: true },
    });
}

export function telegramNotices(
  api: Api,
  options: { timeZone?: string; language?: Language } = {},
): ChatNotices {
  const timeZone = options.timeZone ?? "UTC";
  const { language } = options;
  const send = async (chatId: string, text: string, replyTo?: number) => {
    const message = await api.sendMessage(chatId, text, {
      parse_mode: "HTML",
      link_preview_options: { is_disabled: true },
      ...(replyTo === undefined
        ? {}
        : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
    });
    return { messageId: message.message_id };
  };
  return {
    postStorm: (chatId, summary) => send(chatId, renderStormSummary(summary, timeZone, new Date(), language)),
    updateStorm: (chatId, messageId, summary) =>
      editInPlace(() =>
        api.editMessageText(chatId, messageId, renderStormSummary(summary, timeZone, new Date(), language), {
          parse_mode: "HTML",
          link_preview_options: { is_disabled: true },
        }),
      ),
    postEscalation: (chatId, notice, replyTo) =>
      refusedOr(async () => ({
        kind: "posted" as const,
        ...(await send(chatId, renderEscalation(notice, language), replyTo)),
      })),
  };
}

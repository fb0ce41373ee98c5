// Shows the storm summary card and escalation messages in Telegram (HTML, every dynamic string
// escaped, inside 4096 characters), in a forum topic when the place names one. A chat that takes
// no message (migrated, bot removed, unknown, topic gone) is an answer (bot/chat-refusal.ts). Both
// go ahead of the cards waiting for the same chat (bot/send-throttle.ts): they are what the chat
// must see first.
import type { Api } from "grammy";
import type { ChatRefusal } from "../domain/card.js";
import type { ChatNotices } from "../domain/notices.js";
import { editInPlace } from "./edit-in-place.js";
import { refusedOr } from "./chat-refusal.js";
import { renderEscalation, renderStormSummary } from "./cards/render-notices.js";
import { sendTarget } from "./send-target.js";
import { urgently } from "./send-throttle.js";
import type { Language } from "../domain/i18n/index.js";

/** Posts a plain reminder (a snooze ran out), as a reply to the card when `replyTo` is given. */
export function telegramReminder(api: Api) {
  return (place: string, text: string, replyTo?: number): Promise<{ kind: "posted" } | ChatRefusal> => {
    const { chatId, thread } = sendTarget(place);
    return refusedOr(async () => {
      await api.sendMessage(chatId, text, {
        ...thread,
        ...(replyTo === undefined
          ? {}
          : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
      });
      return { kind: "posted" as const };
    });
  };
}

export function telegramNotices(
  api: Api,
  options: { timeZone?: string; language?: Language } = {},
): ChatNotices {
  const timeZone = options.timeZone ?? "UTC";
  const { language } = options;
  const send = async (place: string, text: string, replyTo?: number) => {
    const { chatId, thread } = sendTarget(place);
    const message = await urgently(() =>
      api.sendMessage(chatId, text, {
        ...thread,
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        ...(replyTo === undefined
          ? {}
          : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
      }),
    );
    return { messageId: message.message_id };
  };
  return {
    postStorm: (place, summary) =>
      refusedOr(async () => ({
        kind: "posted" as const,
        ...(await send(place, renderStormSummary(summary, timeZone, new Date(), language))),
      })),
    updateStorm: (chatId, messageId, summary) =>
      refusedOr(() =>
        editInPlace(() =>
          urgently(() =>
            api.editMessageText(
              chatId,
              messageId,
              renderStormSummary(summary, timeZone, new Date(), language),
              {
                parse_mode: "HTML",
                link_preview_options: { is_disabled: true },
              },
            ),
          ),
        ),
      ),
    postEscalation: (place, notice, replyTo) =>
      refusedOr(async () => ({
        kind: "posted" as const,
        ...(await send(place, renderEscalation(notice, language, timeZone), replyTo)),
      })),
  };
}

// Shows incident cards in Telegram: posts once (into a forum topic when the place names one),
// edits in place afterwards. A chat that takes no message (migrated, bot removed, unknown, topic
// gone) is an answer, not an error (bot/chat-refusal.ts). A P0's card, posted or edited, goes
// ahead of the lower cards waiting for the same chat (bot/send-throttle.ts). An edit keeps the
// Snooze or Silence choices a person opened on the card (kv/open-choices.ts) while the card still
// offers that button and the same proposal.
import type { Api } from "grammy";
import { editInPlace } from "./edit-in-place.js";
import { type Notifier, type IncidentCard } from "../domain/card.js";
import { renderTelegramCard } from "./cards/render-telegram.js";
import { refusedOr } from "./chat-refusal.js";
import { sendTarget } from "./send-target.js";
import { sendWith, urgently } from "./send-throttle.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";
import { choiceKeyboard, proposalOf } from "./cards/choice-keyboard.js";
import type { ChoiceVerb, OpenChoice, OpenChoices } from "../kv/open-choices.js";
import type { InlineKeyboardMarkup } from "grammy/types";

/** How often an edit's keyboard is checked again against the open choices after it was sent. */
const CORRECTION_ROUNDS = 3;

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
  /**
   * The keyboard for the card's message: the choices open on it while the card still offers their
   * button (a resolved card offers neither) and the proposal they were opened on (a new one's
   * Approve must be seen), else the card's own; choices that gave way are closed.
   */
  const keyboardFor = async (
    chatId: string,
    messageId: number,
    card: IncidentCard,
    markup: InlineKeyboardMarkup,
    open: OpenChoice | undefined,
  ): Promise<{ markup: InlineKeyboardMarkup; shows: ChoiceVerb | "card" }> => {
    if (open === undefined) return { markup, shows: "card" };
    if (card.buttons.some((button) => button.verb === open.verb) && proposalOf(markup) === open.proposal) {
      return {
        markup: choiceKeyboard(open.verb, card.incidentId, messagesFor(options.language)),
        shows: open.verb,
      };
    }
    await options.choices?.close(chatId, messageId);
    return { markup, shows: "card" };
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
      const urgent = card.severity === "P0";
      const before = await keyboardFor(
        chatId,
        messageId,
        card,
        markup,
        await options.choices?.shown(chatId, messageId),
      );
      return refusedOr(async () => {
        const kind = await editInPlace(() =>
          sendWith(urgent, () =>
            api.editMessageText(chatId, messageId, text, {
              parse_mode: "HTML",
              link_preview_options: { is_disabled: true },
              reply_markup: before.markup,
            }),
          ),
        );
        if (kind !== "updated" || options.choices === undefined) return { kind };
        // The edit may have waited for the chat's pace while a person opened or closed the choices
        // (the press's own keyboard edit goes first): the keyboard just sent would undo that, and
        // the card's next sync, its text unchanged, would not come to put it right. The correction
        // answers a person, so it goes first too; a press that still overtakes it is read again
        // (a few rounds: each needs another press within one round trip).
        let shows = before.shows;
        for (let round = 0; round < CORRECTION_ROUNDS; round++) {
          const now = await keyboardFor(
            chatId,
            messageId,
            card,
            markup,
            await options.choices.shown(chatId, messageId),
          );
          if (now.shows === shows) break;
          await editInPlace(() =>
            urgently(() => api.editMessageReplyMarkup(chatId, messageId, { reply_markup: now.markup })),
          );
          shows = now.shows;
        }
        return { kind };
      });
    },
  };
}

// The keyboard Snooze and Silence put on the card in place of its own: one button per duration,
// then Cancel. Shown by the press (bot/features/card-buttons.ts) and kept by the card's later
// edits while it is open (bot/telegram-notifier.ts, kv/open-choices.ts).
import { InlineKeyboard } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Messages } from "../../domain/i18n/index.js";
import { SILENCE_CHOICES, type SilenceChoice } from "../../handlers/silence-incident.js";
import { SNOOZE_CHOICES, type SnoozeChoice } from "../../handlers/snooze-incident.js";
import { packCallbackData } from "../callback-data/callback-data.js";
import type { ChoiceVerb } from "../../kv/open-choices.js";

/** The Cancel button's choice word (callback data leaves room for 4 characters). */
export const CANCEL = "no";

/** "15 min", "1 h" ("15 分鐘", "1 小時"): how a choice reads on its button and in the toast. */
export function choiceLabel(choice: SnoozeChoice | SilenceChoice, t: Messages): string {
  const count = Number.parseInt(choice, 10);
  return choice.endsWith("m") ? t.buttons.minutes({ count }) : t.buttons.hours({ count });
}

export function choiceKeyboard(verb: ChoiceVerb, incidentId: string, t: Messages): InlineKeyboard {
  const icon = verb === "snooze" ? "⏰" : "🔕";
  const choices = Object.keys(verb === "snooze" ? SNOOZE_CHOICES : SILENCE_CHOICES) as (
    SnoozeChoice | SilenceChoice
  )[];
  const keyboard = new InlineKeyboard();
  for (const choice of choices) {
    keyboard.text(
      `${icon} ${choiceLabel(choice, t)}`,
      packCallbackData({ verb, id: incidentId, arg: choice }),
    );
  }
  return keyboard.row().text(t.buttons.cancel, packCallbackData({ verb, id: incidentId, arg: CANCEL }));
}

/**
 * The proposal a card's keyboard offers: its Approve and Reject buttons' callback data, which name
 * the proposed action ("" when it offers none). Open choices give way to a card offering another.
 */
export function proposalOf(markup: InlineKeyboardMarkup | undefined): string {
  return (markup?.inline_keyboard ?? [])
    .flat()
    .map((button) => ("callback_data" in button ? (button.callback_data ?? "") : ""))
    .filter((data) => data.startsWith("v1:approve:") || data.startsWith("v1:reject:"))
    .join(" ");
}

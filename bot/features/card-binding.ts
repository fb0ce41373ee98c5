// A card's buttons act on that card only. Callback data is written by whoever sends it, so a
// hand-made `v1:approve:INC-…` pressed on any other message (a bot reply in a private chat, a
// card in another group, a card of another incident) could act on an incident it was never shown
// with. A press is let through only when the message it was pressed on is the card the bot posted
// for that incident in that chat (telegram_messages); anything else is refused and audited, as is
// callback data nobody handles (hand-made, or a button of a dialogue long over). Every press is an
// audit row naming its chat and message, before the decision's own row.
import { Composer } from "grammy";
import type { Chat, User } from "grammy/types";
import { unpackCallbackData } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";

export interface PressWhere {
  incidentId: string;
  chatId: number;
  messageId: number;
}

export interface CardBindingDeps {
  /** Whether the bot posted `incidentId`'s card as this message of this chat. */
  isCard: (where: PressWhere) => Promise<boolean>;
  /** Audits a press: where it happened and what became of it. */
  pressed: (input: {
    user: User;
    chat: Chat | undefined;
    messageId: number | undefined;
    incidentId: string | undefined;
    data: string;
    outcome: "on_card" | "not_on_its_card" | "unknown_button";
  }) => Promise<void>;
  /**
   * How long a press on a message the bot sent moments ago waits for the card's row (the worker
   * records it right after Telegram answers the send). Default 3 s.
   */
  settleMs?: number;
}

export function cardBinding(deps: CardBindingDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const settleMs = deps.settleMs ?? 3_000;
  composer.on("callback_query:data", async (ctx, next) => {
    const raw = ctx.callbackQuery.data;
    const data = unpackCallbackData(raw);
    // other features' buttons (drill-down, menus, /rollback) carry their own data
    if (data === undefined) return next();
    const message = ctx.callbackQuery.message;
    const chat = message?.chat;
    const where =
      message === undefined || chat === undefined
        ? undefined
        : { incidentId: data.id, chatId: chat.id, messageId: message.message_id };
    let bound = where !== undefined && (await deps.isCard(where));
    // a card posted a moment ago: its row follows Telegram's answer to the send
    const young = message !== undefined && Date.now() / 1000 - message.date < 30;
    for (let waited = 0; !bound && where !== undefined && young && waited < settleMs; waited += 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      bound = await deps.isCard(where);
    }
    await deps.pressed({
      user: ctx.callbackQuery.from,
      chat,
      messageId: message?.message_id,
      incidentId: data.id,
      data: raw,
      outcome: bound ? "on_card" : "not_on_its_card",
    });
    if (bound) return next();
    await ctx.answerCallbackQuery({ text: ctx.messages.answers.notThisCard });
  });
  return composer;
}

/** The last word on a press nobody handled: callback data the bot never writes is audited. */
export function unknownPresses(deps: Pick<CardBindingDeps, "pressed">): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on("callback_query", async (ctx) => {
    const message = ctx.callbackQuery.message;
    await deps.pressed({
      user: ctx.callbackQuery.from,
      chat: message?.chat,
      messageId: message?.message_id,
      incidentId: undefined,
      data: (ctx.callbackQuery.data ?? ctx.callbackQuery.game_short_name ?? "").slice(0, 64),
      outcome: "unknown_button",
    });
    await ctx.answerCallbackQuery({ text: ctx.messages.answers.noLongerValid });
  });
  return composer;
}

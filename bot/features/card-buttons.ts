// Presses on the incident card's buttons. Approve runs the proposed action; Reject asks the
// presser for a reason (bot/conversations/reject-reason.ts); Snooze and Silence turn the card's
// keyboard into their choices (plus Cancel) and act on the choice. Every decision is taken by a
// use case in handlers/; this file only parses the press and shows the answer.
import { Composer } from "grammy";
import { editInPlace } from "../edit-in-place.js";
import { urgently } from "../send-throttle.js";
import type { InlineKeyboardMarkup } from "grammy/types";
import { isSilenceChoice, type SilenceChoice } from "../../handlers/silence-incident.js";
import { isSnoozeChoice, type SnoozeChoice } from "../../handlers/snooze-incident.js";
import { actionIdOf, unpackCallbackData } from "../callback-data/callback-data.js";
import { CANCEL, choiceKeyboard, choiceLabel, proposalOf } from "../cards/choice-keyboard.js";
import type { OpenChoices } from "../../kv/open-choices.js";
import type { BotContext } from "../context.js";
import { dropOpenQuestion } from "../conversations/open-question.js";
import {
  REJECT_REASON_CONVERSATION,
  rejectReasonConversation,
  type RejectConversationDeps,
} from "../conversations/reject-reason.js";

export interface Presser {
  incidentId: string;
  userId: number;
  username?: string;
}

/** What a decision answers: a toast, and optionally a message for the whole chat. */
export interface PressAnswer {
  text: string;
  outcome: string;
  /** Posted in the chat as a reply to the card (e.g. what a silence matches). */
  announce?: string;
}

export interface CardButtonDeps {
  approve?: (input: Presser & { actionId?: number }) => Promise<{ text: string }>;
  /** Checks (and audits a refusal) before a choice keyboard or a question is shown, or a choice taken. */
  guard?: (
    input: Presser & { what: string },
  ) => Promise<{ ok: true } | { ok: false; text: string; outcome?: string }>;
  reject?: RejectConversationDeps & {
    check: (
      input: Presser & { actionId?: number },
    ) => Promise<{ ok: true; subject: string } | { ok: false; text: string }>;
  };
  snooze?: (input: Presser & { choice: SnoozeChoice }) => Promise<PressAnswer>;
  silence?: (input: Presser & { choice: SilenceChoice }) => Promise<PressAnswer>;
  /** "👀 I'm on it" (and /ack): take the incident, or take it over. */
  take?: (input: Presser) => Promise<PressAnswer>;
  /** Audits a press that changes nothing by itself (choices shown, Cancel, a question asked). */
  note?: (input: Presser & { what: string; outcome: string }) => Promise<void>;
  /** The card's own keyboard, to put back after Cancel or a choice that changed nothing. */
  cardMarkup?: (incidentId: string) => Promise<InlineKeyboardMarkup>;
  /** Which cards show choices, so the card's later edits keep them (kv/open-choices.ts). */
  choices?: Pick<OpenChoices, "open" | "close">;
}

/**
 * Edits the pressed message's keyboard; an unchanged or vanished message is not an error. A person
 * pressed and is looking at it: the edit goes ahead of the cards waiting for the chat's pace.
 */
async function setKeyboard(ctx: BotContext, markup: InlineKeyboardMarkup): Promise<void> {
  await urgently(() => editInPlace(() => ctx.editMessageReplyMarkup({ reply_markup: markup })));
}

/**
 * A Silence choice waits for Alertmanager (up to 10 s), longer than Telegram keeps a button press
 * open ("query is too old"). So the press is answered first, once the presser is known to be an
 * approver; the outcome then goes to the chat (a reply to the card) and the card is updated.
 */
async function silenceAnsweredFirst(
  ctx: BotContext,
  deps: CardButtonDeps,
  silence: NonNullable<CardButtonDeps["silence"]>,
  presser: Presser,
  choice: SilenceChoice,
): Promise<void> {
  await ctx.answerCallbackQuery({
    text: ctx.messages.answers.silencing({ span: choiceLabel(choice, ctx.messages) }),
  });
  const result = await silence({ ...presser, choice });
  const card = ctx.callbackQuery?.message?.message_id;
  const reply =
    card === undefined ? {} : { reply_parameters: { message_id: card, allow_sending_without_reply: true } };
  if (result.outcome === "silenced") {
    if (result.announce !== undefined) await ctx.reply(result.announce, reply);
    return;
  }
  const who =
    presser.username === undefined
      ? ctx.messages.answers.user({ id: presser.userId })
      : `@${presser.username}`;
  await ctx.reply(`${who}: ${result.text}`, reply);
  // the choices were closed before the decision: the card's own buttons come back
  if (deps.cardMarkup !== undefined) await setKeyboard(ctx, await deps.cardMarkup(presser.incidentId));
}

export function cardButtons(deps: CardButtonDeps = {}): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  if (deps.reject !== undefined) composer.use(rejectReasonConversation(deps.reject));

  /** The card message pressed: where its open choices are recorded. */
  const pressedCard = (ctx: BotContext) => {
    const message = ctx.callbackQuery?.message;
    return message === undefined ? undefined : { chatId: message.chat.id, messageId: message.message_id };
  };
  const closeChoices = async (ctx: BotContext) => {
    const card = pressedCard(ctx);
    if (card !== undefined) await deps.choices?.close(card.chatId, card.messageId);
  };
  const restore = async (ctx: BotContext, incidentId: string) => {
    await closeChoices(ctx);
    if (deps.cardMarkup !== undefined) await setKeyboard(ctx, await deps.cardMarkup(incidentId));
  };

  composer.on("callback_query:data", async (ctx, next) => {
    const data = unpackCallbackData(ctx.callbackQuery.data);
    if (data === undefined) return next();
    const from = ctx.callbackQuery.from;
    const presser: Presser = {
      incidentId: data.id,
      userId: from.id,
      ...(from.username === undefined ? {} : { username: from.username }),
    };
    // Approve and Reject name the proposal the card showed (absent on older cards)
    const shownId = actionIdOf(data);
    const shownAction: { actionId?: number } = shownId === undefined ? {} : { actionId: shownId };

    if (data.verb === "approve" && deps.approve !== undefined) {
      const result = await deps.approve({ ...presser, ...shownAction });
      await ctx.answerCallbackQuery({ text: result.text });
      return;
    }

    if (data.verb === "take" && deps.take !== undefined) {
      const result = await deps.take(presser);
      // the card itself shows who took it, through the notify queue
      await ctx.answerCallbackQuery({ text: result.text.slice(0, 200) });
      return;
    }

    if (data.verb === "reject" && deps.reject !== undefined) {
      const check = await deps.reject.check({ ...presser, ...shownAction });
      if (!check.ok) {
        await ctx.answerCallbackQuery({ text: check.text });
        return;
      }
      await deps.note?.({ ...presser, what: "reject", outcome: "reason_asked" });
      await ctx.answerCallbackQuery({ text: ctx.messages.answers.askReason });
      // A new question replaces one this person left unanswered (also a double press: asked again, decided once).
      await dropOpenQuestion(ctx);
      await ctx.conversation.enter(REJECT_REASON_CONVERSATION, data.id, check.subject, shownAction.actionId);
      return;
    }

    if ((data.verb === "snooze" || data.verb === "silence") && deps.guard !== undefined) {
      const verb = data.verb;
      const decide = verb === "snooze" ? deps.snooze : deps.silence;
      if (decide === undefined) return next();
      if (data.arg === undefined) {
        // First press: offer the choices, to approvers only.
        const guard = await deps.guard({ ...presser, what: verb });
        if (!guard.ok) {
          await ctx.answerCallbackQuery({ text: guard.text });
          return;
        }
        await deps.note?.({ ...presser, what: verb, outcome: "choices_shown" });
        // recorded first: a card edit from now on (a repeat, someone taking it) keeps them, unless
        // it brings another proposal than the one this card showed
        const card = pressedCard(ctx);
        const proposal = proposalOf(ctx.callbackQuery.message?.reply_markup);
        if (card !== undefined) await deps.choices?.open(card.chatId, card.messageId, { verb, proposal });
        // the choices are on the card when the answer says to pick one (setKeyboard goes ahead of
        // the cards waiting for the chat's pace, so the answer stays inside Telegram's window)
        try {
          await setKeyboard(ctx, choiceKeyboard(verb, data.id, ctx.messages));
        } catch (error) {
          // not shown: the card's next edit must not bring up choices nobody saw
          await closeChoices(ctx);
          throw error;
        }
        await ctx.answerCallbackQuery({
          text: verb === "snooze" ? ctx.messages.answers.snoozeHowLong : ctx.messages.answers.silenceHowLong,
        });
        return;
      }
      if (data.arg === CANCEL) {
        // Only someone who may decide may close the choices an approver opened.
        const guard = await deps.guard({ ...presser, what: `${verb} cancel` });
        if (!guard.ok) {
          await ctx.answerCallbackQuery({ text: guard.text });
          return;
        }
        await deps.note?.({ ...presser, what: verb, outcome: "cancelled" });
        await restore(ctx, data.id);
        await ctx.answerCallbackQuery({ text: ctx.messages.answers.cancelled });
        return;
      }
      const choice = data.arg;
      const silenceFor = verb === "silence" && isSilenceChoice(choice) ? choice : undefined;
      const snoozeFor = verb === "snooze" && isSnoozeChoice(choice) ? choice : undefined;
      if (silenceFor === undefined && snoozeFor === undefined) return next();
      // Someone who may not decide changes nothing: the approver who opened the choices still may.
      const guard = await deps.guard({ ...presser, what: `${verb} ${choice}` });
      if (!guard.ok) {
        await ctx.answerCallbackQuery({ text: guard.text });
        if (guard.outcome !== "not_allowed") await restore(ctx, data.id);
        return;
      }
      // closed before the decision, whose own card edit must show the card's buttons
      await closeChoices(ctx);
      if (silenceFor !== undefined && deps.silence !== undefined) {
        await silenceAnsweredFirst(ctx, deps, deps.silence, presser, silenceFor);
        return;
      }
      if (snoozeFor === undefined || deps.snooze === undefined) return next();
      const result = await deps.snooze({ ...presser, choice: snoozeFor });
      await ctx.answerCallbackQuery({ text: result.text.slice(0, 200) });
      // A decision edits the whole card through the notify queue; a refusal (already snoozed,
      // resolved meanwhile) puts the card's buttons back.
      if (result.outcome !== "snoozed") await restore(ctx, data.id);
      const card = ctx.callbackQuery.message?.message_id;
      if (result.announce !== undefined) {
        await ctx.reply(result.announce, {
          ...(card === undefined
            ? {}
            : { reply_parameters: { message_id: card, allow_sending_without_reply: true } }),
        });
      }
      return;
    }

    await ctx.answerCallbackQuery({ text: ctx.messages.answers.notAvailable({ verb: data.verb }) });
  });
  return composer;
}

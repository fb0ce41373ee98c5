// The short dialogue behind Reject: ask the person who pressed for a reason, wait for a text from
// that person only (dialogues are keyed per chat and user), then reject with it. /cancel, or an
// answer later than the time allowed, ends it without any change. The decision itself runs once,
// inside `conversation.external()`, so a replay never repeats it.
import { createConversation, type Conversation } from "@grammyjs/conversations";
import type { Context } from "grammy";
import type { BotContext } from "../context.js";
import { messagesFor, type Language } from "../../domain/i18n/index.js";

export const REJECT_REASON_CONVERSATION = "reject-reason";

/** How long the bot waits for the reason by default. */
export const REJECT_REPLY_TIMEOUT_MS = 5 * 60_000;

export interface RejectConversationDeps {
  decide: (input: {
    incidentId: string;
    actionId?: number;
    userId: number;
    username?: string;
    reason: string;
  }) => Promise<{
    text: string;
  }>;
  /** Audits a dialogue that ended without a decision. */
  abandon?: (input: {
    incidentId: string;
    userId: number;
    username?: string;
    why: "cancelled" | "timed_out";
  }) => Promise<void>;
  replyTimeoutMs?: number;
  /** BOT_LANGUAGE: the question's and answers' language (default English). */
  language?: Language;
}

const CANCEL = /^\/cancel(@\w+)?$/i;

function mention(from: { id: number; username?: string; first_name: string }): string {
  return from.username === undefined ? from.first_name : `@${from.username}`;
}

export function rejectReasonConversation(deps: RejectConversationDeps) {
  const timeoutMs = deps.replyTimeoutMs ?? REJECT_REPLY_TIMEOUT_MS;
  const t = messagesFor(deps.language).dialogues;
  async function rejectReason(
    conversation: Conversation<BotContext, Context>,
    ctx: Context,
    incidentId: string,
    subject: string,
    /** The proposal the pressed card showed, when it named one. */
    actionId?: number,
  ): Promise<void> {
    const from = ctx.from;
    if (from === undefined) return;
    const card = ctx.callbackQuery?.message?.message_id;
    await ctx.reply(
      t.whyReject({ who: mention(from), subject, minutes: Math.round(timeoutMs / 60_000) || 1 }),
      {
        // in a group with privacy mode the bot only sees replies to its own messages
        reply_markup: { force_reply: true, selective: true, input_field_placeholder: t.reasonPlaceholder },
        ...(card === undefined
          ? {}
          : { reply_parameters: { message_id: card, allow_sending_without_reply: true } }),
      },
    );
    const askedAt = await conversation.now();
    const abandon = (why: "cancelled" | "timed_out") =>
      conversation.external(() =>
        deps.abandon?.({
          incidentId,
          userId: from.id,
          ...(from.username === undefined ? {} : { username: from.username }),
          why,
        }),
      );
    for (;;) {
      // Anything else (a button, a sticker) passes on to the rest of the bot.
      const answer = await conversation.waitFor("message:text", { next: true });
      const text = answer.message.text.trim();
      if ((await conversation.now()) - askedAt > timeoutMs) {
        await abandon("timed_out");
        await answer.reply(t.rejectTooLate({ id: incidentId }));
        // A command is still answered by the rest of the bot.
        if (text.startsWith("/")) await conversation.halt({ next: true });
        return;
      }
      if (CANCEL.test(text)) {
        await abandon("cancelled");
        await answer.reply(t.rejectCancelled({ id: incidentId }));
        return;
      }
      // Another command is not a reason: let the rest of the bot answer it and keep waiting.
      if (text.startsWith("/")) await conversation.skip({ next: true });
      if (text.length < 3) {
        await answer.reply(t.reasonTooShort);
        continue;
      }
      const result = await conversation.external(() =>
        deps.decide({
          incidentId,
          ...(actionId === undefined ? {} : { actionId }),
          userId: from.id,
          ...(from.username === undefined ? {} : { username: from.username }),
          reason: text,
        }),
      );
      await answer.reply(result.text);
      return;
    }
  }
  // Parallel: a non-parallel conversation cannot be entered while any other one (an open
  // drill-down, a rollback confirmation) is active; one question at a time is dropOpenQuestion's job.
  return createConversation<BotContext, Context>(rejectReason, {
    id: REJECT_REASON_CONVERSATION,
    parallel: true,
  });
}

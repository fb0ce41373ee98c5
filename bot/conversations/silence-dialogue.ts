// The guided /silence: asks for what was not given on the command line, in order: label
// matchers, then the duration, then a reason (optional). /cancel or an answer later than the
// time allowed ends it with nothing created. The silence is created inside
// `conversation.external()`, so a replay never creates it twice.
import { createConversation, type Conversation } from "@grammyjs/conversations";
import type { Context } from "grammy";
import type { SilenceMatcher } from "../../db/silences.js";
import {
  formatDuration,
  formatMatchers,
  MAX_SILENCE_MS,
  matchersProblem,
  parseDuration,
  parseMatcher,
} from "../../handlers/silence-matchers.js";
import type { BotContext } from "../context.js";

export const SILENCE_DIALOGUE = "silence-dialogue";

export const SILENCE_REPLY_TIMEOUT_MS = 5 * 60_000;

export interface SilenceCreateInput {
  userId: number;
  username?: string;
  matchers: SilenceMatcher[];
  durationMs: number;
  reason?: string;
}

export interface SilenceDialogueDeps {
  create: (input: SilenceCreateInput) => Promise<{ text: string }>;
  replyTimeoutMs?: number;
}

const CANCEL = /^\/cancel(@\w+)?$/i;
const SKIP = /^(-|skip|none)$/i;
const ASK = { reply_markup: { force_reply: true as const, selective: true } };

class Abandoned extends Error {}

export function silenceDialogue(deps: SilenceDialogueDeps) {
  const timeoutMs = deps.replyTimeoutMs ?? SILENCE_REPLY_TIMEOUT_MS;
  async function dialogue(
    conversation: Conversation<BotContext, Context>,
    ctx: Context,
    given: { matchers: SilenceMatcher[]; durationMs?: number },
  ): Promise<void> {
    const from = ctx.from;
    if (from === undefined) return;
    const who = from.username === undefined ? from.first_name : `@${from.username}`;

    /** The next text from this person; a command other than /cancel passes on to the bot. */
    const answer = async (question: string): Promise<string> => {
      await ctx.reply(question, ASK);
      const askedAt = await conversation.now();
      for (;;) {
        const reply = await conversation.waitFor("message:text", { next: true });
        const text = reply.message.text.trim();
        if ((await conversation.now()) - askedAt > timeoutMs) {
          await reply.reply("Too late: the silence was not created. Send /silence again.");
          // A command (a new /silence, say) is still answered by the rest of the bot.
          if (text.startsWith("/")) await conversation.halt({ next: true });
          throw new Abandoned();
        }
        if (CANCEL.test(text)) {
          await reply.reply("Cancelled: no silence was created.");
          throw new Abandoned();
        }
        if (text.startsWith("/")) await conversation.skip({ next: true });
        return text;
      }
    };

    try {
      let matchers = given.matchers;
      let question = `${who}, which alerts? Send label matchers, e.g. service=awoooi-api (k=v, k=~regex, k!=v), or /cancel.`;
      while (matchers.length === 0) {
        const words = (await answer(question)).split(/\s+/);
        const parsed = words.map(parseMatcher);
        const problem = parsed.some((matcher) => matcher === undefined)
          ? "each word must be a matcher like service=awoooi-api"
          : matchersProblem(parsed as SilenceMatcher[]);
        if (problem === undefined) matchers = parsed as SilenceMatcher[];
        else question = `That did not work: ${problem}. Which alerts?`;
      }
      let durationMs = given.durationMs;
      question = `Silence ${formatMatchers(matchers)} for how long? e.g. 30m, 2h, 1d (at most ${formatDuration(MAX_SILENCE_MS)}).`;
      while (durationMs === undefined) {
        const parsed = parseDuration(await answer(question));
        if (parsed !== undefined && parsed <= MAX_SILENCE_MS) durationMs = parsed;
        else question = `A duration like 30m, 2h or 1d, at most ${formatDuration(MAX_SILENCE_MS)}, please.`;
      }
      const reason = await answer(`Why? A short reason for the team, or "-" for none.`);
      const result = await conversation.external(() =>
        deps.create({
          userId: from.id,
          ...(from.username === undefined ? {} : { username: from.username }),
          matchers,
          durationMs,
          ...(SKIP.test(reason) ? {} : { reason }),
        }),
      );
      await ctx.reply(result.text);
    } catch (error) {
      if (!(error instanceof Abandoned)) throw error;
    }
  }
  // Parallel, like the reject question: an open drill-down must not block the dialogue.
  return createConversation<BotContext, Context>(dialogue, { id: SILENCE_DIALOGUE, parallel: true });
}

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
import { messagesFor, type Language } from "../../domain/i18n/index.js";

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
  /** BOT_LANGUAGE: the questions' language (default English). */
  language?: Language;
}

const CANCEL = /^\/cancel(@\w+)?$/i;
const SKIP = /^(-|skip|none)$/i;
const ASK = { reply_markup: { force_reply: true as const, selective: true } };

class Abandoned extends Error {}

export function silenceDialogue(deps: SilenceDialogueDeps) {
  const timeoutMs = deps.replyTimeoutMs ?? SILENCE_REPLY_TIMEOUT_MS;
  const t = messagesFor(deps.language).dialogues;
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
          await reply.reply(t.silenceTooLate);
          // A command (a new /silence, say) is still answered by the rest of the bot.
          if (text.startsWith("/")) await conversation.halt({ next: true });
          throw new Abandoned();
        }
        if (CANCEL.test(text)) {
          await reply.reply(t.silenceCancelled);
          throw new Abandoned();
        }
        if (text.startsWith("/")) await conversation.skip({ next: true });
        return text;
      }
    };

    try {
      let matchers = given.matchers;
      let question = t.whichAlerts({ who });
      while (matchers.length === 0) {
        const words = (await answer(question)).split(/\s+/);
        const parsed = words.map(parseMatcher);
        const problem = parsed.some((matcher) => matcher === undefined)
          ? t.notMatchers
          : matchersProblem(parsed as SilenceMatcher[], messagesFor(deps.language));
        if (problem === undefined) matchers = parsed as SilenceMatcher[];
        else question = t.didNotWork({ problem });
      }
      let durationMs = given.durationMs;
      const max = formatDuration(MAX_SILENCE_MS);
      question = t.howLong({ matchers: formatMatchers(matchers), max });
      while (durationMs === undefined) {
        const parsed = parseDuration(await answer(question));
        if (parsed !== undefined && parsed <= MAX_SILENCE_MS) durationMs = parsed;
        else question = t.durationPlease({ max });
      }
      const reason = await answer(t.why);
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

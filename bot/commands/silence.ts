// /silence: `/silence service=awoooi-api 2h [reason]` creates a silence, `/silence list` shows the
// active ones, `/silence expire <id>` ends one. Missing matchers or duration start a guided
// dialogue (bot/conversations/silence-dialogue.ts). Creating and expiring are for approvers.
import { Composer } from "grammy";
import { parseSilenceArgs } from "../../handlers/silence-matchers.js";
import type { BotContext } from "../context.js";
import { fitLines, MAX_MESSAGE_LENGTH } from "../cards/html.js";
import { dropOpenQuestion } from "../conversations/open-question.js";
import {
  SILENCE_DIALOGUE,
  silenceDialogue,
  type SilenceDialogueDeps,
} from "../conversations/silence-dialogue.js";

export interface SilenceCommandDeps extends SilenceDialogueDeps {
  /** Approvers only; a refusal is audited and answered with the text. */
  guard: (input: {
    userId: number;
    username?: string;
    what: string;
  }) => Promise<{ ok: true } | { ok: false; text: string }>;
  list: () => Promise<{ text: string }>;
  expire: (input: { userId: number; username?: string; ref: string }) => Promise<{ text: string }>;
}

export function silenceCommand(deps: SilenceCommandDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.use(silenceDialogue(deps));
  composer.command("silence", async (ctx) => {
    const from = ctx.from;
    if (from === undefined) return;
    const user = { userId: from.id, ...(from.username === undefined ? {} : { username: from.username }) };
    const args = ctx.match.trim();
    const [first = "", second, ...rest] = args.split(/\s+/);
    if (first.toLowerCase() === "list" && second === undefined) {
      // Many silences with long matchers outgrow Telegram's 4096 characters: drop whole lines.
      const lines = (await deps.list()).text.split("\n");
      await ctx.reply(fitLines(lines, MAX_MESSAGE_LENGTH, ctx.messages.common.moreLines));
      return;
    }
    if (first.toLowerCase() === "expire") {
      if (second === undefined || rest.length > 0) {
        await ctx.reply(ctx.messages.silences.expireUsage);
        return;
      }
      await ctx.reply((await deps.expire({ ...user, ref: second })).text);
      return;
    }
    if (first.toLowerCase() === "help") {
      await ctx.reply(ctx.messages.silences.usage);
      return;
    }
    const parsed = parseSilenceArgs(args, ctx.messages);
    if (parsed.problem !== undefined) {
      await ctx.reply(`${parsed.problem}.\n\n${ctx.messages.silences.usage}`);
      return;
    }
    if (parsed.matchers.length > 0 && parsed.durationMs !== undefined) {
      await ctx.reply(
        (
          await deps.create({
            ...user,
            matchers: parsed.matchers,
            durationMs: parsed.durationMs,
            ...(parsed.reason === undefined ? {} : { reason: parsed.reason }),
          })
        ).text,
      );
      return;
    }
    const guard = await deps.guard({ ...user, what: "silence" });
    if (!guard.ok) {
      await ctx.reply(guard.text);
      return;
    }
    await dropOpenQuestion(ctx);
    await ctx.conversation.enter(SILENCE_DIALOGUE, {
      matchers: parsed.matchers,
      ...(parsed.durationMs === undefined ? {} : { durationMs: parsed.durationMs }),
    });
  });
  return composer;
}

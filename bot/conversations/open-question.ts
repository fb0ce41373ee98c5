// The dialogues that wait for a person's next text message. Only one of them may wait per person
// and chat, or one answer would feed two questions; a new question replaces an unanswered one.
// Dialogues answered with buttons (drill-down, rollback confirmation) stay open meanwhile.
import type { BotContext } from "../context.js";
import { REJECT_REASON_CONVERSATION } from "./reject-reason.js";
import { SILENCE_DIALOGUE } from "./silence-dialogue.js";

export async function dropOpenQuestion(ctx: BotContext): Promise<void> {
  await ctx.conversation.exit(REJECT_REASON_CONVERSATION);
  await ctx.conversation.exit(SILENCE_DIALOGUE);
}

// Presses on the incident card's buttons. Approve runs the proposed action (approvers only);
// Reject, Snooze and Silence come with the rest of the approval workflow and answer so.
import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import { unpackCallbackData } from "../callback-data/callback-data.js";

export interface CardButtonDeps {
  approve?: (input: { incidentId: string; userId: number; username?: string }) => Promise<{ text: string }>;
}

export function cardButtons(deps: CardButtonDeps = {}): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on("callback_query:data", async (ctx, next) => {
    const data = unpackCallbackData(ctx.callbackQuery.data);
    if (data === undefined) return next();
    if (data.verb === "approve" && deps.approve !== undefined) {
      const from = ctx.callbackQuery.from;
      const result = await deps.approve({
        incidentId: data.id,
        userId: from.id,
        ...(from.username === undefined ? {} : { username: from.username }),
      });
      await ctx.answerCallbackQuery({ text: result.text });
      return;
    }
    await ctx.answerCallbackQuery({ text: `${data.verb} is not available yet` });
  });
  return composer;
}

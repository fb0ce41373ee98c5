// Presses on the incident card's buttons. Their actions arrive with the approval workflow; until
// then a press is answered, so the user's client stops spinning, and nothing changes.
import { Composer, type Context } from "grammy";
import { unpackCallbackData } from "../callback-data/callback-data.js";

export function cardButtons(): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on("callback_query:data", async (ctx, next) => {
    const data = unpackCallbackData(ctx.callbackQuery.data);
    if (data === undefined) return next();
    await ctx.answerCallbackQuery({ text: `${data.verb} is not available yet` });
  });
  return composer;
}

// `/ack <incident id>`: "I'm on it" typed instead of pressed (the card may have scrolled away, or
// the incident was folded into a storm card). The same use case as the card's "👀 I'm on it"
// button: the responder takes the incident, or takes it over, and the card shows it.
import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import type { PressAnswer, Presser } from "../features/card-buttons.js";

export interface AckCommandDeps {
  take: (input: Presser) => Promise<PressAnswer>;
}

export function ackCommand(deps: AckCommandDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command("ack", async (ctx) => {
    const from = ctx.from;
    if (from === undefined) return;
    const id = (typeof ctx.match === "string" ? ctx.match : "").trim().split(/\s+/)[0] ?? "";
    if (!/^[A-Za-z0-9_-]{1,48}$/.test(id)) {
      await ctx.reply(ctx.messages.answers.ackUsage);
      return;
    }
    // "20260329-0001" is accepted for the full id, as /incidents lists them
    const incidentId = /^\d{8}-\d{4}$/.test(id) ? `INC-${id}` : id.toUpperCase();
    const result = await deps.take({
      incidentId,
      userId: from.id,
      ...(from.username === undefined ? {} : { username: from.username }),
    });
    await ctx.reply(result.text, {
      ...(ctx.message === undefined
        ? {}
        : { reply_parameters: { message_id: ctx.message.message_id, allow_sending_without_reply: true } }),
    });
  });
  return composer;
}

// Telegram keeps a button press open only seconds: an answer after that fails with "query is too
// old and response timeout expired or query ID is invalid", and the presser's client spins until
// then. Every feature answers its presses, slow work after the answer (the Silence choice); this
// is the backstop for a press whose handler is slow anyway (a database under load): after
// `withinMs` it answers "Working on it…" itself, and the feature's own answer, later, is not
// sent (Telegram would refuse it). The outcome still shows on the card or in the chat.
import type { MiddlewareFn } from "grammy";
import type { BotContext } from "./context.js";

export function answerCallbacksWithin(withinMs: number): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (ctx.callbackQuery === undefined) return next();
    const answer = ctx.answerCallbackQuery.bind(ctx);
    let answered = false;
    const once: typeof answer = (...args) => {
      if (answered) return Promise.resolve(true);
      answered = true;
      return answer(...args);
    };
    ctx.answerCallbackQuery = once;
    const timer = setTimeout(() => {
      // a refusal here (the press expired anyway) is not the feature's failure
      once({ text: ctx.messages.answers.workingOnIt }).catch(() => undefined);
    }, withinMs);
    try {
      await next();
    } finally {
      clearTimeout(timer);
    }
  };
}

// The client-side pace of the bot's Telegram calls: a call a second per chat, 20 a minute per group,
// 30 a second overall, with the defaults and options of @grammyjs/transformer-throttler. One
// difference: a call made inside `urgently()` (the storm summary, escalations, a P0's card and the
// edits that bring it its analysis) goes ahead of every call still waiting for its chat, instead of
// behind a storm's worth of lower cards. The chat budget (kv/chat-budget.ts) decides what may be
// sent this minute; this decides the order of what is already on its way.
import { AsyncLocalStorage } from "node:async_hooks";
import Bottleneck from "bottleneck";
import type { Transformer } from "grammy";
import type { APIThrottlerOptions } from "@grammyjs/transformer-throttler";

const urgency = new AsyncLocalStorage<boolean>();

/** Bottleneck runs lower numbers first; 5 is its default. */
const URGENT_PRIORITY = 0;
const NORMAL_PRIORITY = 5;

/** Runs `send` with every Telegram call it makes ahead of the ones waiting for the same chat. */
export function urgently<T>(send: () => Promise<T>): Promise<T> {
  return urgency.run(true, send);
}

/** Runs `send` urgently when `urgent`, else as it comes. */
export function sendWith<T>(urgent: boolean, send: () => Promise<T>): Promise<T> {
  return urgent ? urgently(send) : send();
}

/**
 * One chat's limiter, and how long each call keeps the chat's turn. Bottleneck's own `minTime` picks
 * the next call as soon as the previous one returns and only then waits: an urgent call asked for
 * during that wait would come one turn late. Here the call keeps the turn (the limiter's one
 * concurrent slot) for `minTime` from its start, so the next call is picked when the turn is over.
 */
function paced(options: Bottleneck.ConstructorOptions): { group: Bottleneck.Group; turnMs: number } {
  const { minTime, ...rest } = options;
  return { group: new Bottleneck.Group(rest), turnMs: minTime ?? 0 };
}

/** A grammY API transformer pacing calls per chat (see above); `options` as transformer-throttler's. */
export function sendThrottle(options: APIThrottlerOptions = {}): Transformer {
  const global = new Bottleneck(
    options.global ?? { reservoir: 30, reservoirRefreshAmount: 30, reservoirRefreshInterval: 1_000 },
  );
  const groups = paced(
    options.group ?? {
      maxConcurrent: 1,
      minTime: 1_000,
      reservoir: 20,
      reservoirRefreshAmount: 20,
      reservoirRefreshInterval: 60_000,
    },
  );
  const privates = paced(options.out ?? { maxConcurrent: 1, minTime: 1_000 });
  groups.group.on("created", (limiter) => limiter.chain(global));
  privates.group.on("created", (limiter) => limiter.chain(global));
  return (prev, method, payload, signal) => {
    if (typeof payload !== "object" || payload === null || !("chat_id" in payload))
      return prev(method, payload, signal);
    const chatId = Number(payload.chat_id);
    // a group's id is negative; an @channel name is no number and paced as one chat of its own
    const { group, turnMs } = chatId < 0 ? groups : privates;
    const priority = urgency.getStore() === true ? URGENT_PRIORITY : NORMAL_PRIORITY;
    return new Promise((resolve, reject) => {
      group
        .key(String(payload.chat_id))
        .schedule({ priority }, async () => {
          const startedAt = Date.now();
          // the caller has its answer as soon as Telegram gives it; the turn lasts on
          const call = prev(method, payload, signal);
          call.then(resolve, reject);
          await call.catch(() => undefined);
          const rest = turnMs - (Date.now() - startedAt);
          if (rest > 0) await new Promise((wait) => setTimeout(wait, rest));
        })
        .catch(reject);
    });
  };
}

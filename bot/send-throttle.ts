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

/** A grammY API transformer pacing calls per chat (see above); `options` as transformer-throttler's. */
export function sendThrottle(options: APIThrottlerOptions = {}): Transformer {
  const global = new Bottleneck(
    options.global ?? { reservoir: 30, reservoirRefreshAmount: 30, reservoirRefreshInterval: 1_000 },
  );
  const groups = new Bottleneck.Group(
    options.group ?? {
      maxConcurrent: 1,
      minTime: 1_000,
      reservoir: 20,
      reservoirRefreshAmount: 20,
      reservoirRefreshInterval: 60_000,
    },
  );
  const privates = new Bottleneck.Group(options.out ?? { maxConcurrent: 1, minTime: 1_000 });
  groups.on("created", (limiter) => limiter.chain(global));
  privates.on("created", (limiter) => limiter.chain(global));
  return (prev, method, payload, signal) => {
    if (typeof payload !== "object" || payload === null || !("chat_id" in payload))
      return prev(method, payload, signal);
    const chatId = Number(payload.chat_id);
    // a group's id is negative; an @channel name is no number and paced as one chat of its own
    const limiter = (chatId < 0 ? groups : privates).key(String(payload.chat_id));
    const priority = urgency.getStore() === true ? URGENT_PRIORITY : NORMAL_PRIORITY;
    return limiter.schedule({ priority }, () => prev(method, payload, signal));
  };
}

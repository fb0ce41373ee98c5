// The client-side pace of the bot's Telegram calls: a call a second per chat, 20 a minute per group,
// 30 a second overall (the defaults of @grammyjs/transformer-throttler, and Telegram's documented
// limits). One difference: a call made inside `urgently()` (the storm summary, escalations, a P0's
// card and the edits that bring it its analysis) goes ahead of every call still waiting for its
// chat, instead of behind a storm's worth of lower cards. The chat budget (kv/chat-budget.ts)
// decides what may be sent this minute; this decides the order of what is already on its way.
//
// Queues of p-queue, not Bottleneck (which transformer-throttler uses): a call that need not wait
// starts at once. Bottleneck passes each call through its datastore with a timer turn at every step,
// so a call through a chat's limiter chained to the global one spent about 10 ms before it left on
// an idle machine, a fifth of an alert's way to its card.
import { AsyncLocalStorage } from "node:async_hooks";
import PQueue from "p-queue";
import type { Transformer } from "grammy";

const urgency = new AsyncLocalStorage<boolean>();

/** p-queue runs higher numbers first; 0 is its default. */
const URGENT_PRIORITY = 1;
const NORMAL_PRIORITY = 0;

/** At most `reservoirRefreshAmount` calls started in each window of `reservoirRefreshInterval` ms. */
export interface CallWindow {
  reservoirRefreshAmount: number;
  reservoirRefreshInterval: number;
}

/** One chat's pace: its calls one at a time, each keeping the turn `minTime` ms; maybe a window too. */
export interface ChatPace extends Partial<CallWindow> {
  minTime: number;
}

/** The limits, named as transformer-throttler's Bottleneck options name them. */
export interface ThrottleOptions {
  global?: CallWindow;
  /** Groups, supergroups and channels (a negative chat id). */
  group?: ChatPace;
  /** Private chats. */
  out?: ChatPace;
}

export const DEFAULT_THROTTLE: Required<ThrottleOptions> = {
  global: { reservoirRefreshAmount: 30, reservoirRefreshInterval: 1_000 },
  group: { minTime: 1_000, reservoirRefreshAmount: 20, reservoirRefreshInterval: 60_000 },
  out: { minTime: 1_000 },
};

/** Runs `send` with every Telegram call it makes ahead of the ones waiting for the same chat. */
export function urgently<T>(send: () => Promise<T>): Promise<T> {
  return urgency.run(true, send);
}

/** Runs `send` urgently when `urgent`, else as it comes. */
export function sendWith<T>(urgent: boolean, send: () => Promise<T>): Promise<T> {
  return urgent ? urgently(send) : send();
}

function windowed(limit: Partial<CallWindow>, concurrency: number): PQueue {
  return limit.reservoirRefreshAmount === undefined || limit.reservoirRefreshInterval === undefined
    ? new PQueue({ concurrency })
    : new PQueue({
        concurrency,
        intervalCap: limit.reservoirRefreshAmount,
        interval: limit.reservoirRefreshInterval,
      });
}

/**
 * One queue per chat, made on its first call and dropped once it has been idle for its window (and
 * the turn): a chat that comes back after that starts a fresh window, as it would at Telegram.
 */
class ChatQueues {
  private readonly queues = new Map<string, PQueue>();
  private readonly idleMs: number;

  constructor(readonly pace: ChatPace) {
    this.idleMs = Math.max(pace.minTime, pace.reservoirRefreshInterval ?? 0);
  }

  of(chat: string): PQueue {
    let queue = this.queues.get(chat);
    if (queue === undefined) {
      const created = windowed(this.pace, 1);
      let forget: NodeJS.Timeout | undefined;
      created.on("active", () => clearTimeout(forget));
      created.on("idle", () => {
        clearTimeout(forget);
        forget = setTimeout(() => {
          if (created.size === 0 && created.pending === 0) this.queues.delete(chat);
        }, this.idleMs);
        forget.unref();
      });
      this.queues.set(chat, created);
      queue = created;
    }
    return queue;
  }
}

/** A grammY API transformer pacing calls per chat (see above). */
export function sendThrottle(options: ThrottleOptions = {}): Transformer {
  const global = windowed(options.global ?? DEFAULT_THROTTLE.global, Infinity);
  const groups = new ChatQueues(options.group ?? DEFAULT_THROTTLE.group);
  const privates = new ChatQueues(options.out ?? DEFAULT_THROTTLE.out);
  return (prev, method, payload, signal) => {
    if (typeof payload !== "object" || payload === null || !("chat_id" in payload))
      return prev(method, payload, signal);
    const chatId = Number(payload.chat_id);
    // a group's id is negative; an @channel name is no number and paced as one chat of its own
    const chats = chatId < 0 ? groups : privates;
    const priority = urgency.getStore() === true ? URGENT_PRIORITY : NORMAL_PRIORITY;
    return new Promise((resolve, reject) => {
      // The call keeps its chat's turn (the queue's one slot) for minTime from its start, so the
      // next call is picked when the turn is over, and an urgent one asked for meanwhile is next.
      chats
        .of(String(payload.chat_id))
        .add(
          async () => {
            await global.add(
              async () => {
                const startedAt = Date.now();
                // the caller has its answer as soon as Telegram gives it; the turn lasts on
                const call = prev(method, payload, signal);
                call.then(resolve, reject);
                await call.catch(() => undefined);
                const rest = chats.pace.minTime - (Date.now() - startedAt);
                if (rest > 0) await new Promise((wait) => setTimeout(wait, rest));
              },
              { priority },
            );
          },
          { priority },
        )
        .catch(reject);
    });
  };
}

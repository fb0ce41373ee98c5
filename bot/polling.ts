// Long polling that never blocks start-up: HTTP intake and the workers run while Telegram is
// unreachable. grammY's init() already retries network and 5xx errors with backoff; this only
// makes it cancellable and reports a token Telegram refuses.
//
// grammY's bot.start() throws on a 409 ("terminated by other getUpdates request": someone else
// polls with this token, even for a few seconds) and on a 401, and polling would end for good. Here
// both are waited out with growing pauses (logged once, reported as "conflict" or
// "token_rejected"), and polling resumes by itself once the other poller is gone: a poll that
// Telegram answers, or leaves waiting for `settleMs`, counts as polling again.
//
// With a lease (kv/poller-lease.ts), several bot processes run and only the holder polls: Telegram
// allows one getUpdates consumer per token, and two would end each other's polls with 409 forever.
// The others are hot standbys (getMe done, commands registered) that try to take the lease every
// `ttlMs / 4`; the holder renews it every `ttlMs / 3` and stops polling the moment a renewal says
// it is no longer the holder, or when it could not renew for a whole `ttlMs` (Redis away: a
// standby may hold it by now). A holder that dies stops renewing, and a standby polls within
// about `ttlMs` plus one attempt interval.
import { GrammyError, type Bot, type Context } from "grammy";
import type { Logger } from "pino";
import type { PollingState } from "../kv/telegram-health.js";

export interface Polling {
  stop(): Promise<void>;
}

/** The poller lease as kv/poller-lease.ts keeps it. */
export interface Lease {
  acquire(ms: number): Promise<boolean>;
  renew(ms: number): Promise<boolean>;
  release(): Promise<void>;
}

export interface LeaseOptions {
  lease: Lease;
  /** How long a lease lasts without renewal: the longest a standby waits after the holder died (default 6 s). */
  ttlMs?: number;
}

export const DEFAULT_LEASE_TTL_MS = 6_000;

export interface PollingOptions {
  /** Told each change of how polling goes (bot/telegram-health.ts writes it for health). */
  report?: (state: PollingState, detail?: string) => void;
  /** First and longest pause before polling again after a 409 or a 401 (default 2 s, doubling to 30 s). */
  retryMs?: { first: number; max: number };
  /** A poll Telegram leaves waiting this long (no 409) counts as polling (default 5 s). */
  settleMs?: number;
}

const DEFAULT_RETRY_MS = { first: 2_000, max: 30_000 };
const DEFAULT_SETTLE_MS = 5_000;
/** How long stopping waits for Telegram to take the last offset. */
const STOP_CONFIRM_MS = 2_000;

export function startPolling<C extends Context>(
  bot: Bot<C>,
  logger: Logger,
  /** Runs once Telegram answered getMe, before polling starts (e.g. setMyCommands); must not throw. */
  onReady?: () => Promise<void>,
  leased?: LeaseOptions,
  options: PollingOptions = {},
): Polling {
  const stopping = new AbortController();
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  let state: PollingState | undefined;
  const report = (next: PollingState, detail?: string) => {
    state = next;
    options.report?.(next, detail);
  };
  const pause = (ms: number, signal: AbortSignal = stopping.signal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });

  /** A 409 or 401 being waited out: which, since when. */
  let trouble: { code: number; since: number } | undefined;
  /** The next pause after a 409 or 401; back to the first once polling settled. */
  let waitMs = retryMs.first;
  /** True while this process means to poll (not standing by, not stopping). */
  let polling = false;
  const settled = () => {
    if (!polling || !bot.isRunning() || stopping.signal.aborted || state === "polling") return;
    if (trouble !== undefined) {
      logger.info(
        { afterSeconds: Math.round((Date.now() - trouble.since) / 1000) },
        trouble.code === 409
          ? "bot polling again: the other poller is gone"
          : "bot polling again: token accepted",
      );
      trouble = undefined;
    }
    waitMs = retryMs.first;
    report("polling");
  };
  // outermost: sees each getUpdates as grammY's loop makes it, its answer after any retries
  bot.api.config.use(async (prev, method, payload, signal) => {
    if (method !== "getUpdates") return prev(method, payload, signal);
    // Only bot.stop() confirms the offset without a signal; auto-retry would retry that forever
    // while Telegram is unreachable, holding shutdown. Bounded, the updates it did not confirm are
    // fetched again by the next poller.
    if (signal === undefined)
      // grammY types its signal with the abort-controller polyfill; Node's is the same at run time
      return prev(method, payload, AbortSignal.timeout(STOP_CONFIRM_MS) as NonNullable<typeof signal>);
    const timer = setTimeout(settled, settleMs);
    try {
      const result = await prev(method, payload, signal);
      if (result.ok) settled();
      return result;
    } finally {
      clearTimeout(timer);
    }
  });

  // said once, not again on each attempt while a 409 or 401 is waited out
  const poll = () =>
    bot.start({
      onStart: (me) => {
        if (trouble === undefined) logger.info({ bot: me.username }, "bot polling");
      },
    });

  /** Polls until `until` aborts; a 409 or a 401 is waited out with growing pauses, then polling resumes. */
  const pollUntil = async (until: AbortSignal) => {
    polling = true;
    try {
      while (!until.aborted) {
        try {
          await poll();
          return;
        } catch (error) {
          if (until.aborted) return;
          const code = error instanceof GrammyError ? error.error_code : undefined;
          if (code !== 409 && code !== 401) throw error;
          const description = (error as GrammyError).description;
          if (trouble?.code !== code) {
            trouble = { code, since: Date.now() };
            if (code === 409)
              logger.warn(
                { description },
                "Telegram answered 409 Conflict: another process polls with this bot token; polling again with growing pauses until it is gone",
              );
            else
              logger.error(
                { description },
                "Telegram rejected TELEGRAM_BOT_TOKEN (401) while polling; trying again with growing pauses",
              );
          }
          report(code === 409 ? "conflict" : "token_rejected", description);
          await pause(waitMs, until);
          waitMs = Math.min(waitMs * 2, retryMs.max);
        }
      }
    } finally {
      polling = false;
    }
  };

  /** Polls while this process holds the lease; resolves when it lost it or is stopping. */
  const pollWhileHolding = async (lease: Lease, ttlMs: number) => {
    let renewedAt = Date.now();
    const lost = new AbortController();
    const lose = (why: string) => {
      if (lost.signal.aborted || stopping.signal.aborted) return;
      lost.abort();
      logger.warn({ reason: why }, "bot stops polling and stands by");
      if (bot.isRunning()) void bot.stop().catch(() => undefined);
    };
    const renewer = setInterval(
      () => {
        lease.renew(ttlMs).then(
          (held) => {
            if (held) renewedAt = Date.now();
            else lose("another process holds the poller lease now");
          },
          (error: unknown) => {
            if (Date.now() - renewedAt >= ttlMs)
              lose(`the poller lease could not be renewed: ${String(error)}`);
          },
        );
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    try {
      await pollUntil(AbortSignal.any([stopping.signal, lost.signal]));
    } catch (error) {
      if (!stopping.signal.aborted) logger.error({ err: error }, "bot polling failed; standing by");
    } finally {
      clearInterval(renewer);
    }
  };

  const runLeased = async ({ lease, ttlMs = DEFAULT_LEASE_TTL_MS }: LeaseOptions) => {
    let announced = false;
    while (!stopping.signal.aborted) {
      const held = await lease.acquire(ttlMs).catch((error: unknown) => {
        logger.debug({ err: error }, "poller lease: Redis did not answer");
        return false;
      });
      if (stopping.signal.aborted) break;
      if (!held) {
        if (!announced) logger.info("bot on standby: another process polls Telegram");
        announced = true;
        if (state !== "standby") report("standby");
        await pause(Math.max(1, Math.floor(ttlMs / 4)));
        continue;
      }
      announced = false;
      logger.info("bot holds the poller lease");
      if (state === "standby") report("starting");
      await pollWhileHolding(lease, ttlMs);
      // give the next holder its turn before trying again (it may be us, if nobody else is there)
      if (!stopping.signal.aborted) await pause(Math.max(1, Math.floor(ttlMs / 4)));
    }
  };

  const run = async () => {
    report("starting");
    try {
      // grammY types its signal with the abort-controller polyfill; Node's is the same at run time
      await bot.init(stopping.signal as Parameters<Bot<C>["init"]>[0]);
    } catch (error) {
      if (stopping.signal.aborted) return;
      if (error instanceof GrammyError && error.error_code === 401) {
        logger.error("Telegram rejected TELEGRAM_BOT_TOKEN (401); the bot will not poll");
        report("token_rejected", error.description);
        return;
      }
      throw error;
    }
    if (stopping.signal.aborted) return;
    await onReady?.();
    if (stopping.signal.aborted) return;
    if (leased === undefined) await pollUntil(stopping.signal);
    else await runLeased(leased);
  };
  const done = run().catch((error: unknown) => {
    logger.error({ err: error }, "bot polling stopped");
    report("stopped", error instanceof Error ? error.message : String(error));
  });
  return {
    async stop() {
      stopping.abort();
      // an unconfirmed offset (Telegram away) only means those updates come again
      if (bot.isRunning()) await bot.stop().catch(() => undefined);
      await done;
      // a standby need not wait for the lease to lapse
      await leased?.lease.release().catch(() => undefined);
    },
  };
}

// Long polling that never blocks start-up: HTTP intake and the workers run while Telegram is
// unreachable. grammY's init() already retries network and 5xx errors with backoff; this only
// makes it cancellable and reports a token Telegram refuses.
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

export function startPolling<C extends Context>(
  bot: Bot<C>,
  logger: Logger,
  /** Runs once Telegram answered getMe, before polling starts (e.g. setMyCommands); must not throw. */
  onReady?: () => Promise<void>,
  leased?: LeaseOptions,
): Polling {
  const stopping = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        resolve();
      }
      stopping.signal.addEventListener("abort", done);
    });
  const poll = () => bot.start({ onStart: (me) => logger.info({ bot: me.username }, "bot polling") });

  /** Polls while this process holds the lease; resolves when it lost it or is stopping. */
  const pollWhileHolding = async (lease: Lease, ttlMs: number) => {
    let renewedAt = Date.now();
    let lost = false;
    const lose = (why: string) => {
      if (lost || stopping.signal.aborted) return;
      lost = true;
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
      await poll();
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
        await pause(Math.max(1, Math.floor(ttlMs / 4)));
        continue;
      }
      announced = false;
      logger.info("bot holds the poller lease");
      await pollWhileHolding(lease, ttlMs);
      // give the next holder its turn before trying again (it may be us, if nobody else is there)
      if (!stopping.signal.aborted) await pause(Math.max(1, Math.floor(ttlMs / 4)));
    }
  };

  const run = async () => {
    try {
      // grammY types its signal with the abort-controller polyfill; Node's is the same at run time
      await bot.init(stopping.signal as Parameters<Bot<C>["init"]>[0]);
    } catch (error) {
      if (stopping.signal.aborted) return;
      if (error instanceof GrammyError && error.error_code === 401) {
        logger.error("Telegram rejected TELEGRAM_BOT_TOKEN (401); the bot will not poll");
        return;
      }
      throw error;
    }
    if (stopping.signal.aborted) return;
    await onReady?.();
    if (stopping.signal.aborted) return;
    if (leased === undefined) await poll();
    else await runLeased(leased);
  };
  const done = run().catch((error: unknown) => logger.error({ err: error }, "bot polling stopped"));
  return {
    async stop() {
      stopping.abort();
      if (bot.isRunning()) await bot.stop();
      await done;
      // a standby need not wait for the lease to lapse
      await leased?.lease.release().catch(() => undefined);
    },
  };
}

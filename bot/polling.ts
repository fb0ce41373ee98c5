// Long polling that never blocks start-up: HTTP intake and the workers run while Telegram is
// unreachable. grammY's init() already retries network and 5xx errors with backoff; this only
// makes it cancellable and reports a token Telegram refuses.
import { GrammyError, type Bot, type Context } from "grammy";
import type { Logger } from "pino";

export interface Polling {
  stop(): Promise<void>;
}

export function startPolling<C extends Context>(
  bot: Bot<C>,
  logger: Logger,
  /** Runs once Telegram answered getMe, before polling starts (e.g. setMyCommands); must not throw. */
  onReady?: () => Promise<void>,
): Polling {
  const stopping = new AbortController();
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
    await bot.start({ onStart: (me) => logger.info({ bot: me.username }, "bot polling") });
  };
  const done = run().catch((error: unknown) => logger.error({ err: error }, "bot polling stopped"));
  return {
    async stop() {
      stopping.abort();
      if (bot.isRunning()) await bot.stop();
      await done;
    },
  };
}

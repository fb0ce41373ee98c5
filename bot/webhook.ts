// Webhook mode (TELEGRAM_WEBHOOK_URL): Telegram POSTs updates to the http role, so any number of
// HTTP replicas take them and no process long-polls. Two halves: the bot role tells Telegram where
// to send (setWebhook, at start, retried until Telegram answers, never blocking start-up), and the
// http role hands each update it receives to grammY (`updateHandler`). Stopping a replica leaves
// the webhook in place: the others keep serving it.
import { GrammyError, type Bot, type Context } from "grammy";
import type { Logger } from "pino";

/** What the bot handles: cards' buttons, commands and dialogues, and being added to or removed from chats. */
export const ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"] as const;

export interface WebhookSettings {
  url: string;
  secret: string;
}

export interface Webhook {
  stop(): Promise<void>;
}

const RETRY_MS = { first: 500, most: 15_000 } as const;

/** Calls setWebhook once Telegram answers; `onReady` (e.g. setMyCommands) runs after getMe, must not throw. */
export function startWebhook<C extends Context>(
  bot: Bot<C>,
  settings: WebhookSettings,
  logger: Logger,
  onReady?: () => Promise<void>,
): Webhook {
  const stopping = new AbortController();
  const signal = stopping.signal as Parameters<Bot<C>["init"]>[0];
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopping.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  const run = async () => {
    try {
      await bot.init(signal);
    } catch (error) {
      if (stopping.signal.aborted) return;
      if (error instanceof GrammyError && error.error_code === 401) {
        logger.error("Telegram rejected TELEGRAM_BOT_TOKEN (401); the webhook is not set");
        return;
      }
      throw error;
    }
    if (stopping.signal.aborted) return;
    await onReady?.();
    for (
      let wait: number = RETRY_MS.first;
      !stopping.signal.aborted;
      wait = Math.min(wait * 2, RETRY_MS.most)
    ) {
      try {
        await bot.api.setWebhook(
          settings.url,
          { secret_token: settings.secret, allowed_updates: [...ALLOWED_UPDATES] },
          signal,
        );
        logger.info({ bot: bot.botInfo.username, url: settings.url }, "bot webhook set");
        return;
      } catch (error) {
        if (stopping.signal.aborted) return;
        // a URL Telegram refuses (not HTTPS, a port it does not serve) will not get better by retrying
        if (error instanceof GrammyError && error.error_code === 400) {
          logger.error({ err: error, url: settings.url }, "Telegram refused TELEGRAM_WEBHOOK_URL");
          return;
        }
        logger.warn({ err: error, retryInMs: wait }, "setWebhook failed; retrying");
        await pause(wait);
      }
    }
  };
  const done = run().catch((error: unknown) => logger.error({ err: error }, "bot webhook not set"));
  return {
    async stop() {
      stopping.abort();
      await done;
    },
  };
}

/**
 * Hands one update to the bot. The first one waits for getMe (grammY needs the bot's identity);
 * concurrent first updates share that call. Rejects when the update could not be handled at all.
 */
export function updateHandler<C extends Context>(
  bot: Bot<C>,
): (update: { update_id: number }) => Promise<void> {
  let ready: Promise<void> | undefined;
  return async (update) => {
    if (!bot.isInited()) {
      ready ??= bot.init().catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      await ready;
    }
    await bot.handleUpdate(update);
  };
}

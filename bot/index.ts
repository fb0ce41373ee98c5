// Builds the grammY bot: API transformers (flood control, retries), the conversations plugin,
// then every feature (one Composer each), then the catch-all. Long polling is started by the
// runtime, not here.
import { autoRetry } from "@grammyjs/auto-retry";
import { conversations } from "@grammyjs/conversations";
import { sendThrottle, type ThrottleOptions } from "./send-throttle.js";
import { Bot, GrammyError, HttpError, type Transformer } from "grammy";
import type { Logger } from "pino";
import type { BotContext } from "./context.js";
import { conversationStorage, type DialogueState } from "./conversation-storage.js";
import type { ConversationStore } from "../kv/conversation-store.js";
import { cardButtons, type CardButtonDeps } from "./features/card-buttons.js";
import { cardBinding, unknownPresses, type CardBindingDeps } from "./features/card-binding.js";
import { teamOnly, type TeamDeps } from "./features/team-only.js";
import { whoamiCommand, type WhoamiDeps } from "./commands/whoami.js";
import { answerCallbacksWithin } from "./callback-deadline.js";
import { chatMembership, type ChatMembershipDeps } from "./features/chat-membership.js";
import { botCommands, helpCommand } from "./commands/help.js";
import {
  DEFAULT_LANGUAGE,
  LANGUAGES,
  messagesFor,
  telegramLanguageCode,
  type Language,
} from "../domain/i18n/index.js";
import { ackCommand } from "./commands/ack.js";
import { incidentsCommand, type IncidentsCommandDeps } from "./commands/incidents.js";
import { rollbackCommand, type RollbackCommandDeps } from "./commands/rollback.js";
import { statusCommand, type StatusCommandDeps } from "./commands/status.js";
import { drillDown, type DrillDownFeatureDeps } from "./conversations/drill-down.js";
import { silenceCommand, type SilenceCommandDeps } from "./commands/silence.js";

export interface BotOptions {
  token: string;
  apiRoot: string;
  logger: Logger;
  /** Telegram's limits by default (30/s overall, 20/min and 1/s per group); tests may raise them. */
  throttle?: ThrottleOptions;
  /** Dialogues wait in Redis (shared by every bot process); in memory without it. */
  conversationStore?: ConversationStore<DialogueState>;
  buttons?: CardButtonDeps;
  /** /status, /incidents, /rollback and the drill-down (app/commands.ts); /help needs nothing. */
  commands?: {
    status: StatusCommandDeps;
    incidents: IncidentsCommandDeps;
    rollback: RollbackCommandDeps;
    drillDown: DrillDownFeatureDeps;
  };
  /** A press not answered by its feature within this many ms is answered "Working on it…" (default 4 s). */
  answerCallbacksWithinMs?: number;
  /** Migrations and the bot's membership of chats (bot/features/chat-membership.ts). */
  chats?: ChatMembershipDeps;
  /** /silence: create, list and expire silences. */
  silences?: SilenceCommandDeps;
  /** Told of each call that could not reach Telegram (network, 5xx) and of each that did. */
  reachability?: { failed: (error: unknown) => void; recovered: () => void };
  /** Sees every call and what it got, retries included (bot/telegram-health.ts: what health says of Telegram). */
  watchCalls?: Transformer;
  /** Who the bot answers (bot/features/team-only.ts) and which message a press must be on. */
  guards?: { team: TeamDeps; binding: CardBindingDeps };
  /** /whoami, answered anywhere: the ids the settings need. */
  whoami?: WhoamiDeps;
  /** BOT_LANGUAGE: the language of /help and of the answers given here; default English. */
  language?: Language;
}

/**
 * Gives Telegram the command menu: one list per language for users whose app is set to it
 * (`language_code`, a two-letter ISO 639-1 code: "zh" for Chinese), and the default list, for
 * every other user, in BOT_LANGUAGE. A failure (Telegram away) is logged, never thrown.
 */
export async function registerCommands(
  bot: Bot<BotContext>,
  logger: Logger,
  language: Language = DEFAULT_LANGUAGE,
): Promise<void> {
  try {
    for (const each of LANGUAGES) {
      await bot.api.setMyCommands(botCommands(each), { language_code: telegramLanguageCode(each) });
    }
    await bot.api.setMyCommands(botCommands(language));
  } catch (error) {
    logger.warn({ err: error }, "could not register the bot commands with Telegram");
  }
}

export function createBot(options: BotOptions): Bot<BotContext> {
  const bot = new Bot<BotContext>(options.token, { client: { apiRoot: options.apiRoot } });
  // Installed first = innermost: every retry passes through the throttler again, so a 429 delays
  // a card (and the ones queued behind it) but never drops it.
  const reach = options.reachability;
  if (reach !== undefined) {
    // innermost of all: sees every attempt, retries included; grammY itself only logs to `debug`
    bot.api.config.use(async (prev, method, payload, signal) => {
      try {
        const result = await prev(method, payload, signal);
        if (result.ok || result.error_code < 500) reach.recovered();
        else reach.failed(new Error(`${result.error_code} ${result.description}`));
        return result;
      } catch (error) {
        // a long poll cut short by a stop is not an outage
        if (error instanceof HttpError && signal?.aborted !== true) reach.failed(error.error);
        throw error;
      }
    });
  }
  if (options.watchCalls !== undefined) bot.api.config.use(options.watchCalls);
  bot.api.config.use(sendThrottle(options.throttle));
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120 }));

  // First of all: every feature answers in the chat's language.
  const messages = messagesFor(options.language);
  bot.use((ctx, next) => {
    ctx.messages = messages;
    return next();
  });
  // Before everything that handles a press: a slow handler's press is answered in time anyway.
  bot.use(answerCallbacksWithin(options.answerCallbacksWithinMs ?? 4_000));
  // Before anything else reads an update: strangers are refused, presses bound to their card.
  if (options.whoami !== undefined) bot.use(whoamiCommand(options.whoami));
  if (options.guards !== undefined) {
    bot.use(teamOnly(options.guards.team));
    bot.use(cardBinding(options.guards.binding));
  }
  bot.use(
    conversations<BotContext, BotContext>({
      storage: conversationStorage(options.conversationStore),
    }),
  );

  const features = bot.errorBoundary((error) => {
    const cause = error.error;
    options.logger.error(
      { err: cause instanceof Error ? cause.message : String(cause), update: error.ctx.update.update_id },
      "bot feature failed",
    );
    options.logger.debug({ err: cause, update: error.ctx.update.update_id }, "bot feature failed: stack");
  });
  if (options.chats !== undefined) features.use(chatMembership(options.chats));
  features.use(helpCommand(options.language));
  if (options.commands !== undefined) {
    // Before the card buttons: "🔎 Details" is a card verb they do not handle.
    features.use(drillDown(options.commands.drillDown));
    features.use(statusCommand(options.commands.status));
    features.use(incidentsCommand(options.commands.incidents));
    features.use(rollbackCommand(options.commands.rollback));
  }
  features.use(cardButtons(options.buttons));
  if (options.buttons?.take !== undefined) features.use(ackCommand({ take: options.buttons.take }));
  if (options.silences !== undefined) features.use(silenceCommand(options.silences));

  // Catch-all: a stale or foreign button still gets an answer (and an audit row).
  if (options.guards !== undefined) bot.use(unknownPresses(options.guards.binding));
  else
    bot.on("callback_query", (ctx) => ctx.answerCallbackQuery({ text: ctx.messages.answers.noLongerValid }));

  bot.catch((error) => {
    const cause = error.error;
    if (cause instanceof GrammyError)
      options.logger.warn({ description: cause.description }, "telegram refused");
    else if (cause instanceof HttpError)
      options.logger.warn({ err: String(cause.error) }, "telegram unreachable");
    else {
      options.logger.error(
        { err: cause instanceof Error ? cause.message : String(cause) },
        "bot update failed",
      );
      options.logger.debug({ err: cause }, "bot update failed: stack");
    }
  });
  return bot;
}

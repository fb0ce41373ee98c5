// The Telegram side of a process: the grammY bot with every feature's deps (cards, commands,
// guards, chat migrations), and how updates arrive — a webhook the http role serves, or long
// polling by the one process holding the poller lease while the others stand by. What this
// process sees of Telegram (polling state, refused token, failing calls) goes to Redis for health.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ThrottleOptions } from "../bot/send-throttle.js";
import type { Bot } from "grammy";
import type { Logger } from "pino";
import type { ModelChecks } from "../ai/model-check.js";
import type { BotContext } from "../bot/context.js";
import { createBot, registerCommands } from "../bot/index.js";
import { startPolling, type LeaseOptions, type PollingOptions } from "../bot/polling.js";
import { TelegramHealthReporter } from "../bot/telegram-health.js";
import { startWebhook } from "../bot/webhook.js";
import type { ClusterKubeGateway } from "../gateways/kube-gateway.js";
import { chatReachable, chatUnreachable, followChatMigration } from "../handlers/chat-delivery.js";
import { rowScopedPrefix } from "../jobs/queues.js";
import { ConversationStore } from "../kv/conversation-store.js";
import { OpenChoices } from "../kv/open-choices.js";
import type { ChainSettingsStore } from "../kv/chain-settings.js";
import { PollerLease } from "../kv/poller-lease.js";
import type { Config } from "../registry/config.js";
import type { ServiceRegistry } from "../registry/services.js";
import { chatOpsDeps, type ChatOpsOptions } from "./chatops.js";
import { commandDeps, type CommandOptions, type RepairTargetDeps } from "./commands.js";
import {
  botIdOf,
  Outage,
  telegramHealthStore,
  whereTo,
  type Infrastructure,
  type Shutdown,
} from "./infrastructure.js";
import { chatDeliveryDeps } from "./workers.js";

export interface TelegramContext {
  config: Readonly<Config>;
  logger: Logger;
  infra: Infrastructure;
  /** Loaded for the roles that answer commands (app/runtime.ts). */
  registry: ServiceRegistry | undefined;
  kube: ClusterKubeGateway | undefined;
  targets: RepairTargetDeps;
  chainSettings: ChainSettingsStore;
  modelChecks: ModelChecks;
  cannotRun: (action: string) => string | undefined;
  /** What this process sees of Telegram, for health (telegramHealth below). */
  health: TelegramHealthReporter;
}

export interface TelegramOptions {
  telegramThrottle?: ThrottleOptions;
  chatops?: ChatOpsOptions;
  commands?: CommandOptions;
  pollerLeaseTtlMs?: number;
  /** How often a bot process reports its Telegram state to Redis (default 10 s); tests shorten it. */
  telegramHealthEveryMs?: number;
  /** Pauses after a 409 or 401 and when a poll counts as settled (bot/polling.ts); tests shorten them. */
  polling?: Omit<PollingOptions, "report">;
}

/** This process's reporter; it stops (and removes its report) after polling stopped. */
export function telegramHealth(
  ctx: Pick<TelegramContext, "config" | "logger" | "infra">,
  shutdown: Shutdown,
  options: TelegramOptions,
): TelegramHealthReporter {
  const reporter = new TelegramHealthReporter(
    telegramHealthStore(ctx.config, ctx.infra),
    ctx.logger,
    `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ...(options.telegramHealthEveryMs === undefined ? [] : [options.telegramHealthEveryMs]),
  );
  shutdown.add("Telegram health report", () => reporter.stop());
  return reporter;
}

export function buildTelegramBot(ctx: TelegramContext, options: TelegramOptions): Bot<BotContext> {
  const { config, logger, infra, registry } = ctx;
  const { pool, redis, queues } = infra;
  const delivery = chatDeliveryDeps({ config, logger, infra });
  const chatops = chatOpsDeps(
    {
      config,
      pool,
      queues,
      cannotRun: ctx.cannotRun,
      redis,
      logger,
      // they name messages of this installation's chats: under its id, as the dialogues are
      choices: new OpenChoices(redis, rowScopedPrefix(infra.scope)),
    },
    options.chatops,
  );
  return createBot({
    token: config.telegram.token,
    apiRoot: config.telegram.apiRoot,
    logger,
    language: config.language,
    ...(options.telegramThrottle === undefined ? {} : { throttle: options.telegramThrottle }),
    // a Telegram outage: one line when it starts, one when it ends (with a count)
    reachability: new Outage(logger, `Telegram at ${whereTo(config.telegram.apiRoot)} (TELEGRAM_API_ROOT)`),
    watchCalls: ctx.health.watch(),
    // dialogues name incidents and actions: they live under the installation id (jobs/queues.ts)
    conversationStore: new ConversationStore(redis, rowScopedPrefix(infra.scope)),
    ...chatops,
    whoami: {
      // the same reader (and cache) as the team check
      teamChats: chatops.guards.team.teamChats,
      approverIds: config.telegram.approverIds,
      viewerIds: config.telegram.viewerIds,
      logger,
    },
    chats: {
      migrated: (from, to) => followChatMigration(delivery, from, to),
      removed: (chatId, reason, description) =>
        chatUnreachable(delivery, chatId, { kind: "unreachable", reason, description }),
      restored: (chatId) => chatReachable(delivery, chatId),
    },
    ...(registry === undefined
      ? {}
      : commandDeps(
          {
            config,
            pool,
            redis,
            queues,
            registry,
            kube: ctx.kube,
            repairTargets: ctx.targets,
            chainSettings: ctx.chainSettings,
            modelChecks: ctx.modelChecks,
          },
          options.commands,
        )),
  });
}

/** The bot role: sets the webhook, or polls while it holds the lease. */
export function receiveUpdates(
  bot: Bot<BotContext>,
  ctx: Pick<TelegramContext, "config" | "logger" | "infra" | "health">,
  shutdown: Shutdown,
  options: TelegramOptions,
): void {
  const { config, logger } = ctx;
  const webhook = config.telegram.webhook;
  if (webhook !== undefined) {
    // webhook mode: Telegram POSTs updates to the http role; this role only tells it where
    ctx.health.pollingState("webhook");
    const started = startWebhook(bot, webhook, logger, () => registerCommands(bot, logger, config.language));
    shutdown.add("Telegram webhook", () => started.stop());
    return;
  }
  // one poller per bot token among every process sharing this Redis; the others stand by
  const lease: LeaseOptions = {
    lease: new PollerLease(ctx.infra.redis, config.redis.prefix, botIdOf(config.telegram.token)),
    ...(options.pollerLeaseTtlMs === undefined ? {} : { ttlMs: options.pollerLeaseTtlMs }),
  };
  const polling = startPolling(bot, logger, () => registerCommands(bot, logger, config.language), lease, {
    ...options.polling,
    report: (state, detail) => ctx.health.pollingState(state, detail),
  });
  shutdown.add("Telegram polling", () => polling.stop());
}

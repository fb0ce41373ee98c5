// Wires the process for the roles it runs (ROLES; every role by default): what every role stands
// on (app/infrastructure.ts), then the workers (app/workers.ts), the Telegram bot and the HTTP
// API. `close()` stops intake first, lets in-flight work finish, then closes the pools, so a
// SIGTERM loses nothing.
import type { APIThrottlerOptions } from "@grammyjs/transformer-throttler";
import type { FastifyInstance } from "fastify";
import type { Bot } from "grammy";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { budgetRemaining } from "../ai/chain.js";
import { ModelChecks } from "../ai/model-check.js";
import { createProviders } from "../ai/providers/index.js";
import type { BotContext } from "../bot/context.js";
import { createBot, registerCommands } from "../bot/index.js";
import { startPolling, type LeaseOptions } from "../bot/polling.js";
import { startWebhook, updateHandler } from "../bot/webhook.js";
import type { Pool } from "../db/pool.js";
import type { Metrics } from "../gateways/metrics.js";
import { buildApp, buildHealthApp } from "../http/app.js";
import { rowScopedPrefix, type Queues } from "../jobs/queues.js";
import { AuthBrake } from "../kv/auth-brake.js";
import { SentryReplayGuard } from "../kv/sentry-replay.js";
import { ConversationStore } from "../kv/conversation-store.js";
import { RedisBudgetStore } from "../kv/llm-budget.js";
import { PollerLease } from "../kv/poller-lease.js";
import type { Config } from "../registry/config.js";
import { loadRegistry } from "../registry/services.js";
import { chatOpsDeps, teamChatsOf, type ChatOpsOptions } from "./chatops.js";
import { commandDeps, type CommandOptions } from "./commands.js";
import { boundExecutors, cannotRunWith, openRepairClients } from "./executors.js";
import { createLogger, openInfrastructure, Outage, Shutdown, whereTo } from "./infrastructure.js";
import { chatDeliveryDeps, startWorkers, type WorkerOptions } from "./workers.js";
import { chatReachable, chatUnreachable, followChatMigration } from "../handlers/chat-delivery.js";

export { createLogger } from "./infrastructure.js";

export interface Runtime {
  config: Readonly<Config>;
  logger: Logger;
  pool: Pool;
  redis: Redis;
  queues: Queues;
  metrics: Metrics;
  bot: Bot<BotContext>;
  app?: FastifyInstance;
  /** http://host:port when the http role listens. */
  url?: string;
  /** http://host:port of the health-only listener (HEALTH_PORT, roles without `http`). */
  healthUrl?: string;
  /** Readiness turns false (503); everything keeps running until `close()`. */
  drain(): void;
  close(): Promise<void>;
}

export interface RuntimeOptions extends WorkerOptions {
  logger?: Logger;
  /** Client-side Telegram flood control (default: Telegram's own limits); lifting it lifts the chat budget too. */
  telegramThrottle?: APIThrottlerOptions;
  /** Snooze durations and dialogue timeouts of the card buttons (defaults in app/chatops.ts). */
  chatops?: ChatOpsOptions;
  /** /status, /incidents, /rollback and the drill-down (app/commands.ts). */
  commands?: CommandOptions;
  /** How long start-up waits for PostgreSQL and Redis (default app/infrastructure.ts). */
  startupWaitMs?: number;
  /** Polling mode: how long the poller lease lasts unrenewed (default bot/polling.ts). */
  pollerLeaseTtlMs?: number;
}

/** Says once, at start-up, what each configured model's check found; never holds start-up up. */
async function logModelChecks(checks: ModelChecks, logger: Logger): Promise<void> {
  for (const { provider, check } of await checks.all()) {
    switch (check.kind) {
      case "ok":
        logger.info({ provider, model: check.model, detail: check.detail }, "llm model checked");
        break;
      case "unusable":
        logger.error(
          { provider, model: check.model, reason: check.reason },
          "llm model unusable: the chain will skip it until the configuration is fixed",
        );
        break;
      case "unknown":
        logger.warn({ provider, model: check.model, reason: check.reason }, "llm model check failed");
        break;
    }
  }
}

export async function startRuntime(config: Readonly<Config>, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const roles = new Set(config.roles);
  const shutdown = new Shutdown(logger);
  let draining = false;
  try {
    const infra = await openInfrastructure(
      config,
      logger,
      shutdown,
      options.startupWaitMs === undefined ? {} : { startupWaitMs: options.startupWaitMs },
    );
    const { pool, redis, queues } = infra;
    // Probes of a worker or bot pod. Opened before the workers and closed after them (steps run
    // in reverse), so liveness keeps answering while in-flight jobs finish.
    let healthUrl: string | undefined;
    if (!roles.has("http") && config.http.healthPort > 0) {
      const health = await buildHealthApp({ db: pool, redis, queues, logger, draining: () => draining });
      healthUrl = await health.listen({ port: config.http.healthPort, host: config.http.host });
      shutdown.add("health listener", () => health.close(), {
        force: async () => health.server.closeAllConnections(),
      });
      logger.info({ url: healthUrl }, "health listening");
    }
    // The registry (owners, SLOs, links, allowed repairs) and the executors' clients serve the bot
    // and the workers, not intake. A broken registry or targets file stops start-up here.
    // In webhook mode the http role handles the bot's updates, commands included.
    const handlesUpdates = roles.has("bot") || (roles.has("http") && config.telegram.webhook !== undefined);
    const needsRegistry = roles.has("worker") || handlesUpdates;
    const registry = needsRegistry ? await loadRegistry(config.registryPath) : undefined;
    const { kube, targets, chainSettings } = await openRepairClients(config, redis, needsRegistry, shutdown);
    // Bound here for every role: the bot's cards and Approve must know what can run, too.
    const executors = boundExecutors(config, { kube, targets });
    const cannotRun = cannotRunWith(executors);
    // The LLM providers and their models' checks: built once, shared by the chain and /status, so
    // each configured model is checked once per process and the verdict logged once.
    const llmSlots = createProviders(config.llm);
    const modelChecks = new ModelChecks(llmSlots);
    if (roles.has("worker") || roles.has("bot")) void logModelChecks(modelChecks, logger);

    const delivery = chatDeliveryDeps({ config, logger, infra });
    const bot = createBot({
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      logger,
      ...(options.telegramThrottle === undefined ? {} : { throttle: options.telegramThrottle }),
      // a Telegram outage: one line when it starts, one when it ends (with a count)
      reachability: new Outage(logger, `Telegram at ${whereTo(config.telegram.apiRoot)} (TELEGRAM_API_ROOT)`),
      // dialogues name incidents and actions: they live under the installation id (jobs/queues.ts)
      conversationStore: new ConversationStore(redis, rowScopedPrefix(infra.scope)),
      ...chatOpsDeps({ config, pool, queues, cannotRun, redis, logger }, options.chatops),
      whoami: {
        teamChats: teamChatsOf(config, pool),
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
              kube,
              repairTargets: targets,
              chainSettings,
              modelChecks,
            },
            options.commands,
          )),
    });

    if (registry !== undefined && roles.has("worker")) {
      const context = {
        config,
        logger,
        infra,
        api: bot.api,
        registry,
        kube,
        executors,
        chainSettings,
        llmSlots,
        modelChecks,
      };
      await startWorkers(context, shutdown, {
        ...options,
        budgetLifted: options.telegramThrottle !== undefined,
      });
    }

    const webhook = config.telegram.webhook;
    if (roles.has("bot") && webhook !== undefined) {
      // webhook mode: Telegram POSTs updates to the http role; this role only tells it where
      const started = startWebhook(bot, webhook, logger, () => registerCommands(bot, logger));
      shutdown.add("Telegram webhook", () => started.stop());
    } else if (roles.has("bot")) {
      // one poller per bot token among every process sharing this Redis; the others stand by
      const lease: LeaseOptions = {
        lease: new PollerLease(redis, config.redis.prefix, Number(config.telegram.token.split(":")[0])),
        ...(options.pollerLeaseTtlMs === undefined ? {} : { ttlMs: options.pollerLeaseTtlMs }),
      };
      const polling = startPolling(bot, logger, () => registerCommands(bot, logger), lease);
      shutdown.add("Telegram polling", () => polling.stop());
    }

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (roles.has("http")) {
      const budgetStore = new RedisBudgetStore(redis, config.redis.prefix);
      const listening = await buildApp({
        ...infra,
        config,
        db: pool,
        logger,
        llmBudgets: () => budgetRemaining(budgetStore, options.chain?.budgets),
        cannotRun,
        authBrake: new AuthBrake(redis, config.redis.prefix),
        // remembered twice the window: a delivery stamped at either edge is still recognised
        sentryReplay: new SentryReplayGuard(
          redis,
          config.redis.prefix,
          2 * config.sentry.replayWindowSeconds,
        ),
        draining: () => draining,
        ...(webhook === undefined
          ? {}
          : {
              telegramWebhook: {
                path: new URL(webhook.url).pathname,
                secret: webhook.secret,
                handle: updateHandler(bot),
              },
            }),
      });
      app = listening;
      url = await listening.listen({ port: config.http.port, host: config.http.host });
      shutdown.add("HTTP listener", () => listening.close(), {
        limitMs: 5_000,
        // requests still open after the grace: their senders retry
        force: async () => listening.server.closeAllConnections(),
      });
      logger.info({ url }, "http listening");
    }

    return {
      config,
      logger,
      ...infra,
      bot,
      ...(app === undefined ? {} : { app }),
      ...(url === undefined ? {} : { url }),
      ...(healthUrl === undefined ? {} : { healthUrl }),
      drain: () => {
        draining = true;
      },
      close: () => shutdown.run(),
    };
  } catch (error) {
    await shutdown.run();
    throw error;
  }
}

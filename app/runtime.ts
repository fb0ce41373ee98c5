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
import type { BotContext } from "../bot/context.js";
import { createBot, registerCommands } from "../bot/index.js";
import { startPolling, type LeaseOptions } from "../bot/polling.js";
import { startWebhook, updateHandler } from "../bot/webhook.js";
import type { Pool } from "../db/pool.js";
import type { Metrics } from "../gateways/metrics.js";
import { buildApp } from "../http/app.js";
import { rowScopedPrefix, type Queues } from "../jobs/queues.js";
import { AuthBrake } from "../kv/auth-brake.js";
import { ConversationStore } from "../kv/conversation-store.js";
import { RedisBudgetStore } from "../kv/llm-budget.js";
import { PollerLease } from "../kv/poller-lease.js";
import type { Config } from "../registry/config.js";
import { loadRegistry } from "../registry/services.js";
import { chatOpsDeps, type ChatOpsOptions } from "./chatops.js";
import { commandDeps, type CommandOptions } from "./commands.js";
import { boundExecutors, cannotRunWith, openRepairClients } from "./executors.js";
import { createLogger, openInfrastructure, Shutdown } from "./infrastructure.js";
import { startWorkers, type WorkerOptions } from "./workers.js";

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

export async function startRuntime(config: Readonly<Config>, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const roles = new Set(config.roles);
  const shutdown = new Shutdown(logger);
  try {
    const infra = await openInfrastructure(
      config,
      logger,
      shutdown,
      options.startupWaitMs === undefined ? {} : { startupWaitMs: options.startupWaitMs },
    );
    const { pool, redis, queues } = infra;
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

    const bot = createBot({
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      logger,
      ...(options.telegramThrottle === undefined ? {} : { throttle: options.telegramThrottle }),
      // dialogues name incidents and actions: they live under the installation id (jobs/queues.ts)
      conversationStore: new ConversationStore(redis, rowScopedPrefix(infra.scope)),
      ...chatOpsDeps({ config, pool, queues, cannotRun, redis, logger }, options.chatops),
      ...(registry === undefined
        ? {}
        : commandDeps(
            { config, pool, redis, queues, registry, kube, repairTargets: targets, chainSettings },
            options.commands,
          )),
    });

    if (registry !== undefined && roles.has("worker")) {
      const context = { config, logger, infra, api: bot.api, registry, kube, executors, chainSettings };
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
      close: () => shutdown.run(),
    };
  } catch (error) {
    await shutdown.run();
    throw error;
  }
}

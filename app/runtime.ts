// Wires the process for the roles it runs (ROLES; every role by default): what every role stands
// on (app/infrastructure.ts), then the workers (app/workers.ts), the Telegram bot (app/telegram.ts)
// and the HTTP API (app/http-role.ts). `close()` stops intake first, lets in-flight work finish,
// then closes the pools, so a SIGTERM loses nothing. Each role's wiring is loaded only when the
// process runs that role: an intake-only process never loads grammY, BullMQ's workers or what the
// processors use, which keeps its memory down (README, Benchmark).
import type { FastifyInstance } from "fastify";
import type { Bot } from "grammy";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BotContext } from "../bot/context.js";
import type { Pool } from "../db/pool.js";
import type { Metrics } from "../gateways/metrics.js";
import type { Queues } from "../jobs/queues.js";
import type { Config } from "../registry/config.js";
import { openRoleClients } from "./executors.js";
import { createLogger, openInfrastructure, Shutdown } from "./infrastructure.js";
import type { TelegramOptions } from "./telegram.js";
import type { WorkerOptions } from "./workers.js";

export { createLogger } from "./infrastructure.js";

export interface Runtime {
  config: Readonly<Config>;
  logger: Logger;
  pool: Pool;
  redis: Redis;
  queues: Queues;
  metrics: Metrics;
  /** The Telegram bot, in a process whose roles use it (bot, worker, or http in webhook mode). */
  bot?: Bot<BotContext>;
  app?: FastifyInstance;
  /** http://host:port when the http role listens. */
  url?: string;
  /** http://host:port of the health-only listener (HEALTH_PORT, roles without `http`). */
  healthUrl?: string;
  /** Readiness turns false (503); everything keeps running until `close()`. */
  drain(): void;
  close(): Promise<void>;
}

export interface RuntimeOptions extends WorkerOptions, TelegramOptions {
  logger?: Logger;
  /** How long start-up waits for PostgreSQL and Redis (default app/infrastructure.ts). */
  startupWaitMs?: number;
}

export async function startRuntime(config: Readonly<Config>, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const roles = new Set(config.roles);
  const shutdown = new Shutdown(logger);
  let draining = false;
  // the bot sends the workers' cards, answers updates, or takes them over the webhook
  const usesTelegram =
    roles.has("bot") || roles.has("worker") || (roles.has("http") && config.telegram.webhook !== undefined);
  try {
    // loaded before anything listens, as a static import would be: once the probes answer, start-up
    // is only connecting (a SIGTERM before main.ts handles it ends the process). A process without
    // a listener (`npm start`'s workers' thread) never loads the HTTP server and its validators.
    const listens = roles.has("http") || config.http.healthPort > 0;
    const httpRole = listens ? await import("./http-role.js") : undefined;
    const telegramRole = usesTelegram ? await import("./telegram.js") : undefined;
    const workersRole = roles.has("worker") ? await import("./workers.js") : undefined;
    const wait = options.startupWaitMs === undefined ? {} : { startupWaitMs: options.startupWaitMs };
    const infra = await openInfrastructure(config, logger, shutdown, wait);
    const http = { config, logger, infra, draining: () => draining };
    // a worker or bot pod's probes, closed after the workers (shutdown steps run in reverse)
    const healthUrl =
      httpRole !== undefined && !roles.has("http") && config.http.healthPort > 0
        ? await httpRole.startHealthListener(http, shutdown)
        : undefined;
    const { registry, kube, targets, chainSettings, executors, cannotRun, llmSlots, modelChecks } =
      await openRoleClients(config, roles, infra, shutdown, logger);
    let bot: Bot<BotContext> | undefined;
    if (telegramRole !== undefined) {
      const telegram = {
        config,
        logger,
        infra,
        registry,
        kube,
        targets,
        chainSettings,
        modelChecks,
        cannotRun,
        // stops after polling (steps run in reverse), removing this process's report
        health: telegramRole.telegramHealth({ config, logger, infra }, shutdown, options),
      };
      bot = telegramRole.buildTelegramBot(telegram, options);
      if (registry !== undefined && workersRole !== undefined) {
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
        await workersRole.startWorkers(context, shutdown, {
          ...options,
          budgetLifted: options.telegramThrottle !== undefined,
        });
      }
      if (roles.has("bot")) telegramRole.receiveUpdates(bot, telegram, shutdown, options);
    }
    const listening =
      httpRole !== undefined && roles.has("http")
        ? await httpRole.startHttp(
            { ...http, bot, cannotRun, ...(options.chain === undefined ? {} : { chain: options.chain }) },
            shutdown,
          )
        : undefined;

    return {
      config,
      logger,
      ...infra,
      ...(bot === undefined ? {} : { bot }),
      ...(listening === undefined ? {} : { app: listening.app, url: listening.url }),
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

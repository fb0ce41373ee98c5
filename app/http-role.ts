// The HTTP side of a process: the API (webhooks, incidents, approvals, health, metrics and, in
// webhook mode, Telegram's updates) for the http role, or only the health routes on HEALTH_PORT
// for a worker or bot pod's probes.
import type { FastifyInstance } from "fastify";
import type { Bot } from "grammy";
import type { Logger } from "pino";
import { budgetRemaining, type ChainOptions } from "../ai/chain.js";
import type { BotContext } from "../bot/context.js";
import { buildApp, buildHealthApp } from "../http/app.js";
import { AuthBrake } from "../kv/auth-brake.js";
import { RedisBudgetStore } from "../kv/llm-budget.js";
import { SentryReplayGuard } from "../kv/sentry-replay.js";
import type { Config } from "../registry/config.js";
import { readTelegramProblems } from "../handlers/telegram-health.js";
import { telegramHealthStore, type Infrastructure, type Shutdown } from "./infrastructure.js";

export interface HttpContext {
  config: Readonly<Config>;
  logger: Logger;
  infra: Infrastructure;
  /** True from SIGTERM on: readiness answers 503 first. */
  draining: () => boolean;
}

/** Telegram as every process sharing this Redis reports it (a bot pod's probes say it too). */
function telegramProblemsOf(ctx: HttpContext) {
  const store = telegramHealthStore(ctx.config, ctx.infra);
  return () => readTelegramProblems(store);
}

/** Probes of a worker or bot pod; opened before the workers and closed after them. */
export async function startHealthListener(ctx: HttpContext, shutdown: Shutdown): Promise<string> {
  const { config, logger, infra } = ctx;
  const health = await buildHealthApp({
    db: infra.pool,
    redis: infra.redis,
    queues: infra.queues,
    logger,
    draining: ctx.draining,
    telegramProblems: telegramProblemsOf(ctx),
  });
  const url = await health.listen({ port: config.http.healthPort, host: config.http.host });
  shutdown.add("health listener", () => health.close(), {
    force: async () => health.server.closeAllConnections(),
  });
  logger.info({ url }, "health listening");
  return url;
}

export async function startHttp(
  ctx: HttpContext & {
    /** Built where Telegram's updates reach this process (webhook mode); grammY is loaded only then. */
    bot: Bot<BotContext> | undefined;
    cannotRun: (action: string) => string | undefined;
    chain?: ChainOptions;
  },
  shutdown: Shutdown,
): Promise<{ app: FastifyInstance; url: string }> {
  const { config, logger, infra } = ctx;
  const { redis } = infra;
  const webhook = config.telegram.webhook;
  // webhook mode: Telegram's updates arrive here and go to the bot
  const telegramWebhook =
    webhook === undefined || ctx.bot === undefined
      ? undefined
      : {
          path: new URL(webhook.url).pathname,
          secret: webhook.secret,
          handle: (await import("../bot/webhook.js")).updateHandler(ctx.bot),
        };
  const budgetStore = new RedisBudgetStore(redis, config.redis.prefix);
  const app = await buildApp({
    ...infra,
    config,
    db: infra.pool,
    logger,
    llmBudgets: () => budgetRemaining(budgetStore, ctx.chain?.budgets),
    cannotRun: ctx.cannotRun,
    authBrake: new AuthBrake(redis, config.redis.prefix),
    // remembered twice the window: a delivery stamped at either edge is still recognised
    sentryReplay: new SentryReplayGuard(redis, config.redis.prefix, 2 * config.sentry.replayWindowSeconds),
    draining: ctx.draining,
    telegramProblems: telegramProblemsOf(ctx),
    ...(telegramWebhook === undefined ? {} : { telegramWebhook }),
  });
  const url = await app.listen({ port: config.http.port, host: config.http.host });
  shutdown.add("HTTP listener", () => app.close(), {
    limitMs: 5_000,
    // requests still open after the grace: their senders retry
    force: async () => app.server.closeAllConnections(),
  });
  logger.info({ url }, "http listening");
  return { app, url };
}

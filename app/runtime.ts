// Wires the process: PostgreSQL (migrated), Redis, queues, workers, the HTTP app and the bot, as
// the configured roles ask. `close()` stops intake first, lets in-flight work finish, then closes
// the pools, so a SIGTERM loses nothing.
import { Worker } from "bullmq";
import type { APIThrottlerOptions } from "@grammyjs/transformer-throttler";
import type { Bot } from "grammy";
import type { BotContext } from "../bot/context.js";
import { Redis, type RedisOptions } from "ioredis";
import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";
import { createBot } from "../bot/index.js";
import { startPolling } from "../bot/polling.js";
import { telegramNotifier } from "../bot/telegram-notifier.js";
import { migrate } from "../db/migrate.js";
import { createPool, type Pool } from "../db/pool.js";
import { buildApp } from "../http/app.js";
import { RedisBudgetStore } from "../ai/budget-store.js";
import { createAnalysisChain, type ChainOptions } from "../ai/chain.js";
import { randomUUID } from "node:crypto";
import { getAnalysis } from "../db/analyses.js";
import { resourceKey } from "../executors/decide.js";
import { DockerodeGateway } from "../executors/docker-gateway.js";
import { EXECUTORS } from "../executors/index.js";
import { ClusterKubeGateway } from "../executors/kube-gateway.js";
import { KUBERNETES_EXECUTORS, type KubeExecutorDeps } from "../executors/kubernetes.js";
import type { RemediationAction } from "../ai/actions.js";
import { approveAction } from "../handlers/approve-action.js";
import { analyzeProcessor } from "../jobs/analyze.processor.js";
import { executeProcessor } from "../jobs/execute.processor.js";
import { ingestProcessor } from "../jobs/ingest.processor.js";
import { notifyProcessor } from "../jobs/notify.processor.js";
import { startSignozPoller } from "../jobs/signoz-poller.js";
import { createQueues, QUEUE_NAMES, type Queues } from "../jobs/queues.js";
import { allowedActionsFrom, serviceFactsFrom } from "../registry/lookups.js";
import { RepairCountersStore } from "../executors/repair-counters.js";
import type { Config } from "../registry/config.js";
import { loadRegistry } from "../registry/services.js";
import { createMetrics, type Metrics } from "./metrics.js";

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

export interface RuntimeOptions {
  logger?: Logger;
  /** Worker concurrency per queue. */
  concurrency?: { ingest?: number; notify?: number; analyze?: number };
  /** Client-side Telegram flood control (default: Telegram's own limits). */
  telegramThrottle?: APIThrottlerOptions;
  /** How often and how long to verify a repair (default every 1 s for 120 s). */
  verify?: { verifyEveryMs?: number; verifyWithinMs?: number };
  /** Timeouts, breaker and budgets of the LLM chain (defaults in ai/chain.ts). */
  chain?: ChainOptions;
}

/** The Kubernetes executors' deps, one gateway for all, when KUBECONFIG is set. */
function kubeExecutorDeps(config: Readonly<Config>): Partial<Record<RemediationAction, KubeExecutorDeps>> {
  if (config.kubeconfig === undefined) return {};
  const deps: KubeExecutorDeps = {
    kube: ClusterKubeGateway.fromKubeconfig(config.kubeconfig),
    minHealthyReplicas: config.autoRepair.minHealthyReplicas,
    maxReplicas: config.autoRepair.maxReplicas,
  };
  return Object.fromEntries(KUBERNETES_EXECUTORS.map((executor) => [executor.name, deps]));
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "chatops-bot" }, redact: ["req.headers.authorization"] });
}

function redisOptions(extra: RedisOptions = {}): RedisOptions {
  return { connectionName: "chatops-bot", ...extra };
}

export async function startRuntime(config: Readonly<Config>, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const roles = new Set(config.roles);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    // Reverse order of start: intake first, pools last.
    for (const closer of closers.reverse()) {
      await closer().catch((error: unknown) => logger.error({ err: error }, "shutdown step failed"));
    }
  };

  try {
    const pool = createPool(config.database.url);
    closers.push(() => pool.end());
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info({ applied }, "database migrated");

    // Producers fail fast when Redis is away (the webhook answers 503); workers wait for it.
    const redis = new Redis(
      config.redis.url,
      redisOptions({ enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true }),
    );
    redis.on("error", (error) => logger.warn({ err: error.message }, "redis connection error"));
    await redis.connect();
    closers.push(() => redis.quit());
    const workerConnection = new Redis(config.redis.url, redisOptions({ maxRetriesPerRequest: null }));
    workerConnection.on("error", (error) =>
      logger.warn({ err: error.message }, "redis worker connection error"),
    );
    closers.push(async () => workerConnection.disconnect());

    const queues = createQueues(redis, config.redis.prefix);
    closers.push(() => queues.close());
    const metrics = createMetrics();
    const bot = createBot({
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      logger,
      ...(options.telegramThrottle === undefined ? {} : { throttle: options.telegramThrottle }),
      conversationStore: { redis, prefix: config.redis.prefix },
      buttons: {
        approve: async (input) => {
          const result = await approveAction(
            {
              db: pool,
              approverIds: config.telegram.approverIds,
              // the job id is the action's: however often it is queued, it runs once
              enqueueExecution: (actionId) =>
                queues.execute.add("execute", { actionId }, { jobId: `execute-${actionId}` }),
            },
            input,
          );
          if (result.outcome === "approved") {
            await queues.notify.add(
              "card",
              { incidentId: input.incidentId, changedAt: new Date().toISOString() },
              { jobId: randomUUID() },
            );
          }
          return result;
        },
      },
    });

    if (roles.has("worker")) {
      const notifier = telegramNotifier(bot.api);
      // The registry gives cards their owner, SLO and links; a broken file stops start-up here.
      const registry = await loadRegistry(config.registryPath);
      const serviceFacts = serviceFactsFrom(registry);
      const guardrails = {
        policy: {
          enabled: config.autoRepair.enabled,
          maxPerHour: config.autoRepair.maxPerHour,
          maxPerResourcePerHour: config.autoRepair.maxPerResourcePerHour,
          minConfidence: config.autoRepair.minConfidence,
          maxAffectedPods: config.autoRepair.maxAffectedPods,
          minHealthyReplicas: config.autoRepair.minHealthyReplicas,
          allowedNamespaces: config.autoRepair.allowedNamespaces,
          autoMaxRisk: "LOW" as const,
        },
        counters: new RepairCountersStore(redis, config.redis.prefix),
        registryAllows: allowedActionsFrom(registry),
      };
      const chain = createAnalysisChain(
        config.llm,
        { budgetStore: new RedisBudgetStore(redis, config.redis.prefix) },
        options.chain,
      );
      const workers = [
        new Worker(
          QUEUE_NAMES.ingest,
          ingestProcessor({
            ingest: {
              pool,
              redis,
              keyPrefix: config.redis.prefix,
              dedupTtlSeconds: {
                alertmanager: config.alertmanager.dedupTtlSeconds,
                sentry: config.sentry.dedupTtlSeconds,
                signoz: config.alertmanager.dedupTtlSeconds,
              },
            },
            queues,
            metrics,
            signozUrl: config.signoz.publicUrl,
          }),
          {
            connection: workerConnection,
            prefix: config.redis.prefix,
            concurrency: options.concurrency?.ingest ?? 8,
          },
        ),
        new Worker(
          QUEUE_NAMES.notify,
          notifyProcessor({
            sync: { db: pool, notifier, serviceFacts, chatIds: () => [config.telegram.chatId] },
            redis,
            keyPrefix: config.redis.prefix,
            metrics,
          }),
          {
            connection: workerConnection,
            prefix: config.redis.prefix,
            concurrency: options.concurrency?.notify ?? 4,
          },
        ),
        new Worker(
          QUEUE_NAMES.analyze,
          analyzeProcessor({ analyze: { pool, chain, guardrails }, queues, metrics }),
          {
            connection: workerConnection,
            prefix: config.redis.prefix,
            concurrency: options.concurrency?.analyze ?? 4,
            // a slow model must not make BullMQ think the worker died (Ollama may take 60 s)
            lockDuration: 180_000,
          },
        ),
        new Worker(
          QUEUE_NAMES.execute,
          executeProcessor({
            queues,
            execute: {
              db: pool,
              executors: EXECUTORS,
              executorDeps: {
                ...(config.dockerHost === undefined
                  ? {}
                  : { RESTART_CONTAINER: { docker: DockerodeGateway.fromHost(config.dockerHost) } }),
                ...kubeExecutorDeps(config),
              },
              dryRun: config.autoRepair.dryRun,
              startCooldown: async (action) => {
                const stored = await getAnalysis(pool, action.analysisId);
                if (stored !== undefined) {
                  await guardrails.counters.startCooldown(
                    resourceKey(stored.analysis),
                    config.autoRepair.cooldownSeconds,
                  );
                }
              },
            },
            ...options.verify,
          }),
          {
            connection: workerConnection,
            prefix: config.redis.prefix,
            concurrency: 4,
            lockDuration: 120_000,
          },
        ),
      ];
      for (const worker of workers) {
        worker.on("failed", (job, error) =>
          logger.warn(
            { queue: worker.name, job: job?.id, attempts: job?.attemptsMade, err: error.message },
            "job failed",
          ),
        );
        worker.on("error", (error) => logger.error({ err: error, queue: worker.name }, "worker error"));
      }
      // Worker.close() waits for the jobs in progress.
      closers.push(() => Promise.all(workers.map((worker) => worker.close())));
      if (config.signoz.clickhouseUrl !== undefined) {
        // One schedule in Redis however many workers run; each poll turns anomalies into alerts.
        const poller = await startSignozPoller({
          connection: workerConnection,
          prefix: config.redis.prefix,
          clickhouseUrl: config.signoz.clickhouseUrl,
          ingestQueue: queues.ingest,
          logger,
          thresholds: { errorCount: config.signoz.anomalyThresholdErrorCount },
        });
        closers.push(() => poller.close());
      }
    }

    if (roles.has("bot")) {
      const polling = startPolling(bot, logger);
      closers.push(() => polling.stop());
    }

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (roles.has("http")) {
      app = await buildApp({ config, queues, db: pool, redis, metrics, logger });
      url = await app.listen({ port: config.http.port, host: config.http.host });
      closers.push(() => (app as FastifyInstance).close());
      logger.info({ url }, "http listening");
    }

    return {
      config,
      logger,
      pool,
      redis,
      queues,
      metrics,
      bot,
      ...(app === undefined ? {} : { app }),
      ...(url === undefined ? {} : { url }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

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
import { createBot, registerCommands } from "../bot/index.js";
import { startPolling } from "../bot/polling.js";
import { telegramNotifier } from "../bot/telegram-notifier.js";
import { migrate } from "../db/migrate.js";
import { createPool, type Pool } from "../db/pool.js";
import { buildApp } from "../http/app.js";
import { RedisBudgetStore } from "../kv/llm-budget.js";
import { RedisChainSettings } from "../kv/chain-settings.js";
import { createProviders } from "../ai/providers/index.js";
import { createTargetDeps } from "../executors/target-deps.js";
import { loadTargets, NO_TARGETS } from "../executors/targets.js";
import { budgetRemaining, createAnalysisChain, type ChainOptions } from "../ai/chain.js";
import { randomUUID } from "node:crypto";
import { getAnalysis } from "../db/analyses.js";
import { resourceKey } from "../domain/decide.js";
import { DockerodeGateway } from "../gateways/docker-gateway.js";
import { EXECUTORS } from "../executors/index.js";
import type { ClusterKubeGateway, KubeGateway } from "../gateways/kube-gateway.js";
import { KUBERNETES_EXECUTORS, type KubeExecutorDeps } from "../executors/kubernetes.js";
import type { RemediationAction } from "../domain/actions.js";
import { chatOpsDeps, type ChatOpsOptions } from "./chatops.js";
import { commandDeps, guardrailPolicy, type CommandOptions } from "./commands.js";
import { ChatBusy, remindProcessor } from "../jobs/remind.processor.js";
import { registryProbe } from "../gateways/http-probe.js";
import { analyzeProcessor } from "../jobs/analyze.processor.js";
import { executeProcessor, scheduleExecuteSweep } from "../jobs/execute.processor.js";
import { ingestProcessor } from "../jobs/ingest.processor.js";
import { notifyProcessor } from "../jobs/notify.processor.js";
import { telegramNotices } from "../bot/telegram-notices.js";
import { routeChats } from "../handlers/route-chats.js";
import { StormGate } from "../kv/storm-gate.js";
import { ChatBudget, TELEGRAM_BUDGET, type ChatBudgetLimits } from "../kv/chat-budget.js";
import { escalateProcessor } from "../jobs/escalate.processor.js";
import { scheduleStormRefresh, stormProcessor } from "../jobs/storm.processor.js";
import { startSignozPoller } from "../jobs/signoz-poller.js";
import { enqueueCard, createQueues, QUEUE_NAMES, type Queues } from "../jobs/queues.js";
import { allowedActionsFrom, serviceFactsFrom } from "../registry/lookups.js";
import { RepairCountersStore } from "../kv/repair-counters.js";
import type { Config } from "../registry/config.js";
import { loadRegistry } from "../registry/services.js";
import { createMetrics, type Metrics } from "../gateways/metrics.js";
import { DedupWindow } from "../kv/dedup.js";
import { CardLocks } from "../kv/card-lock.js";
import { ConversationStore } from "../kv/conversation-store.js";

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
  /**
   * The bot's own sends per chat per minute, shared across processes (handlers/storm.ts). Default:
   * inside Telegram's limits, or unlimited when `telegramThrottle` lifts them.
   */
  chatBudget?: ChatBudgetLimits;
  /** At most one edit of a storm summary card per this many ms (default jobs/storm.processor.ts). */
  stormRefreshMs?: number;
  /** How often and how long to verify a repair (default every 1 s for 120 s). */
  verify?: { verifyEveryMs?: number; verifyWithinMs?: number };
  /** Timeouts, breaker and budgets of the LLM chain (defaults in ai/chain.ts). */
  chain?: ChainOptions;
  /** Snooze durations and dialogue timeouts of the card buttons (defaults in app/chatops.ts). */
  chatops?: ChatOpsOptions;
  /** /status, /incidents, /rollback and the drill-down (app/commands.ts). */
  commands?: CommandOptions;
}

/** The Kubernetes executors' deps, one gateway for all, when KUBECONFIG is set. */
function kubeExecutorDeps(
  config: Readonly<Config>,
  kube: KubeGateway | undefined,
): Partial<Record<RemediationAction, KubeExecutorDeps>> {
  if (kube === undefined) return {};
  const deps: KubeExecutorDeps = {
    kube,
    minHealthyReplicas: config.autoRepair.minHealthyReplicas,
    maxReplicas: config.autoRepair.maxReplicas,
  };
  return Object.fromEntries(KUBERNETES_EXECUTORS.map((executor) => [executor.name, deps]));
}

/**
 * The cluster's gateway when KUBECONFIG is set. @kubernetes/client-node costs about 80 MB of
 * memory, so it is loaded only here: never by intake, nor without a cluster.
 */
async function clusterGateway(config: Readonly<Config>): Promise<ClusterKubeGateway | undefined> {
  if (config.kubeconfig === undefined) return undefined;
  const { ClusterKubeGateway } = await import("../gateways/kube-gateway.js");
  return ClusterKubeGateway.fromKubeconfig(config.kubeconfig);
}

function deploymentReplicas(kube: KubeGateway) {
  return async (namespace: string, deployment: string) => {
    const { replicas, readyReplicas } = await kube.getDeployment(namespace, deployment);
    return { replicas, readyReplicas };
  };
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
    // The registry gives cards their owner, SLO and links, and the guardrails what each service
    // allows; the bot and the workers need it, intake does not. A broken file stops start-up here.
    const registry =
      roles.has("worker") || roles.has("bot") ? await loadRegistry(config.registryPath) : undefined;
    const kube = registry === undefined ? undefined : await clusterGateway(config);
    // The targets of CLEAR_CACHE, VACUUM_DB, CLEANUP_LOGS, RENEW_CERT (the workers act on them,
    // /status checks them); a broken file stops start-up here.
    const repairTargets =
      registry === undefined || config.autoRepair.configPath === undefined
        ? NO_TARGETS
        : await loadTargets(config.autoRepair.configPath);
    // SWITCH_MODEL and FALLBACK_AI write these; the chain reads them before every analysis.
    const chainSettings = new RedisChainSettings(redis, config.redis.prefix);
    // Clients to the targets connect on first use.
    const targetDeps = createTargetDeps({
      targets: repairTargets,
      settings: chainSettings,
      ollama: config.llm.ollama,
      chain: config.llm.chain,
      configuredProviders: createProviders(config.llm)
        .filter((slot) => slot.provider !== undefined)
        .map((slot) => slot.name),
    });
    closers.push(() => targetDeps.close());
    const bot = createBot({
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      logger,
      ...(options.telegramThrottle === undefined ? {} : { throttle: options.telegramThrottle }),
      conversationStore: new ConversationStore(redis, config.redis.prefix),
      // the card buttons and /silence (app/chatops.ts)
      ...chatOpsDeps({ config, pool, queues }, options.chatops),
      ...(registry === undefined
        ? {}
        : commandDeps(
            { config, pool, redis, queues, registry, kube, repairTargets: targetDeps.deps, chainSettings },
            options.commands,
          )),
    });

    if (registry !== undefined && roles.has("worker")) {
      const notifier = telegramNotifier(bot.api);
      const notices = telegramNotices(bot.api);
      const chatIds = routeChats(config.telegram.routes, config.telegram.chatId);
      // A test that lifts the client throttle lifts the shared budget with it.
      const unlimited = {
        groupPerMinute: Number.MAX_SAFE_INTEGER,
        privatePerMinute: Number.MAX_SAFE_INTEGER,
      };
      const chatBudget = new ChatBudget(
        redis,
        config.redis.prefix,
        options.chatBudget ?? (options.telegramThrottle === undefined ? TELEGRAM_BUDGET : unlimited),
      );
      const stormGate = new StormGate(redis, config.redis.prefix, config.storm);
      const storm = {
        db: pool,
        gate: stormGate,
        refresh: (stormId: number) =>
          scheduleStormRefresh(queues.storm, stormId, Date.now(), options.stormRefreshMs),
      };
      // The outside clients of the executors; an action without one cannot run here.
      const executorDeps: Partial<Record<RemediationAction, unknown>> = {
        ...(config.dockerHost === undefined
          ? {}
          : { RESTART_CONTAINER: { docker: DockerodeGateway.fromHost(config.dockerHost) } }),
        ...kubeExecutorDeps(config, kube),
        ...targetDeps.deps,
      };
      const serviceFacts = serviceFactsFrom(registry);
      const guardrails = {
        policy: guardrailPolicy(config),
        counters: new RepairCountersStore(redis, config.redis.prefix),
        registryAllows: allowedActionsFrom(registry),
      };
      const chain = createAnalysisChain(
        config.llm,
        { budgetStore: new RedisBudgetStore(redis, config.redis.prefix), settings: chainSettings },
        options.chain,
      );
      const workers: Worker[] = [
        new Worker(
          QUEUE_NAMES.ingest,
          ingestProcessor({
            ingest: {
              pool,
              dedup: new DedupWindow(redis, config.redis.prefix, {
                alertmanager: config.alertmanager.dedupTtlSeconds,
                sentry: config.sentry.dedupTtlSeconds,
                signoz: config.alertmanager.dedupTtlSeconds,
              }),
            },
            queues,
            metrics,
            signozUrl: config.signoz.publicUrl,
            escalateAfterSeconds: config.escalation.afterSeconds,
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
            sync: { db: pool, notifier, serviceFacts, chatIds, budget: chatBudget, storm },
            locks: new CardLocks(redis, config.redis.prefix),
            metrics,
            queues,
          }),
          {
            connection: workerConnection,
            prefix: config.redis.prefix,
            concurrency: options.concurrency?.notify ?? 4,
          },
        ),
        new Worker(
          QUEUE_NAMES.analyze,
          analyzeProcessor({
            analyze: {
              pool,
              chain,
              guardrails,
              // analyses see pod logs and events when a cluster is configured
              ...(kube === undefined ? {} : { context: { kube } }),
              // the guardrails count the pods a rollout replaces, and the ready ones, from the cluster
              ...(kube === undefined ? {} : { workload: deploymentReplicas(kube) }),
              canExecute: (action) => executorDeps[action] !== undefined,
              // what the guardrails allow runs once, like an approval (job id = action id)
              enqueueExecution: (actionId) =>
                queues.execute.add("execute", { actionId }, { jobId: `execute-${actionId}` }),
            },
            queues,
            metrics,
          }),
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
              executorDeps,
              dryRun: config.autoRepair.dryRun,
              executionTimeoutMs: config.autoRepair.executionTimeoutSeconds * 1000,
              autoRollback: config.autoRepair.autoRollback,
              probe: registryProbe(registry),
              escalate: (incidentId, detail) =>
                queues.escalate.add(
                  "escalate",
                  { incidentId, reason: "repair_failed", detail },
                  { jobId: `escalate-repair-${incidentId}-${randomUUID()}` },
                ),
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
            verifyWithinMs: config.autoRepair.verifySeconds * 1000,
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
      workers.push(
        // snooze reminders: delayed until the snooze ends, then the chat hears it again
        new Worker(
          QUEUE_NAMES.remind,
          remindProcessor({
            db: pool,
            remind: async (chatId, replyToMessageId, text) => {
              const wait = await chatBudget.take(chatId, "urgent");
              if (wait > 0) throw new ChatBusy(wait);
              return bot.api.sendMessage(chatId, text, {
                reply_parameters: { message_id: replyToMessageId, allow_sending_without_reply: true },
              });
            },
            enqueueCard: (incidentId) => enqueueCard(queues.notify, incidentId),
          }),
          { connection: workerConnection, prefix: config.redis.prefix, concurrency: 2 },
        ),
      );
      workers.push(
        // SLA and failed-repair escalations: delayed jobs in Redis, so they outlive a restart
        new Worker(
          QUEUE_NAMES.escalate,
          escalateProcessor({
            escalate: {
              pool,
              notices,
              chatIds,
              oncallUsernames: config.telegram.oncallUsernames,
              afterSeconds: config.escalation.afterSeconds,
              budget: chatBudget,
            },
            queues,
          }),
          { connection: workerConnection, prefix: config.redis.prefix, concurrency: 2 },
        ),
        // storm summary cards, edited at most once per refresh interval
        new Worker(
          QUEUE_NAMES.storm,
          stormProcessor({
            sync: { db: pool, gate: stormGate, notices, budget: chatBudget },
            queue: queues.storm,
            enqueueCard: (incidentId) => enqueueCard(queues.notify, incidentId),
            metrics,
            ...(options.stormRefreshMs === undefined ? {} : { intervalMs: options.stormRefreshMs }),
          }),
          { connection: workerConnection, prefix: config.redis.prefix, concurrency: 2 },
        ),
      );
      for (const worker of workers) {
        worker.on("failed", (job, error) =>
          logger.warn(
            { queue: worker.name, job: job?.id, attempts: job?.attemptsMade, err: error.message },
            "job failed",
          ),
        );
        worker.on("error", (error) => logger.error({ err: error, queue: worker.name }, "worker error"));
      }
      // Every 30 s: actions stuck between steps (a lost hand-over, a dead worker) are moved on.
      await scheduleExecuteSweep(queues.execute);
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
      const polling = startPolling(bot, logger, () => registerCommands(bot, logger));
      closers.push(() => polling.stop());
    }

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (roles.has("http")) {
      const budgetStore = new RedisBudgetStore(redis, config.redis.prefix);
      app = await buildApp({
        config,
        queues,
        db: pool,
        redis,
        metrics,
        logger,
        llmBudgets: () => budgetRemaining(budgetStore, options.chain?.budgets),
      });
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

// The queue workers, as one table: each row a queue, its processor (jobs/), and how many jobs it
// runs at once; rows with a schedule book it in Redis once, however many processes start. The
// deps each processor needs are built here from the runtime's clients, and nothing else happens.
import { hostname } from "node:os";
import { Worker, type Processor } from "bullmq";
import type { Api } from "grammy";
import type { Logger } from "pino";
import { AnalysisChain, type ChainOptions } from "../ai/chain.js";
import type { ModelChecks } from "../ai/model-check.js";
import type { ProviderSlot } from "../ai/providers/index.js";
import { telegramNotices, telegramReminder } from "../bot/telegram-notices.js";
import { telegramNotifier } from "../bot/telegram-notifier.js";
import type { RemediationAction } from "../domain/actions.js";
import type { BoundExecutor } from "../executors/executor.js";
import type { KubeGateway } from "../gateways/kube-gateway.js";
import { registryProbe } from "../gateways/http-probe.js";
import type * as SignozModule from "../gateways/signoz-spans.js";
import { DEFAULT_SIGNOZ_THRESHOLDS } from "../handlers/detect-signoz-anomalies.js";
import { remindWithinBudget } from "../handlers/end-snooze.js";
import { cooldownOnFailure } from "../handlers/execute-action.js";
import { routeChats } from "../handlers/route-chats.js";
import type { ChatDeliveryDeps } from "../handlers/chat-delivery.js";
import { placeOf } from "../domain/chat-place.js";
import { analyzeProcessor } from "../jobs/analyze.processor.js";
import { escalateProcessor } from "../jobs/escalate.processor.js";
import { executeProcessor, scheduleExecuteSweep } from "../jobs/execute.processor.js";
import { heartbeatCheckProcessor, scheduleHeartbeatCheck } from "../jobs/heartbeat.processor.js";
import { ingestProcessor } from "../jobs/ingest.processor.js";
import { notifyProcessor } from "../jobs/notify.processor.js";
import {
  enqueueCard,
  enqueueExecution,
  enqueueRepairEscalation,
  QUEUE_NAMES,
  queuePrefix,
  rowScopedPrefix,
  type QueueName,
} from "../jobs/queues.js";
import { remindProcessor } from "../jobs/remind.processor.js";
import { scheduleSignozPoll, signozPollProcessor, type SignozPollResult } from "../jobs/signoz-poller.js";
import { requestStormRefresh, scheduleStormRefresh, stormProcessor } from "../jobs/storm.processor.js";
import { CardLocks } from "../kv/card-lock.js";
import { OpenChoices } from "../kv/open-choices.js";
import type { ChainSettingsStore } from "../kv/chain-settings.js";
import { ChatBudget, TELEGRAM_BUDGET, type ChatBudgetLimits } from "../kv/chat-budget.js";
import { DedupWindow } from "../kv/dedup.js";
import { HeartbeatStore } from "../kv/heartbeats.js";
import { RedisBudgetStore } from "../kv/llm-budget.js";
import { RepairCountersStore } from "../kv/repair-counters.js";
import { SignozFiringSet } from "../kv/signoz-firing.js";
import { StormGate } from "../kv/storm-gate.js";
import type { Config } from "../registry/config.js";
import { allowedActionsFrom, sentrySeverityFrom, serviceFactsFrom } from "../registry/lookups.js";
import type { ServiceRegistry } from "../registry/services.js";
import { guardrailPolicy } from "./commands.js";
import type { IngestHold } from "./intake-pressure.js";
import { lifecycleLogs } from "./lifecycle-log.js";
import { cannotRunWith, deploymentReplicas } from "./executors.js";
import { isConnectionError, type Infrastructure, type Shutdown } from "./infrastructure.js";

export interface WorkerOptions {
  /** Worker concurrency per queue. */
  concurrency?: { ingest?: number; notify?: number; analyze?: number };
  /** The bot's own sends per chat per minute, shared across processes (kv/chat-budget.ts). */
  chatBudget?: ChatBudgetLimits;
  /** At most one edit of a storm summary card per this many ms (default jobs/storm.processor.ts). */
  stormRefreshMs?: number;
  /** How often and how long to verify a repair (default every 1 s for 120 s). */
  verify?: { verifyEveryMs?: number; verifyWithinMs?: number };
  /** Timeouts, breaker and budgets of the LLM chain (defaults in ai/chain.ts). */
  chain?: ChainOptions;
  /** While held, the ingest worker takes no new job (app/intake-pressure.ts; every role in one process). */
  ingestHold?: IngestHold;
}

export interface WorkerContext {
  config: Readonly<Config>;
  logger: Logger;
  infra: Infrastructure;
  api: Api;
  registry: ServiceRegistry;
  kube: KubeGateway | undefined;
  executors: ReadonlyMap<RemediationAction, BoundExecutor>;
  chainSettings: ChainSettingsStore;
  /** The LLM providers and their models' checks, shared with /status. */
  llmSlots: readonly ProviderSlot[];
  modelChecks: ModelChecks;
}

interface WorkerRow {
  queue: QueueName;
  processor: Processor;
  concurrency: number;
  /** How long a job's lock lasts without renewal (BullMQ renews it at half while the job runs). */
  lockDuration?: number;
  /** How often this worker looks for jobs whose worker died (BullMQ's default: 30 s). */
  stalledInterval?: number;
  /** A repeating job the queue runs on, booked once in Redis whichever process starts. */
  schedule?: () => Promise<void>;
  /** Closes what the row opened besides its worker. */
  close?: () => Promise<void>;
  /** Logs a finished job worth an operator's line. */
  completed?: (logger: Logger, jobId: string | undefined, result: unknown) => void;
}

/** Unlimited, for tests that lift Telegram's limits (the emulator's too). */
const UNLIMITED: ChatBudgetLimits = {
  groupPerMinute: Number.MAX_SAFE_INTEGER,
  privatePerMinute: Number.MAX_SAFE_INTEGER,
};

/** TELEGRAM_CHAT_ID as a place: the chat, or `<chat id>/<thread id>` when it names a forum topic. */
function defaultPlace(config: Readonly<Config>): string {
  return placeOf(config.telegram.chatId, config.telegram.threadId);
}

/** Where cards can go: migrations followed, unreachable chats reported and routed around. */
export function chatDeliveryDeps(ctx: Pick<WorkerContext, "config" | "logger" | "infra">): ChatDeliveryDeps {
  const { pool, queues, metrics } = ctx.infra;
  return {
    db: pool,
    defaultChatId: defaultPlace(ctx.config),
    enqueueCard: (incidentId) => enqueueCard(queues.notify, incidentId),
    refreshStorm: (stormId) => scheduleStormRefresh(queues.storm, stormId, Date.now()),
    countFailure: (chat, reason) => metrics.telegramDeliveryFailures.inc({ chat, reason }),
    logger: ctx.logger,
  };
}

function workerTable(
  ctx: WorkerContext,
  options: WorkerOptions,
  budgetLifted: boolean,
  signozModule: typeof SignozModule | undefined,
): WorkerRow[] {
  const { config, infra, api, registry, kube, executors } = ctx;
  const { pool, redis, queues, metrics } = infra;
  const prefix = config.redis.prefix;
  // keys that name rows of this database live under its installation id (jobs/queues.ts)
  const rowPrefix = rowScopedPrefix(infra.scope);
  const chatIds = routeChats(config.telegram.routes, defaultPlace(config));
  const timeZone = config.timeZone;
  const language = config.language;
  const notices = telegramNotices(api, { timeZone, language });
  const budget = new ChatBudget(
    redis,
    prefix,
    options.chatBudget ?? (budgetLifted ? UNLIMITED : TELEGRAM_BUDGET),
  );
  const stormGate = new StormGate(redis, rowPrefix, config.storm);
  const cardLocks = new CardLocks(redis, rowPrefix);
  const counters = new RepairCountersStore(redis, prefix);
  const heartbeats = new HeartbeatStore(redis, prefix);
  const card = (incidentId: string) => enqueueCard(queues.notify, incidentId);
  const verifyWithinMs = options.verify?.verifyWithinMs ?? config.autoRepair.verifySeconds * 1000;
  const rows: WorkerRow[] = [
    {
      queue: QUEUE_NAMES.ingest,
      processor: ingestProcessor({
        ingest: {
          pool,
          dedup: new DedupWindow(redis, rowPrefix, {
            alertmanager: config.alertmanager.dedupTtlSeconds,
            sentry: config.sentry.dedupTtlSeconds,
            signoz: config.alertmanager.dedupTtlSeconds,
          }),
        },
        queues,
        metrics,
        signozUrl: config.signoz.publicUrl,
        escalateAfterSeconds: config.escalation.afterSeconds,
        heartbeat: { names: config.heartbeat.alerts, store: heartbeats },
        sentrySeverity: sentrySeverityFrom(registry),
      }),
      concurrency: options.concurrency?.ingest ?? 8,
    },
    {
      // the dead-man's switch: a heartbeat silent too long raises "alerting pipeline silent"
      queue: QUEUE_NAMES.heartbeat,
      processor: heartbeatCheckProcessor({
        store: heartbeats,
        ingest: queues.ingest,
        names: config.heartbeat.alerts,
        timeoutSeconds: config.heartbeat.timeoutSeconds,
      }),
      concurrency: 1,
      schedule: () => scheduleHeartbeatCheck(queues.heartbeat, config.heartbeat.timeoutSeconds),
      completed: (logger, job, result) => {
        const { silent } = result as { silent: string[] };
        if (silent.length > 0)
          logger.warn({ job, silent }, "heartbeat silent: alerting pipeline incident raised");
      },
    },
    {
      queue: QUEUE_NAMES.notify,
      processor: notifyProcessor({
        sync: {
          db: pool,
          notifier: telegramNotifier(api, { timeZone, language, choices: new OpenChoices(redis, rowPrefix) }),
          timeZone,
          language,
          cannotRun: cannotRunWith(executors, language),
          serviceFacts: serviceFactsFrom(registry),
          chatIds,
          budget,
          delivery: chatDeliveryDeps(ctx),
          storm: {
            db: pool,
            gate: stormGate,
            refresh: (stormId, when) =>
              requestStormRefresh(queues.storm, stormId, when, options.stormRefreshMs),
          },
        },
        locks: cardLocks,
        metrics,
        queues,
      }),
      concurrency: options.concurrency?.notify ?? 4,
      // A killed worker's card job is handed over only by BullMQ's stalled-job check, which moves a
      // job that was already active at the previous check (by any worker: the check's turn is shared)
      // and whose lock has lapsed. At BullMQ's 30 s / 30 s, a job that became active just before the
      // kill waited two further checks, about a minute, before anyone showed the card; here about 15 s.
      lockDuration: 10_000,
      stalledInterval: 5_000,
    },
    {
      queue: QUEUE_NAMES.analyze,
      processor: analyzeProcessor({
        analyze: {
          pool,
          chain: new AnalysisChain(
            ctx.llmSlots,
            {
              budgetStore: new RedisBudgetStore(redis, prefix),
              settings: ctx.chainSettings,
              checks: ctx.modelChecks,
              onUnusable: (provider, check) =>
                ctx.logger.error(
                  { provider, model: check.model, reason: check.kind === "ok" ? "" : check.reason },
                  "llm model unusable: the chain will skip it until the configuration is fixed",
                ),
            },
            {
              firstLoadTimeoutMs: config.llm.ollama.firstLoadTimeoutMs,
              ...options.chain,
              // cause and reasoning in the chat's language, from the models and the offline rules alike
              prompt: { language, ...options.chain?.prompt },
            },
          ),
          guardrails: {
            policy: guardrailPolicy(config),
            counters,
            registryAllows: allowedActionsFrom(registry),
          },
          // analyses see pod logs and events, and the guardrails the replicas, when a cluster is configured
          ...(kube === undefined ? {} : { context: { kube }, workload: deploymentReplicas(kube) }),
          canExecute: (action) => executors.has(action),
          // what the guardrails allow runs once, like an approval
          enqueueExecution: (actionId) => enqueueExecution(queues.execute, actionId),
          language,
        },
        queues,
        metrics,
      }),
      concurrency: options.concurrency?.analyze ?? 4,
      // BullMQ renews the lock every half of it while a model thinks; a killed worker's job is
      // picked up by another within about 15 s (lock lapse plus the stalled-job check)
      lockDuration: 10_000,
      stalledInterval: 5_000,
    },
    {
      queue: QUEUE_NAMES.execute,
      processor: executeProcessor({
        queues,
        execute: {
          db: pool,
          executors,
          cannotRun: cannotRunWith(executors, language),
          dryRun: config.autoRepair.dryRun,
          executionTimeoutMs: config.autoRepair.executionTimeoutSeconds * 1000,
          autoRollback: config.autoRepair.autoRollback,
          probe: registryProbe(registry),
          escalate: (incidentId, detail) => enqueueRepairEscalation(queues.escalate, incidentId, detail),
          startCooldown: cooldownOnFailure(pool, counters, config.autoRepair.cooldownSeconds),
        },
        verifyWithinMs,
        ...options.verify,
      }),
      concurrency: 4,
      lockDuration: 120_000,
      // every 30 s: actions stuck between steps (a lost hand-over, a dead worker) are moved on
      schedule: () => scheduleExecuteSweep(queues.execute),
    },
    {
      // snooze reminders: delayed until the snooze ends, then the chat hears it again
      queue: QUEUE_NAMES.remind,
      processor: remindProcessor({
        db: pool,
        remind: remindWithinBudget(budget, telegramReminder(api)),
        language,
        enqueueCard: card,
        delivery: chatDeliveryDeps(ctx),
      }),
      concurrency: 2,
    },
    {
      // SLA and failed-repair escalations: delayed jobs in Redis, so they outlive a restart
      queue: QUEUE_NAMES.escalate,
      processor: escalateProcessor({
        escalate: {
          pool,
          notices,
          chatIds,
          oncallUsernames: config.telegram.oncallUsernames,
          afterSeconds: config.escalation.afterSeconds,
          budget,
          delivery: chatDeliveryDeps(ctx),
        },
        queues,
      }),
      concurrency: 2,
    },
    {
      // storm summary cards, edited at most once per refresh interval
      queue: QUEUE_NAMES.storm,
      processor: stormProcessor({
        sync: { db: pool, gate: stormGate, notices, budget, delivery: chatDeliveryDeps(ctx) },
        queue: queues.storm,
        locks: cardLocks,
        enqueueCard: card,
        metrics,
        ...(options.stormRefreshMs === undefined ? {} : { intervalMs: options.stormRefreshMs }),
      }),
      concurrency: 2,
    },
  ];
  const clickhouseUrl = config.signoz.clickhouseUrl;
  if (clickhouseUrl !== undefined && signozModule !== undefined) {
    const { describeTracesTable, openSignozSpans } = signozModule;
    const signoz = openSignozSpans(clickhouseUrl, {
      table: config.signoz.tracesTable,
      // at start-up, and whenever a failed poll finds another table (or none)
      onTable: (traces) => {
        const line = describeTracesTable(traces);
        if (traces.found)
          ctx.logger.info({ table: traces.table, schema: traces.schema }, `signoz traces: ${line}`);
        else ctx.logger.warn({ reason: traces.reason }, `signoz traces: ${line}`);
      },
    });
    rows.push({
      // every minute, SigNoz's span figures become anomalies in the ingest queue
      queue: QUEUE_NAMES.signozPoll,
      processor: signozPollProcessor({
        spans: signoz.spans,
        ingest: queues.ingest,
        firing: new SignozFiringSet(redis, prefix),
        thresholds: { ...DEFAULT_SIGNOZ_THRESHOLDS, errorCount: config.signoz.anomalyThresholdErrorCount },
      }),
      // one poll at a time per process: the firing set is read, then written
      concurrency: 1,
      schedule: async () => {
        // Look for the trace table now, so the log says at once what will be read (or that nothing
        // will); ClickHouse being down must not hold up the start, the first poll looks again.
        await signoz.spans.discover(AbortSignal.timeout(5_000)).catch((error: unknown) => {
          ctx.logger.warn(
            { err: error },
            "signoz traces: could not ask ClickHouse which table to read; the first poll looks again",
          );
        });
        await scheduleSignozPoll(queues.signozPoll);
      },
      close: () => signoz.close(),
      completed: (logger, job, result) => {
        const poll = result as SignozPollResult;
        if (poll.ingestJobId !== undefined) logger.info({ job, ...poll }, "signoz anomalies queued");
      },
    });
  }
  return rows;
}

/** Starts every worker of the table; `shutdown` closes them (waiting for the jobs in progress). */
export async function startWorkers(
  ctx: WorkerContext,
  shutdown: Shutdown,
  options: WorkerOptions & { budgetLifted: boolean },
): Promise<void> {
  const { logger, infra } = ctx;
  // the ClickHouse client only where SigNoz is polled (SIGNOZ_CLICKHOUSE_URL)
  const signozModule =
    ctx.config.signoz.clickhouseUrl === undefined ? undefined : await import("../gateways/signoz-spans.js");
  const rows = workerTable(ctx, options, options.budgetLifted, signozModule);
  const lifecycleLog = lifecycleLogs(infra.pool);
  // BullMQ stores it on each job this process takes (`processedBy`): which pod holds a job that
  // seems stuck, and which process a test has to kill to leave one behind
  const name = `${hostname()}/${process.pid}`;
  const workers = rows.map((row) => {
    const worker = new Worker(row.queue, row.processor, {
      name,
      connection: infra.workerConnection,
      prefix: queuePrefix(infra.scope, row.queue),
      concurrency: row.concurrency,
      ...(row.lockDuration === undefined ? {} : { lockDuration: row.lockDuration }),
      ...(row.stalledInterval === undefined ? {} : { stalledInterval: row.stalledInterval }),
    });
    worker.on("failed", (job, error) => {
      if (infra.connectionFailed(error)) return;
      const incident = (job?.data as { incidentId?: unknown } | undefined)?.incidentId;
      logger.warn(
        { queue: worker.name, job: job?.id, incident, attempts: job?.attemptsMade, err: error.message },
        "job failed",
      );
      logger.debug({ queue: worker.name, job: job?.id, err: error }, "job failed: stack");
    });
    worker.on("error", (error) => {
      // a worker's blocking connection reconnects on its own schedule (app/infrastructure.ts Outage)
      if (isConnectionError(error)) return infra.outages.redis.failed(error, { straggler: true });
      logger.error({ err: error.message, queue: worker.name }, "worker error");
      logger.debug({ err: error, queue: worker.name }, "worker error: stack");
    });
    const lifecycle = lifecycleLog[row.queue];
    const completed = row.completed;
    worker.on("completed", (job, result) => {
      completed?.(logger, job.id, result);
      // a log line is never worth a failed job: a read that fails here is only a debug line
      Promise.resolve()
        .then(() => lifecycle?.(logger, job, result))
        .catch((error: unknown) => logger.debug({ err: error, job: job.id }, "life-cycle log line skipped"));
    });
    return worker;
  });
  const unhold = followHold(
    options.ingestHold,
    workers[rows.findIndex((row) => row.queue === QUEUE_NAMES.ingest)],
  );
  // Worker.close() waits for the jobs in progress; one stuck on an outside call is given up after
  // the limit (its lock expires and another process picks it up again).
  shutdown.add(
    "queue workers",
    async () => {
      unhold();
      await Promise.all(workers.map((worker) => worker.close()));
      for (const row of rows) await row.close?.();
    },
    {
      limitMs: 12_000,
      force: async () => {
        unhold();
        await Promise.all(workers.map((worker) => worker.close(true)));
        for (const row of rows) await row.close?.();
      },
    },
  );
  for (const row of rows) await row.schedule?.();
}

/**
 * Pauses `worker` while `hold` says so and resumes it after; the jobs it holds finish either way.
 * (A slot of it waiting on an empty queue when the hold comes still takes the next job: BullMQ's
 * fetch is already under way. A hold comes when the intake is saturated, the queue anything but
 * empty.)
 * Returns what stops following (before the worker closes, so nothing resumes it then).
 */
export function followHold(hold: IngestHold | undefined, worker: Worker | undefined): () => void {
  if (hold === undefined || worker === undefined) return () => undefined;
  const apply = (held: boolean) => void (held ? worker.pause(true) : worker.resume());
  if (hold.held) apply(true);
  return hold.onChange(apply);
}

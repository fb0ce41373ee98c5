// Queue names and the payload schema of each. Producers validate before adding; processors
// validate again, because a job may have been written by another version of the bot.
import { randomUUID } from "node:crypto";
import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import { z } from "zod";
import { AlertmanagerPayloadSchema, type AlertmanagerPayload } from "../handlers/sources/alertmanager.js";
import type { BulkJob } from "../domain/enqueue-batch.js";
import { SENTRY_RESOURCES } from "../handlers/sources/sentry.js";
import { SignozAnomalySchema } from "../domain/signoz.js";
import { SEVERITIES, type Severity } from "../domain/incident.js";
import { SerializedDataQueue } from "./serialized-data-queue.js";

export const QUEUE_NAMES = {
  ingest: "ingest",
  notify: "notify",
  analyze: "analyze",
  signozPoll: "signoz-poll",
  execute: "execute",
  escalate: "escalate",
  remind: "remind",
  storm: "storm",
  heartbeat: "heartbeat",
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export const IngestJobSchema = z.discriminatedUnion("source", [
  z.object({
    source: z.literal("alertmanager"),
    receivedAt: z.iso.datetime(),
    payload: AlertmanagerPayloadSchema,
  }),
  z.object({
    source: z.literal("sentry"),
    receivedAt: z.iso.datetime(),
    resource: z.enum(SENTRY_RESOURCES),
    // validated against the resource's schema by the processor
    payload: z.record(z.string(), z.unknown()),
  }),
  // the dead-man's switch (jobs/heartbeat.processor.ts): a heartbeat stopped arriving
  z.object({
    source: z.literal("heartbeat"),
    receivedAt: z.iso.datetime(),
    name: z.string().min(1).max(256),
    status: z.enum(["firing", "resolved"]),
    silentSince: z.iso.datetime(),
  }),
  z.object({
    source: z.literal("signoz"),
    receivedAt: z.iso.datetime(),
    anomalies: z.array(SignozAnomalySchema).min(1).max(10_000),
  }),
]);
export type IngestJob = z.infer<typeof IngestJobSchema>;

/**
 * Packs the alert groups of deliveries accepted together into as few ingest jobs as hold them,
 * `maxAlerts` alerts a job at most: concurrent single-alert deliveries become one job, so Redis runs
 * BullMQ's add script once for them (and the worker takes, locks and finishes one job) rather than
 * once each. A group alone in its job keeps its own job, unchanged; a job carrying several takes the
 * id of the first one's. `carriers` maps each given job's id to the id of the job that carries it.
 *
 * A packed job is an ordinary "alertmanager" job whose one group holds the alerts of every group
 * packed, in order: a worker of any version reads all of them, so during a rolling update an older
 * worker taking a packed job loses nothing. Only what normalizing an alert reads from its group may
 * differ between groups that share a job, so only groups of one kind (the jobs' name, "alertmanager"
 * or "grafana"), of one payload `version` and with no truncated alerts (the count belongs to its
 * own group) are packed; the group-wide labels and annotations, which no alert needs, are dropped.
 * Other jobs pass unchanged, and no group is split.
 */
export function packIngestJobs(
  jobs: readonly BulkJob<IngestJob>[],
  maxAlerts: number,
): { jobs: BulkJob<IngestJob>[]; carriers: Map<string, string> } {
  interface Carrier {
    first: BulkJob<IngestJob>;
    receivedAt: string;
    groups: AlertmanagerPayload[];
    alerts: number;
  }
  /** Each output slot: a job passed unchanged, or a carrier filled as the batch is read. */
  const slots: (BulkJob<IngestJob> | Carrier)[] = [];
  const carriers = new Map<string, string>();
  const open = new Map<string, Carrier>();
  for (const job of jobs) {
    const data = job.data;
    carriers.set(job.opts.jobId, job.opts.jobId);
    if (data.source !== "alertmanager" || data.payload.truncatedAlerts > 0) {
      slots.push(job);
      continue;
    }
    const alerts = data.payload.alerts.length;
    const kind = `${job.name}/${data.payload.version}`;
    const carrier = open.get(kind);
    if (carrier !== undefined && carrier.alerts + alerts <= maxAlerts) {
      carrier.groups.push(data.payload);
      carrier.alerts += alerts;
      carriers.set(job.opts.jobId, carrier.first.opts.jobId);
      continue;
    }
    const started: Carrier = { first: job, receivedAt: data.receivedAt, groups: [data.payload], alerts };
    slots.push(started);
    open.set(kind, started);
  }
  const packed = slots.map((slot): BulkJob<IngestJob> => {
    if (!("groups" in slot)) return slot;
    if (slot.groups.length === 1) return slot.first;
    const [first] = slot.groups as [AlertmanagerPayload, ...AlertmanagerPayload[]];
    const payload: AlertmanagerPayload = {
      ...first,
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      alerts: slot.groups.flatMap((group) => group.alerts),
    };
    return {
      name: slot.first.name,
      data: { source: "alertmanager", receivedAt: slot.receivedAt, payload },
      opts: slot.first.opts,
    };
  });
  return { jobs: packed, carriers };
}

export const NotifyJobSchema = z.object({
  incidentId: z.string().regex(/^INC-\d{8}-\d{4,}$/),
  /** When the change happened, for the card latency metric. */
  changedAt: z.iso.datetime(),
  /** Asked for by repeats only, shown later on purpose: left out of the card latency metric. */
  repeat: z.literal(true).optional(),
});
export type NotifyJob = z.infer<typeof NotifyJobSchema>;

export const AnalyzeJobSchema = z.object({
  incidentId: z.string().regex(/^INC-\d{8}-\d{4,}$/),
  /** "system" for the automatic run after an incident opens, else who asked. */
  requestedBy: z.string().min(1).max(128),
  /** The incident's severity when it was queued: the card edit with the result takes its rank. */
  severity: z.enum(SEVERITIES).optional(),
});
export type AnalyzeJob = z.infer<typeof AnalyzeJobSchema>;

export const ExecuteJobSchema = z.object({
  actionId: z.number().int().positive(),
  /** Verify jobs only: when recovery must have happened (ms since epoch). */
  deadline: z.number().int().positive().optional(),
});
export type ExecuteJob = z.infer<typeof ExecuteJobSchema>;
/** The periodic sweep of the execute queue carries no data. */
export type SweepJob = Record<string, never>;

export const EscalateJobSchema = z.object({
  incidentId: z.string().regex(/^INC-\d{8}-\d{4,}$/),
  /** "sla": nobody acknowledged in time (a delayed job); "repair_failed": a repair did not work. */
  reason: z.enum(["sla", "repair_failed"]),
  detail: z.string().max(1024).optional(),
});
export type EscalateJob = z.infer<typeof EscalateJobSchema>;

/** Bring a storm's summary card up to date (and end the storm once it subsided). */
export const StormJobSchema = z.object({ stormId: z.number().int().positive() });
export type StormJob = z.infer<typeof StormJobSchema>;

export const RemindJobSchema = z.object({
  incidentId: z.string().regex(/^INC-\d{8}-\d{4,}$/),
  /** The snooze this reminder ends; a later snooze replaces it and this reminder does nothing. */
  until: z.iso.datetime(),
});
export type RemindJob = z.infer<typeof RemindJobSchema>;

export const INGEST_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  // a job that failed every attempt stays in Redis for a week: nothing is lost silently
  removeOnFail: { age: 7 * 24 * 3_600 },
};

export const NOTIFY_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

// A model call that failed is already retried inside the chain (and ends in the offline
// analyzer); a job retry is only for the bot's own trouble (PostgreSQL away).
export const ANALYZE_JOB_OPTIONS: JobsOptions = {
  // about half an hour of backoff: a PostgreSQL restart is waited out
  attempts: 10,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

// An execution is never retried automatically: a partial change needs a fresh decision.
export const EXECUTE_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

// Escalation jobs are delayed until the deadline; a job lost would be an incident nobody hears of.
export const ESCALATE_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

// A snooze reminder is delayed until the snooze ends; like escalation, losing one would be silence.
export const REMIND_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

// Storm refreshes carry a time bucket in their job id, so at most one waits per bucket.
export const STORM_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

export interface Queues {
  /** Takes data written as JSON too: the intake lets its objects go before Redis answers. */
  ingest: SerializedDataQueue<IngestJob>;
  notify: Queue<NotifyJob>;
  analyze: Queue<AnalyzeJob>;
  execute: Queue<ExecuteJob | SweepJob>;
  escalate: Queue<EscalateJob>;
  remind: Queue<RemindJob>;
  storm: Queue<StormJob>;
  /** The SigNoz poller's own schedule (jobs/signoz-poller.ts): jobs carry no data. */
  signozPoll: Queue<Record<string, never>>;
  /** The dead-man's switch's schedule (jobs/heartbeat.processor.ts): jobs carry no data. */
  heartbeat: Queue<Record<string, never>>;
  close(): Promise<void>;
}

/**
 * The BullMQ priority of an incident's card and analysis jobs. BullMQ runs a job without a
 * priority before every job with one, and lower numbers first: a P0's card and analysis, and a card
 * update nobody ranked (a button pressed, an escalation, a person's /analyze), go first; in a storm
 * the P1 and P2 cards wait behind them instead of the other way round.
 */
export function severityPriority(severity: Severity | undefined): { priority?: number } {
  if (severity === undefined || severity === "P0") return {};
  return { priority: severity === "P1" ? 1 : 2 };
}

/**
 * A card job asked for by repeats of an incident's alerts only: queued a little later
 * (jobs/ingest.processor.ts). A notify worker shows it as any card job.
 */
export const REPEAT_CARD_JOB = "card-repeat";

/** Asks for an incident's card to be brought up to date, now (each change its own job). */
export function enqueueCard(
  notify: Pick<Queue<NotifyJob>, "add">,
  incidentId: string,
  severity?: Severity,
): Promise<unknown> {
  return notify.add(
    "card",
    { incidentId, changedAt: new Date().toISOString() },
    { jobId: randomUUID(), ...severityPriority(severity) },
  );
}

/** The job id of an action's execution: however often it is queued, the action runs once. */
export const executionJobId = (actionId: number): string => `execute-${actionId}`;

/** Queues the execution of an approved action (by a person or by the guardrails). */
export function enqueueExecution(execute: Queues["execute"], actionId: number): Promise<unknown> {
  return execute.add("execute", { actionId }, { jobId: executionJobId(actionId) });
}

/** Asks a human now, because a repair failed (each failure its own job). */
export function enqueueRepairEscalation(
  escalate: Pick<Queue<EscalateJob>, "add">,
  incidentId: string,
  detail: string,
): Promise<unknown> {
  return escalate.add(
    "escalate",
    { incidentId, reason: "repair_failed", detail },
    { jobId: `escalate-repair-${incidentId}-${randomUUID()}` },
  );
}

/**
 * Where a queue's jobs live in Redis. Jobs that name rows of the database (an incident id, an
 * action id) live under the database's installation id (db/installation.ts): `INC-…-0001` of a
 * rebuilt database, or of a second installation on the same REDIS_PREFIX, is another incident,
 * and a delayed escalation or execution booked for the old one must never act on it, nor may the
 * old job's id keep the new one from being booked. Accepted alerts (ingest) and the SigNoz poll
 * name no row: they stay under the plain prefix, so an alert queued before a rebuild is not lost.
 */
export function queuePrefix(scope: QueueScope, queue: QueueName): string {
  return queue === QUEUE_NAMES.ingest || queue === QUEUE_NAMES.signozPoll
    ? scope.prefix
    : rowScopedPrefix(scope);
}

/** The prefix of Redis keys that name rows of this database (card locks, dedup, storm cards, dialogues). */
export const rowScopedPrefix = (scope: QueueScope): string => `${scope.prefix}:${scope.installation}`;

export interface QueueScope {
  /** REDIS_PREFIX */
  prefix: string;
  /** This database's installation id (db/installation.ts). */
  installation: string;
}

/**
 * `onError` hears each queue's connection errors (Redis away): without a listener BullMQ prints
 * every one of them, with its stack, to the console, about once a second per queue.
 */
export function createQueues(
  connection: ConnectionOptions,
  scope: QueueScope,
  onError: (error: Error) => void = () => undefined,
): Queues {
  const options = (name: QueueName, defaultJobOptions: JobsOptions) => ({
    connection,
    prefix: queuePrefix(scope, name),
    defaultJobOptions,
  });
  const heard = <Q extends Queue>(created: Q) => created.on("error", onError);
  const queue = <T>(name: QueueName, defaultJobOptions: JobsOptions) =>
    heard(new Queue<T>(name, options(name, defaultJobOptions)));
  const queues = {
    ingest: heard(
      new SerializedDataQueue<IngestJob>(QUEUE_NAMES.ingest, options(QUEUE_NAMES.ingest, INGEST_JOB_OPTIONS)),
    ),
    notify: queue<NotifyJob>(QUEUE_NAMES.notify, NOTIFY_JOB_OPTIONS),
    analyze: queue<AnalyzeJob>(QUEUE_NAMES.analyze, ANALYZE_JOB_OPTIONS),
    execute: queue<ExecuteJob | SweepJob>(QUEUE_NAMES.execute, EXECUTE_JOB_OPTIONS),
    escalate: queue<EscalateJob>(QUEUE_NAMES.escalate, ESCALATE_JOB_OPTIONS),
    remind: queue<RemindJob>(QUEUE_NAMES.remind, REMIND_JOB_OPTIONS),
    storm: queue<StormJob>(QUEUE_NAMES.storm, STORM_JOB_OPTIONS),
    signozPoll: queue<Record<string, never>>(QUEUE_NAMES.signozPoll, {}),
    heartbeat: queue<Record<string, never>>(QUEUE_NAMES.heartbeat, {}),
  };
  return {
    ...queues,
    async close() {
      await Promise.all(Object.values(queues).map((each) => each.close()));
    },
  };
}

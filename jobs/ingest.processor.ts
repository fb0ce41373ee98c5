// Ingest queue: normalize the webhook payload, record each alert against its incident, then ask
// for the touched incidents' cards to be brought up to date.
import { UnrecoverableError, type Job } from "bullmq";
import { randomUUID } from "node:crypto";
import type { Metrics } from "../gateways/metrics.js";
import { latestAnalysis } from "../db/analyses.js";
import { ingestAlert, type IngestDeps } from "../handlers/ingest-alert.js";
import { normalizeAlertmanager } from "../handlers/sources/alertmanager.js";
import type { NormalizedAlert } from "../domain/normalized-alert.js";
import { normalizeSentry, SENTRY_SCHEMAS, type SentryPayload } from "../handlers/sources/sentry.js";
import { normalizeSignoz } from "../handlers/sources/signoz.js";
import type { Severity } from "../domain/incident.js";
import { silentPipelineAlert } from "../domain/heartbeat.js";
import type { HeartbeatStore } from "../kv/heartbeats.js";
import { slaEscalationJob } from "./escalate.processor.js";
import { IngestJobSchema, REPEAT_CARD_JOB, severityPriority, type IngestJob, type Queues } from "./queues.js";

export interface IngestProcessorDeps {
  ingest: IngestDeps;
  queues: Pick<Queues, "notify" | "analyze" | "escalate">;
  metrics: Metrics;
  signozUrl?: string | undefined;
  /** SLA per severity: an incident nobody acknowledged this long after it opened escalates. */
  escalateAfterSeconds?: Record<Severity, number>;
  /** Heartbeat alerts (HEARTBEAT_ALERTS): they never page, their arrival is recorded for the dead-man's switch. */
  heartbeat?: { names: readonly string[]; store: Pick<HeartbeatStore, "beat" | "clearSilent"> };
  /** The registry's severity for a Sentry project (its service's tier), over the level. */
  sentrySeverity?: (project: string) => Severity | undefined;
}

/**
 * How much later a card shows an incident's repeats than its opening, reopening or resolution:
 * the count and the time of the last firing (and whatever else the repeat changed, annotations or
 * a Sentry issue's level). Repeats of the same alerts arrive delivery after delivery (Alertmanager
 * re-sends its groups, a storm repeats them), and each delivery used to queue a card job per
 * incident it touched, each reading the incident's rows: under a load of repeated 100-alert groups,
 * 100 card syncs per delivery. Now the repeats within this time share one sync (Telegram lets a
 * chat see about one message a second anyway).
 */
export const REPEAT_CARD_DELAY_MS = 2_000;

/**
 * How long a new incident's analysis waits before it starts: its card job, queued just before,
 * reads the incident and posts the card first, rather than sharing the workers' thread and the
 * database with the analysis's reads and rules meanwhile. On a quiet system, alert → card over 30
 * cards: median 41–43 ms without the wait (two runs), 33–38 ms with it (three runs), the slowest
 * 62 against 50–66 ms. A model's answer takes seconds; the card says "pending" until it comes.
 */
export const ANALYSIS_DELAY_MS = 40;

/**
 * One card job of each kind and rank per incident waiting at a time, by BullMQ's deduplication:
 * while one waits (or is delayed), a change queues none, since the waiting job reads the incident
 * when it runs. The notify worker releases the deduplication as the job starts
 * (jobs/notify.processor.ts), so a change made while it runs, which it may have read too late,
 * queues a job of its own; one made in the moment before the release is kept by BullMQ and queued
 * when the running job ends (`keepLastIfActive`).
 */
function cardDeduplication(
  name: string,
  incidentId: string,
  priority: number | undefined,
): { id: string; keepLastIfActive: true } {
  return { id: `${name}:${incidentId}:${priority ?? 0}`, keepLastIfActive: true };
}

export function normalizeJob(job: IngestJob, signozUrl?: string): NormalizedAlert[] {
  if (job.source === "alertmanager") return normalizeAlertmanager(job.payload);
  if (job.source === "heartbeat")
    return [
      silentPipelineAlert({
        name: job.name,
        status: job.status,
        silentSince: new Date(job.silentSince),
        at: new Date(job.receivedAt),
      }),
    ];
  if (job.source === "signoz")
    return normalizeSignoz(job.anomalies, signozUrl === undefined ? {} : { signozUrl });
  const parsed = SENTRY_SCHEMAS[job.resource].safeParse(job.payload);
  if (!parsed.success)
    throw new UnrecoverableError(`sentry ${job.resource} payload: ${parsed.error.message}`);
  const payload = { resource: job.resource, body: parsed.data } as SentryPayload;
  return normalizeSentry(payload, signozUrl === undefined ? {} : { signozUrl });
}

export type IngestChange = "opened" | "reopened" | "resolved";

export interface IngestResult {
  alerts: number;
  incidents: string[];
  /** How many alerts had each outcome (opened, deduplicated, resolved, …). */
  outcomes: Record<string, number>;
  /** The incidents that opened, reopened or resolved, each once. */
  changes: [string, IngestChange][];
  /** Heartbeats recorded, and `severity: none/info` alerts that page nobody. */
  skipped: { heartbeats: number; informational: number };
}

export function ingestProcessor(deps: IngestProcessorDeps) {
  return async (job: Job<IngestJob>): Promise<IngestResult> => {
    const parsed = IngestJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed ingest job: ${parsed.error.message}`);
    if (job.id === undefined) throw new UnrecoverableError("ingest job has no id");
    const receivedAt = new Date(parsed.data.receivedAt);
    const skipped = { heartbeats: 0, informational: 0 };
    /** Heartbeats back after a silence: their mark is cleared once the resolution is recorded. */
    const heardAgain = new Set<string>();
    const alerts: NormalizedAlert[] = [];
    for (const alert of normalizeJob(parsed.data, deps.signozUrl)) {
      const heartbeat = deps.heartbeat;
      if (
        heartbeat !== undefined &&
        alert.source === "alertmanager" &&
        heartbeat.names.includes(alert.title)
      ) {
        skipped.heartbeats++;
        // a resolved heartbeat proves nothing: only its firing counts as a beat
        if (alert.status !== "firing") continue;
        const beat = await heartbeat.store.beat(alert.title, receivedAt);
        if (beat.silentSince !== undefined) {
          heardAgain.add(alert.title);
          alerts.push(
            silentPipelineAlert({
              name: alert.title,
              status: "resolved",
              silentSince: beat.silentSince,
              at: receivedAt,
            }),
          );
        }
        continue;
      }
      // an issue's level gives way to what the registry says of its project (metric alerts keep theirs)
      const registered =
        alert.source === "sentry" &&
        alert.service !== undefined &&
        alert.labels.sentry_alert_rule_id === undefined
          ? deps.sentrySeverity?.(alert.service)
          : undefined;
      if (registered !== undefined) alert.severity = registered;
      if (alert.informational === true) {
        skipped.informational++;
        deps.metrics.alertsProcessed.inc({ source: alert.source, outcome: "informational" });
        continue;
      }
      alerts.push(alert);
    }
    const touched = new Set<string>();
    const opened: string[] = [];
    /** Incidents that fired again after resolving, with the delivery that reopened them. */
    const reopened = new Map<string, string>();
    const severityOf = new Map<string, Severity>();
    /** What happened to each incident this delivery touched, for the log (first change wins). */
    const changes = new Map<string, IngestChange>();
    const counts: Record<string, number> = {};
    /** This job ran before (an alert of it is recorded already): it may have stopped before its cards. */
    let rerun = job.attemptsMade > 0;
    for (const [index, alert] of alerts.entries()) {
      const result = await ingestAlert(deps.ingest, { deliveryKey: `${job.id}:${index}`, alert, receivedAt });
      if (result.incidentId !== undefined) {
        touched.add(result.incidentId);
        if (!severityOf.has(result.incidentId)) severityOf.set(result.incidentId, alert.severity);
      }
      if (result.outcome === "redelivered") {
        rerun = true;
        // The first run may have stopped before asking for the analysis.
        if (
          result.incidentId !== undefined &&
          (await latestAnalysis(deps.ingest.pool, result.incidentId)) === undefined
        ) {
          opened.push(result.incidentId);
        }
        continue;
      }
      deps.metrics.alertsProcessed.inc({ source: alert.source, outcome: result.outcome });
      counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
      if (
        result.incidentId !== undefined &&
        !changes.has(result.incidentId) &&
        (result.outcome === "opened" || result.outcome === "reopened" || result.outcome === "resolved")
      )
        changes.set(result.incidentId, result.outcome);
      if (result.outcome === "deduplicated") deps.metrics.alertsDeduplicated.inc({ source: alert.source });
      if (result.outcome === "reopened" && result.incidentId !== undefined) {
        reopened.set(result.incidentId, `${job.id}:${index}`);
      }
      if (result.outcome === "opened" && result.incidentId !== undefined) {
        opened.push(result.incidentId);
        deps.metrics.incidentsOpened.inc({ source: alert.source, severity: alert.severity });
      }
    }
    // Also after a redelivery: the first run may have stopped before the card was updated.
    const changedAt = receivedAt.toISOString();
    await deps.queues.notify.addBulk(
      [...touched].map((incidentId) => {
        // a P0's card first; a storm's P1 and P2 cards wait behind it
        const rank = severityPriority(severityOf.get(incidentId));
        // opened, reopened or resolved (or maybe left unshown by an earlier run): at once
        const later = !rerun && !changes.has(incidentId);
        const name = later ? REPEAT_CARD_JOB : "card";
        return {
          name,
          data: { incidentId, changedAt, ...(later ? { repeat: true as const } : {}) },
          opts: {
            jobId: randomUUID(),
            ...rank,
            ...(later ? { delay: REPEAT_CARD_DELAY_MS } : {}),
            deduplication: cardDeduplication(name, incidentId, rank.priority),
          },
        };
      }),
    );
    // SLA escalation, one delayed job per incident (jobId): booked once however often the ingest
    // job runs, and before the analysis, whose absence tells a redelivery to book both again.
    // The delay lives in Redis, so the deadline survives a restart.
    const sla = deps.escalateAfterSeconds;
    if (sla !== undefined) {
      await deps.queues.escalate.addBulk([
        ...[...new Set(opened)].map((incidentId) =>
          slaEscalationJob(incidentId, severityOf.get(incidentId) ?? "P2", sla),
        ),
        // a reopening starts the clock again, with a deadline of its own
        ...[...reopened].map(([incidentId, delivery]) =>
          slaEscalationJob(incidentId, severityOf.get(incidentId) ?? "P2", sla, delivery),
        ),
      ]);
    }
    // jobId per incident: a redelivered ingest job does not ask for a second analysis.
    await deps.queues.analyze.addBulk(
      [...new Set(opened)].map((incidentId) => {
        const severity = severityOf.get(incidentId);
        return {
          name: "analyze",
          data: { incidentId, requestedBy: "system", ...(severity === undefined ? {} : { severity }) },
          opts: { jobId: `auto-${incidentId}`, delay: ANALYSIS_DELAY_MS, ...severityPriority(severity) },
        };
      }),
    );
    for (const name of heardAgain) await deps.heartbeat?.store.clearSilent(name);
    return {
      alerts: alerts.length,
      incidents: [...touched],
      outcomes: counts,
      changes: [...changes],
      skipped,
    };
  };
}

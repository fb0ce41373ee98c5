// One info line per life-cycle step a queue job finished, each naming the incident and the job,
// so one alert can be followed through `kubectl logs` at the default level: opened / reopened /
// resolved, analysed (provider, decision), a card posted or edited, an execution and its
// verification, an escalation, a reminder. Steps that changed nothing log at debug.
import type { Job } from "bullmq";
import type { Logger } from "pino";
import { latestAnalysis } from "../db/analyses.js";
import { getAction } from "../db/actions.js";
import type { Queryable } from "../db/pool.js";
import type { IngestResult } from "../jobs/ingest.processor.js";
import { QUEUE_NAMES, type QueueName } from "../jobs/queues.js";

export type LifecycleLog = (logger: Logger, job: Job, result: unknown) => Promise<void> | void;

const CARD_SHOWN = new Set(["posted", "edited", "reposted", "folded"]);
const NOTHING_DONE = new Set(["skipped", "pending", "unchanged", "deferred", "missing"]);

/** The life-cycle line of each queue; queues absent here log nothing on completion. */
export function lifecycleLogs(db: Queryable): Partial<Record<QueueName, LifecycleLog>> {
  const incidentOf = (job: Job): string | undefined => (job.data as { incidentId?: string }).incidentId;
  return {
    [QUEUE_NAMES.ingest]: (logger, job, result) => {
      const ingest = result as IngestResult;
      const source = (job.data as { source?: string }).source;
      for (const [incident, change] of ingest.changes ?? [])
        logger.info({ incident, job: job.id, source }, `incident ${change}`);
      logger.debug(
        { job: job.id, source, alerts: ingest.alerts, outcomes: ingest.outcomes },
        "alerts ingested",
      );
    },
    [QUEUE_NAMES.analyze]: async (logger, job, result) => {
      const incident = incidentOf(job);
      if (result !== "analyzed" || incident === undefined) {
        logger.info({ incident, job: job.id, outcome: result }, "analysis ended without an answer");
        return;
      }
      const stored = await latestAnalysis(db, incident);
      logger.info(
        {
          incident,
          job: job.id,
          provider: stored?.analysis.provider,
          decision: stored?.decision?.mode,
          action: stored?.analysis.suggested_action,
        },
        "incident analysed",
      );
    },
    [QUEUE_NAMES.notify]: (logger, job, result) => {
      const outcome = (result as { outcome?: string } | string | undefined) ?? "";
      const text = typeof outcome === "string" ? outcome : (outcome.outcome ?? "");
      const fields = { incident: incidentOf(job), job: job.id, outcome: text };
      if (CARD_SHOWN.has(text)) logger.info(fields, `card ${text}`);
      else logger.debug(fields, "card unchanged");
    },
    [QUEUE_NAMES.execute]: async (logger, job, result) => {
      const actionId = (job.data as { actionId?: number }).actionId;
      if (job.name === "sweep") {
        if (typeof result === "string" && !result.startsWith("requeued 0, abandoned 0, concluded 0"))
          logger.info({ job: job.id, swept: result }, "stuck actions moved on");
        return;
      }
      if (actionId === undefined || NOTHING_DONE.has(String(result))) return;
      const action = await getAction(db, actionId);
      logger.info(
        { incident: action?.incidentId, job: job.id, actionId, action: action?.action, outcome: result },
        job.name === "execute" ? "action executed" : "action verified",
      );
    },
    [QUEUE_NAMES.escalate]: (logger, job, result) => {
      const outcome = (result as { outcome?: string } | undefined)?.outcome;
      const reason = (job.data as { reason?: string }).reason;
      const fields = { incident: incidentOf(job), job: job.id, reason, outcome };
      if (outcome === "escalated") logger.info(fields, "incident escalated");
      else logger.debug(fields, "escalation not needed");
    },
    [QUEUE_NAMES.remind]: (logger, job, result) => {
      const fields = { incident: incidentOf(job), job: job.id, outcome: result };
      if (result === "reminded") logger.info(fields, "snooze ended: reminded");
      else logger.debug(fields, "snooze reminder not needed");
    },
  };
}

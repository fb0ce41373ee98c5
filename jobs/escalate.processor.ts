// Escalate queue: escalate one incident (handlers/escalate-incident.ts). SLA jobs are delayed
// jobs in Redis, booked when the incident opened, so a restart neither loses nor repeats them.
// When a chat's flood budget is spent the job waits (moved to delayed) and tries again.
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { escalateIncident, type EscalateDeps, type EscalateResult } from "../handlers/escalate-incident.js";
import type { Severity } from "../domain/incident.js";
import { enqueueCard, EscalateJobSchema, type EscalateJob, type Queues } from "./queues.js";

export interface EscalateProcessorDeps {
  escalate: EscalateDeps;
  /** The card shows "⏫ escalated" once it is re-rendered. */
  queues: Pick<Queues, "notify">;
}

/** The SLA escalation of an incident: booked once, when it opens. */
export function slaEscalationJob(
  incidentId: string,
  severity: Severity,
  afterSeconds: Record<Severity, number>,
  /** The delivery that reopened the incident: each reopening gets a deadline of its own. */
  reopenedBy?: string,
): { name: string; data: EscalateJob; opts: { jobId: string; delay: number } } {
  const round = reopenedBy === undefined ? "" : `-reopened-${reopenedBy.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  return {
    name: "escalate",
    data: { incidentId, reason: "sla" },
    opts: { jobId: `escalate-sla-${incidentId}${round}`, delay: afterSeconds[severity] * 1000 },
  };
}

export function escalateProcessor(deps: EscalateProcessorDeps) {
  return async (job: Job<EscalateJob>, token?: string): Promise<EscalateResult> => {
    const parsed = EscalateJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed escalate job: ${parsed.error.message}`);
    const { incidentId, reason, detail } = parsed.data;
    const result = await escalateIncident(deps.escalate, {
      incidentId,
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
    // Also when already escalated: a first run that failed after marking the incident (Telegram
    // refused the mention) never asked for the card; an unchanged card is not sent again.
    if (result.outcome === "escalated" || result.outcome === "already_escalated") {
      await enqueueCard(deps.queues.notify, incidentId);
    }
    if (
      (result.outcome === "escalated" || result.outcome === "already_escalated") &&
      result.retryInMs !== undefined
    ) {
      await job.moveToDelayed(Date.now() + result.retryInMs, token);
      throw new DelayedError();
    }
    return result;
  };
}

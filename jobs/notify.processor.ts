// Notify queue: bring one incident's card up to date. Cards of one incident are synced one at a
// time across every process (a Redis lock, renewed while the sync runs and lapsing soon after its
// holder dies), so two workers never post two cards for it. When the
// chat's flood budget is spent, one delayed retry per incident is queued (however many changes
// arrive meanwhile), and it shows the incident as it is by then: edits coalesce instead of
// queueing in the Telegram client.
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import type { Metrics } from "../gateways/metrics.js";
import { syncIncidentCard, type SyncCardDeps, type SyncOutcome } from "../handlers/sync-incident-card.js";
import { NotifyJobSchema, type NotifyJob, type Queues } from "./queues.js";
import type { CardLocks } from "../kv/card-lock.js";

export interface NotifyProcessorDeps {
  sync: SyncCardDeps;
  /** One sync per incident at a time, and one deferred retry (kv/card-lock.ts). */
  locks: Pick<CardLocks, "acquire" | "renew" | "release" | "claimDeferred" | "clearDeferred">;
  metrics: Metrics;
  /** Where a deferred card goes back to wait (the notify queue itself). */
  queues: Pick<Queues, "notify">;
  /**
   * How long the card lock outlives its last renewal (default CARD_LOCK_MS): how long the cards of
   * an incident wait when the worker showing it died. Renewed every third of it while the sync runs.
   */
  lockMs?: number;
}

/**
 * A sync may wait minutes (a Telegram flood wait), so the lock is renewed while it runs rather than
 * taken for the longest wait: a worker killed mid-sync held it for up to three minutes before, and
 * the incident's card (its Approve button, its resolution) stood still that long.
 */
export const CARD_LOCK_MS = 15_000;

/** The name of the one delayed retry an incident may have waiting for its chat's budget. */
export const DEFERRED_CARD_JOB = "card-deferred";

export function notifyProcessor(deps: NotifyProcessorDeps) {
  return async (job: Job<NotifyJob>, token?: string): Promise<SyncOutcome> => {
    const parsed = NotifyJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed notify job: ${parsed.error.message}`);
    const { incidentId, changedAt } = parsed.data;
    const lockMs = deps.lockMs ?? CARD_LOCK_MS;
    const [owner] = await Promise.all([
      deps.locks.acquire(incidentId, lockMs),
      // No longer waiting: a change from now on, which this run may read too late, queues a job of
      // its own (jobs/ingest.processor.ts queues none while one waits); BullMQ lets go only if this
      // job still holds it. Let go here rather than when this job ends, which is what BullMQ does: a
      // job waiting out its backoff after a failure, or failed for stalling twice, would otherwise
      // swallow the changes made meanwhile. Both before anything is read, in one round trip.
      job.removeDeduplicationKey(),
    ]);
    if (owner === undefined) {
      // Another worker is showing this incident right now; look again shortly.
      await job.moveToDelayed(Date.now() + 150, token);
      throw new DelayedError();
    }
    // a failed renewal is tried again at the next tick; the lock holds a whole lockMs meanwhile
    const renewal = setInterval(
      () => void deps.locks.renew(incidentId, owner, lockMs).catch(() => undefined),
      Math.max(1, Math.floor(lockMs / 3)),
    );
    try {
      // From here on, a change that finds the budget spent queues a new retry.
      if (job.name === DEFERRED_CARD_JOB) await deps.locks.clearDeferred(incidentId, job.id ?? owner);
      const { outcome, retryInMs } = await syncIncidentCard(deps.sync, incidentId);
      deps.metrics.cardsSent.inc({ kind: outcome });
      // a repeat's card waits on purpose (jobs/ingest.processor.ts): it would only blur the figure
      if (
        parsed.data.repeat !== true &&
        (outcome === "posted" || outcome === "edited" || outcome === "reposted")
      ) {
        deps.metrics.cardLatency.observe({ kind: outcome }, (Date.now() - Date.parse(changedAt)) / 1000);
      }
      if (retryInMs !== undefined) {
        // one retry per incident; this job's own next attempt queues the same one again
        const retryId = await deps.locks.claimDeferred(
          incidentId,
          job.id ?? owner,
          `deferred-${incidentId}-${owner}`,
          retryInMs + 60_000,
        );
        if (retryId !== undefined) {
          await deps.queues.notify.add(
            DEFERRED_CARD_JOB,
            parsed.data,
            // the retry keeps the rank of the change that asked for it (a P0's none: first)
            {
              jobId: retryId,
              delay: retryInMs,
              ...(job.opts.priority === undefined || job.opts.priority === 0
                ? {}
                : { priority: job.opts.priority }),
            },
          );
        }
      }
      return outcome;
    } finally {
      clearInterval(renewal);
      await deps.locks.release(incidentId, owner);
    }
  };
}

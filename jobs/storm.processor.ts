// Storm queue: bring a storm's summary card up to date. Refreshes are coalesced by time bucket:
// a job id names the bucket it runs at, so however many incidents fold in meanwhile, the card is
// edited at most once per interval. While the storm lasts, each run books the next bucket, which
// is how the storm is seen to end when nothing arrives any more.
import { UnrecoverableError, type Job, type Queue } from "bullmq";
import type { Metrics } from "../gateways/metrics.js";
import { syncStormCard, type StormSyncResult, type SyncStormDeps } from "../handlers/storm.js";
import { StormJobSchema, type StormJob } from "./queues.js";

/** At most one edit of a storm card per this many milliseconds (Telegram: 20 sends a minute). */
export const STORM_REFRESH_MS = 5_000;

/** Books a refresh of the storm card at the first bucket boundary at or after `atMs`. */
export async function scheduleStormRefresh(
  queue: Pick<Queue<StormJob>, "add">,
  stormId: number,
  atMs: number,
  intervalMs = STORM_REFRESH_MS,
): Promise<void> {
  const bucket = Math.floor(atMs / intervalMs) + 1;
  await queue.add(
    "storm",
    { stormId },
    { jobId: `storm-${stormId}-${bucket}`, delay: Math.max(0, bucket * intervalMs - Date.now()) },
  );
}

export interface StormProcessorDeps {
  sync: SyncStormDeps;
  queue: Pick<Queue<StormJob>, "add">;
  /** Asks for an incident's own card (the notify queue). */
  enqueueCard: (incidentId: string) => Promise<unknown>;
  metrics?: Metrics;
  intervalMs?: number;
}

export function stormProcessor(deps: StormProcessorDeps) {
  return async (job: Job<StormJob>): Promise<StormSyncResult> => {
    const parsed = StormJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed storm job: ${parsed.error.message}`);
    const { stormId } = parsed.data;
    const result = await syncStormCard(deps.sync, stormId);
    if (result.outcome !== "missing") deps.metrics?.cardsSent.inc({ kind: `storm_${result.outcome}` });
    if (result.outcome !== "missing")
      for (const incidentId of result.endedNow ?? []) await deps.enqueueCard(incidentId);
    if (result.outcome === "deferred") {
      await scheduleStormRefresh(deps.queue, stormId, Date.now() + result.waitMs, deps.intervalMs);
    } else if (result.outcome !== "missing" && !result.ended) {
      await scheduleStormRefresh(deps.queue, stormId, Date.now(), deps.intervalMs);
    }
    return result;
  };
}

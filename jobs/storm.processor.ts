// Storm queue: bring a storm's summary card up to date. The card is posted as soon as the storm
// opens (one job per storm, however many incidents fold in before it runs); after that, refreshes
// are coalesced by time bucket: a job id names the bucket it runs at, so the card is edited at most
// once per interval. While the storm lasts, each run books the next bucket, which is how the storm
// is seen to end when nothing arrives any more. Syncs of one storm's card run one at a time across
// every process (its card lock, kv/card-lock.ts): two runs that both found no card yet would each
// post one.
import { DelayedError, UnrecoverableError, type Job, type Queue } from "bullmq";
import type { Metrics } from "../gateways/metrics.js";
import {
  syncStormCard,
  type StormRefresh,
  type StormSyncResult,
  type SyncStormDeps,
} from "../handlers/storm.js";
import type { CardLocks } from "../kv/card-lock.js";
import { CARD_LOCK_MS } from "./notify.processor.js";
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

/**
 * "now": the storm's first showing, due at once (its one job id coalesces every incident folded
 * before it runs); "next": the next bucket.
 */
export async function requestStormRefresh(
  queue: Pick<Queue<StormJob>, "add">,
  stormId: number,
  when: StormRefresh,
  intervalMs = STORM_REFRESH_MS,
): Promise<void> {
  if (when === "next") return scheduleStormRefresh(queue, stormId, Date.now(), intervalMs);
  await queue.add("storm", { stormId }, { jobId: `storm-${stormId}-opened` });
}

/** The card lock's name for a storm's summary card (incidents' cards are locked by incident id). */
export const stormCardLock = (stormId: number): string => `storm-${stormId}`;

export interface StormProcessorDeps {
  sync: SyncStormDeps;
  queue: Pick<Queue<StormJob>, "add">;
  /** One sync of a storm's card at a time (kv/card-lock.ts). */
  locks: Pick<CardLocks, "acquire" | "renew" | "release">;
  /** Asks for an incident's own card (the notify queue). */
  enqueueCard: (incidentId: string) => Promise<unknown>;
  metrics?: Metrics;
  intervalMs?: number;
  /** How long the lock outlives its last renewal (default CARD_LOCK_MS). */
  lockMs?: number;
}

export function stormProcessor(deps: StormProcessorDeps) {
  return async (job: Job<StormJob>, token?: string): Promise<StormSyncResult> => {
    const parsed = StormJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed storm job: ${parsed.error.message}`);
    const { stormId } = parsed.data;
    const lockMs = deps.lockMs ?? CARD_LOCK_MS;
    const owner = await deps.locks.acquire(stormCardLock(stormId), lockMs);
    if (owner === undefined) {
      // Another run is showing this storm right now; look again shortly, with the state of then.
      await job.moveToDelayed(Date.now() + 150, token);
      throw new DelayedError();
    }
    const renewal = setInterval(
      () => void deps.locks.renew(stormCardLock(stormId), owner, lockMs).catch(() => undefined),
      Math.max(1, Math.floor(lockMs / 3)),
    );
    let result: StormSyncResult;
    try {
      result = await syncStormCard(deps.sync, stormId);
    } finally {
      clearInterval(renewal);
      await deps.locks.release(stormCardLock(stormId), owner);
    }
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

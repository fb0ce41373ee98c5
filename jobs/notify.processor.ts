// Notify queue: bring one incident's card up to date. Cards of one incident are synced one at a
// time across every process (a Redis lock), so two workers never post two cards for it.
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import type { Metrics } from "../app/metrics.js";
import { syncIncidentCard, type SyncCardDeps, type SyncOutcome } from "../handlers/sync-incident-card.js";
import { NotifyJobSchema, type NotifyJob } from "./queues.js";

export interface NotifyProcessorDeps {
  sync: SyncCardDeps;
  redis: Pick<Redis, "set" | "eval">;
  keyPrefix: string;
  metrics: Metrics;
  /** How long one sync may hold the lock; Telegram flood waits are included. */
  lockMs?: number;
}

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export function notifyProcessor(deps: NotifyProcessorDeps) {
  return async (job: Job<NotifyJob>, token?: string): Promise<SyncOutcome> => {
    const parsed = NotifyJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed notify job: ${parsed.error.message}`);
    const { incidentId, changedAt } = parsed.data;
    const lockKey = `${deps.keyPrefix}:lock:card:${incidentId}`;
    const owner = randomUUID();
    const locked = await deps.redis.set(lockKey, owner, "PX", deps.lockMs ?? 180_000, "NX");
    if (locked === null) {
      // Another worker is showing this incident right now; look again shortly.
      await job.moveToDelayed(Date.now() + 150, token);
      throw new DelayedError();
    }
    try {
      const { outcome } = await syncIncidentCard(deps.sync, incidentId);
      deps.metrics.cardsSent.inc({ kind: outcome });
      if (outcome === "posted" || outcome === "edited" || outcome === "reposted") {
        deps.metrics.cardLatency.observe({ kind: outcome }, (Date.now() - Date.parse(changedAt)) / 1000);
      }
      return outcome;
    } finally {
      await deps.redis.eval(RELEASE, 1, lockKey, owner);
    }
  };
}

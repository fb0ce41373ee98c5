// The dead-man's switch: a repeating job (one BullMQ job scheduler, however many workers run)
// that looks at when each heartbeat (HEARTBEAT_ALERTS, default Watchdog) last arrived. One silent
// for longer than HEARTBEAT_TIMEOUT_SECONDS is marked silent once (kv/heartbeats.ts) and put into
// the ingest queue as a firing "alerting pipeline silent" alert; the ingest processor resolves it
// when the heartbeat returns. A heartbeat never seen arms nothing.
import type { Job, Queue } from "bullmq";
import type { HeartbeatStore } from "../kv/heartbeats.js";
import { IngestJobSchema, type IngestJob } from "./queues.js";

export const HEARTBEAT_SCHEDULER_ID = "heartbeat-check";

export interface HeartbeatCheckDeps {
  store: Pick<HeartbeatStore, "read" | "markSilent">;
  ingest: Pick<Queue<IngestJob>, "add">;
  names: readonly string[];
  timeoutSeconds: number;
  now?: () => number;
}

export function heartbeatCheckProcessor(deps: HeartbeatCheckDeps) {
  return async (_job?: Pick<Job, "id">): Promise<{ silent: string[] }> => {
    const now = (deps.now ?? Date.now)();
    const silent: string[] = [];
    for (const state of await deps.store.read()) {
      if (!deps.names.includes(state.name) || state.silentSince !== undefined) continue;
      if (now - state.lastSeenAt.getTime() <= deps.timeoutSeconds * 1000) continue;
      if (!(await deps.store.markSilent(state.name, state.lastSeenAt))) continue;
      const data = IngestJobSchema.parse({
        source: "heartbeat",
        receivedAt: new Date(now).toISOString(),
        name: state.name,
        status: "firing",
        silentSince: state.lastSeenAt.toISOString(),
      });
      // one job per silence: a check run twice does not raise it twice
      await deps.ingest.add("heartbeat", data, {
        jobId: `heartbeat-silent-${state.name.replace(/[^A-Za-z0-9_-]/g, "_")}-${state.lastSeenAt.getTime()}`,
      });
      silent.push(state.name);
    }
    return { silent };
  };
}

/** Books the check every `everyMs` (a quarter of the timeout, at most a minute). */
export async function scheduleHeartbeatCheck(
  queue: Pick<Queue, "upsertJobScheduler">,
  timeoutSeconds: number,
): Promise<void> {
  const everyMs = Math.max(5_000, Math.min(60_000, (timeoutSeconds * 1000) / 4));
  await queue.upsertJobScheduler(
    HEARTBEAT_SCHEDULER_ID,
    { every: everyMs },
    {
      name: "check",
      data: {},
      // a failed check is not retried: the next one comes soon
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { age: 24 * 3_600 } },
    },
  );
}

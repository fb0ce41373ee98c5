// SigNoz poller: every minute (one BullMQ job scheduler, however many workers run) ask SigNoz's
// ClickHouse for per-service span figures, detect anomalies, and put them into the ingest queue
// as ONE job, where they are deduplicated like any other alert.
import type { Queue } from "bullmq";
import { type Job } from "bullmq";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  detectSignozAnomalies,
  FiringEntrySchema,
  type FiringEntry,
  type SignozThresholds,
} from "../handlers/detect-signoz-anomalies.js";
import { IngestJobSchema, type IngestJob } from "./queues.js";
import type { SignozFiringSet } from "../kv/signoz-firing.js";
import { type SpanStatsSource } from "../gateways/signoz-spans.js";

export const SIGNOZ_POLL_SCHEDULER_ID = "signoz-poll";
export const DEFAULT_SIGNOZ_POLL_EVERY_MS = 60_000;

export interface SignozPollDeps {
  spans: SpanStatsSource;
  ingest: Pick<Queue<IngestJob>, "add">;
  /** Remembers what was firing after the last poll, so what is healthy again gets resolved. */
  firing: Pick<SignozFiringSet, "read" | "write">;
  thresholds: Readonly<SignozThresholds>;
}

export interface SignozPollResult {
  services: number;
  firing: number;
  resolved: number;
  /** The ingest job added, when there was anything to report. */
  ingestJobId?: string;
}

async function readFiring(deps: SignozPollDeps): Promise<FiringEntry[]> {
  const parsed = z.array(FiringEntrySchema).safeParse(await deps.firing.read());
  // Nothing stored yet, or written by another version: start afresh (nothing is resolved this once).
  return parsed.success ? parsed.data : [];
}

export function signozPollProcessor(deps: SignozPollDeps) {
  return async (job: Pick<Job, "id">): Promise<SignozPollResult> => {
    const stats = await deps.spans.windowStats();
    const { anomalies, firing } = detectSignozAnomalies(stats, deps.thresholds, await readFiring(deps));
    let ingestJobId: string | undefined;
    if (anomalies.length > 0) {
      const data = IngestJobSchema.parse({
        source: "signoz",
        receivedAt: new Date().toISOString(),
        anomalies,
      });
      // Derived from the poll job: if BullMQ runs a stalled poll again, the ingest job is not doubled.
      // (Custom job ids must not contain ":", which scheduler job ids do.)
      ingestJobId = `signoz-${(job.id ?? randomUUID()).replaceAll(":", "-")}`;
      await deps.ingest.add("signoz", data, { jobId: ingestJobId });
    }
    // After the ingest job: if this fails, the next poll reports the resolutions again.
    await deps.firing.write(firing);
    const resolved = anomalies.filter((anomaly) => anomaly.status === "resolved").length;
    return {
      services: stats.length,
      firing: anomalies.length - resolved,
      resolved,
      ...(ingestJobId === undefined ? {} : { ingestJobId }),
    };
  };
}

/** One schedule in Redis, whichever process calls this and however often. */
export async function scheduleSignozPoll(
  queue: Pick<Queue, "upsertJobScheduler">,
  everyMs: number = DEFAULT_SIGNOZ_POLL_EVERY_MS,
): Promise<void> {
  await queue.upsertJobScheduler(
    SIGNOZ_POLL_SCHEDULER_ID,
    { every: everyMs },
    {
      name: "poll",
      data: {},
      // A failed poll is not retried: the next one comes within a minute and sees newer data.
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { age: 24 * 3_600 } },
    },
  );
}

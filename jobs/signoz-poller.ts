// SigNoz poller: every minute (one BullMQ job scheduler, however many workers run) ask SigNoz's
// ClickHouse for per-service span figures, detect anomalies, and put them into the ingest queue
// as ONE job, where they are deduplicated like any other alert.
import { createClient } from "@clickhouse/client";
import { Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { z } from "zod";
import {
  DEFAULT_SIGNOZ_THRESHOLDS,
  detectSignozAnomalies,
  FiringEntrySchema,
  type FiringEntry,
  type SignozThresholds,
} from "../handlers/detect-signoz-anomalies.js";
import { IngestJobSchema, QUEUE_NAMES, type IngestJob } from "./queues.js";
import { SignozFiringSet } from "../kv/signoz-firing.js";
import { clickhouseSpanStats, type SpanStatsSource } from "../gateways/signoz-spans.js";

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
export async function scheduleSignozPoll(queue: Queue, everyMs: number): Promise<void> {
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

export interface SignozPollerOptions {
  /** ioredis with `maxRetriesPerRequest: null` (the runtime's worker connection); also keeps the firing set. */
  connection: Redis;
  prefix: string;
  clickhouseUrl: string;
  thresholds?: Partial<SignozThresholds>;
  ingestQueue: Pick<Queue<IngestJob>, "add">;
  logger: Logger;
  everyMs?: number;
  table?: string;
}

export interface SignozPoller {
  close(): Promise<void>;
}

export async function startSignozPoller(options: SignozPollerOptions): Promise<SignozPoller> {
  const { connection, prefix, logger } = options;
  const clickhouse = createClient({ url: options.clickhouseUrl, request_timeout: 30_000 });
  const queue = new Queue(QUEUE_NAMES.signozPoll, { connection, prefix });
  const processor = signozPollProcessor({
    spans: clickhouseSpanStats(clickhouse, options.table),
    ingest: options.ingestQueue,
    firing: new SignozFiringSet(connection, prefix),
    thresholds: { ...DEFAULT_SIGNOZ_THRESHOLDS, ...options.thresholds },
  });
  try {
    await scheduleSignozPoll(queue, options.everyMs ?? DEFAULT_SIGNOZ_POLL_EVERY_MS);
  } catch (error) {
    await queue.close();
    await clickhouse.close();
    throw error;
  }
  // One poll at a time per process: the firing set is read, then written.
  const worker = new Worker(QUEUE_NAMES.signozPoll, processor, { connection, prefix, concurrency: 1 });
  worker.on("completed", (job, result: SignozPollResult) => {
    if (result.ingestJobId !== undefined) logger.info({ job: job.id, ...result }, "signoz anomalies queued");
  });
  worker.on("failed", (job, error) =>
    logger.warn({ job: job?.id, err: error.message }, "signoz poll failed"),
  );
  worker.on("error", (error) => logger.error({ err: error }, "signoz poll worker error"));
  return {
    async close() {
      // The schedule stays in Redis: it belongs to the deployment, not to this process.
      await worker.close();
      await queue.close();
      await clickhouse.close();
    },
  };
}

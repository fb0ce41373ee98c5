// The intake's micro-batch: concurrent requests share one round trip, each is answered only once its
// own jobs are in Redis, and a failed round trip fails exactly the requests that were in it.
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EnqueueBatch, type BulkJob } from "../../domain/enqueue-batch.js";
import { createQueues, type IngestJob, type Queues } from "../../jobs/queues.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { collectGarbage } from "../support/collect-garbage.js";

let redis: Redis;
let down: Redis;
let queues: Queues;
let offline: Queues;
const prefix = uniquePrefix();
const scope = { prefix, installation: "0123456789ab" };

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  queues = createQueues(redis, scope);
  // nothing listens on port 1: every command to this client fails at once
  down = new Redis("redis://127.0.0.1:1", {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  offline = createQueues(down, scope);
});
afterAll(async () => {
  await Promise.all([queues.close(), offline.close()]);
  await deleteKeys(prefix);
  redis.disconnect();
  down.disconnect();
});

const request = (count = 1): BulkJob<IngestJob>[] =>
  Array.from({ length: count }, () => ({
    name: "alertmanager",
    data: { source: "alertmanager", receivedAt: new Date().toISOString(), payload: alertmanagerPayload() },
    opts: { jobId: randomUUID() },
  }));

describe("EnqueueBatch", () => {
  it("sends the requests of one turn in one round trip, and answers each once its job is in Redis", async () => {
    // ids whose addBulk Redis has answered
    const confirmed = new Set<string>();
    const batch = new EnqueueBatch<IngestJob>(async (jobs) => {
      const added = await queues.ingest.addBulk(jobs);
      for (const job of added) if (job.id !== undefined) confirmed.add(job.id);
      return added;
    });
    const requests = Array.from({ length: 20 }, () => request());
    const answers = await Promise.all(
      requests.map(async (jobs) => {
        await batch.add(jobs);
        // what the route does next is answer 202: Redis must have confirmed the job by then
        const id = jobs[0]?.opts.jobId ?? "";
        return { confirmed: confirmed.has(id), stored: (await queues.ingest.getJob(id))?.id === id };
      }),
    );
    expect(answers).toEqual(requests.map(() => ({ confirmed: true, stored: true })));
    expect(batch.sent).toBe(1);
  });

  it("never splits one request's jobs, and sends a full batch without waiting for the turn to end", async () => {
    const sizes: number[] = [];
    const batch = new EnqueueBatch<IngestJob>(
      (jobs) => {
        sizes.push(jobs.length);
        return queues.ingest.addBulk(jobs);
      },
      { maxJobs: 5 },
    );
    const requests = [request(3), request(3), request(2), request(6)];
    await Promise.all(requests.map((jobs) => batch.add(jobs)));
    // 3, then 3+2 (full), then 6 alone: a request larger than a batch still goes whole
    expect(sizes).toEqual([3, 5, 6]);
    const ids = requests.flat().map((job) => job.opts.jobId);
    const stored = await Promise.all(ids.map((id) => queues.ingest.getJob(id)));
    expect(stored.map((job) => job?.id)).toEqual(ids);
  });

  it("fails exactly the requests of the batch whose round trip failed", async () => {
    let round = 0;
    // the second round trip goes to a Redis that is not there; the first and third do not
    const batch = new EnqueueBatch<IngestJob>((jobs) => {
      round += 1;
      return (round === 2 ? offline : queues).ingest.addBulk(jobs);
    });
    const settle = (jobs: BulkJob<IngestJob>[]) =>
      batch.add(jobs).then(
        () => "queued",
        () => "failed",
      );
    const first = [request(), request()].map(settle);
    await new Promise((resolve) => setImmediate(resolve));
    const second = [request(), request(), request()].map(settle);
    await new Promise((resolve) => setImmediate(resolve));
    const third = [request()].map(settle);
    expect(await Promise.all(first)).toEqual(["queued", "queued"]);
    expect(await Promise.all(second)).toEqual(["failed", "failed", "failed"]);
    expect(await Promise.all(third)).toEqual(["queued"]);
    expect(batch.sent).toBe(3);
  });

  it("answers each request with the ids of the jobs that carry its jobs, packed or not", async () => {
    let sentJobs = 0;
    const batch = new EnqueueBatch<IngestJob>(
      (jobs) => {
        sentJobs += jobs.length;
        return queues.ingest.addBulk(jobs);
      },
      // every job of a batch carried by the batch's first one
      {
        pack: (jobs) => ({
          jobs: jobs.slice(0, 1),
          carriers: new Map(jobs.map((job) => [job.opts.jobId, jobs[0]?.opts.jobId ?? ""])),
        }),
      },
    );
    const requests = [request(), request(2), request()];
    const answers = await Promise.all(requests.map((jobs) => batch.add(jobs)));
    const first = requests[0]?.[0]?.opts.jobId;
    expect(answers).toEqual([[first], [first], [first]]);
    expect(sentJobs).toBe(1);
    expect((await queues.ingest.getJob(first ?? ""))?.id).toBe(first);
    // without packing, a request's own ids
    const plain = new EnqueueBatch<IngestJob>((jobs) => queues.ingest.addBulk(jobs));
    const own = request(2);
    expect(await plain.add(own)).toEqual(own.map((job) => job.opts.jobId));
  });

  it("fails the requests of a batch Redis has not confirmed by its deadline, and only those", async () => {
    let round = 0;
    // the first round trip never answers; the second does
    const batch = new EnqueueBatch<IngestJob>(
      (jobs) => {
        round += 1;
        return round === 1 ? new Promise<never>(() => undefined) : queues.ingest.addBulk(jobs);
      },
      { deadlineMs: 50 },
    );
    const stuck = batch.add(request()).then(
      () => "queued",
      (error: unknown) => (error as Error).message,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const next = request();
    await batch.add(next);
    expect(await stuck).toMatch(/^enqueue timed out/);
    expect((await queues.ingest.getJob(next[0]?.opts.jobId ?? ""))?.id).toBe(next[0]?.opts.jobId);
  });

  it("holds none of a batch's jobs while Redis answers, only the ids each request is answered with", async () => {
    let answer = () => undefined as void;
    const written: string[] = [];
    // as the intake does: the jobs are written as JSON when they are sent, and not kept
    const batch = new EnqueueBatch<IngestJob>((jobs) => {
      for (const job of jobs) written.push(JSON.stringify(job.data));
      return new Promise<void>((resolve) => (answer = resolve));
    });
    const { answered, data, ids } = addUnheld(batch);
    try {
      await vi.waitFor(() => expect(written).toHaveLength(2));
      collectGarbage();
      expect(data.map((each) => each.deref())).toEqual([undefined, undefined]);
    } finally {
      answer();
    }
    expect(await answered).toEqual(ids);
  });
});

/** Adds two jobs of which the caller keeps only weak references and their ids. */
function addUnheld(batch: EnqueueBatch<IngestJob>) {
  const jobs = request(2);
  return {
    answered: batch.add(jobs),
    data: jobs.map((job) => new WeakRef(job.data)),
    ids: jobs.map((job) => job.opts.jobId),
  };
}

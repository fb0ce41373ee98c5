// The ingest queue takes a job's data already written as JSON (the intake lets its objects go before
// Redis answers): Redis must store exactly what BullMQ would have written, and a worker must read
// the same job. Real Redis, a real BullMQ worker.
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import type { IngestJob } from "../../jobs/queues.js";
import { SerializedDataQueue } from "../../jobs/serialized-data-queue.js";

let redis: Redis;
let serialized: SerializedDataQueue<IngestJob>;
let plain: Queue<IngestJob>;
const prefix = uniquePrefix();
const NAME = "serialized";

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  serialized = new SerializedDataQueue<IngestJob>(NAME, { connection: redis, prefix });
  plain = new Queue<IngestJob>(NAME, { connection: redis, prefix });
});
afterAll(async () => {
  await Promise.all([serialized.close(), plain.close()]);
  await deleteKeys(prefix);
  redis.disconnect();
});

const data = (): IngestJob => ({
  source: "alertmanager",
  receivedAt: new Date().toISOString(),
  payload: alertmanagerPayload({ count: 3 }),
});

/** The job's hash in Redis, as BullMQ wrote it. */
const stored = (id: string) => redis.hgetall(`${prefix}:${NAME}:${id}`);

describe("SerializedDataQueue", () => {
  it("stores the given JSON as the job's data, byte for byte what BullMQ writes for the object", async () => {
    const job = data();
    const [ownId, bullmqId] = [randomUUID(), randomUUID()];
    expect(await serialized.addSerialized("alertmanager", JSON.stringify(job), { jobId: ownId })).toBe(ownId);
    await plain.add("alertmanager", job, { jobId: bullmqId });

    const [own, bullmq] = await Promise.all([stored(ownId), stored(bullmqId)]);
    expect(own.data).toBe(JSON.stringify(job));
    // every other field is what BullMQ writes too, but for the add's time and the job's own id
    const rest = ({ timestamp: _time, opts, ...fields }: Record<string, string>) => {
      const { jobId: _id, ...others } = JSON.parse(opts ?? "{}") as Record<string, unknown>;
      return { ...fields, opts: others };
    };
    expect(rest(own)).toEqual(rest(bullmq));
    expect((await serialized.getJob(ownId))?.data).toEqual(job);
  });

  it("adds other data as BullMQ does", async () => {
    const job = data();
    const added = await serialized.add("alertmanager", job, { jobId: randomUUID() });
    expect((await stored(added.id ?? "")).data).toBe(JSON.stringify(job));
  });

  it("gives a worker the job's object", async () => {
    const job = data();
    const connection = redis.duplicate();
    let take = (_job: Job<IngestJob>) => undefined as void;
    const taken = new Promise<Job<IngestJob>>((resolve) => (take = resolve));
    const worker = new Worker<IngestJob>("serialized-worker", async (each) => take(each), {
      connection,
      prefix,
    });
    const queue = new SerializedDataQueue<IngestJob>("serialized-worker", { connection: redis, prefix });
    try {
      await queue.addSerialized("alertmanager", JSON.stringify(job), { jobId: randomUUID() });
      expect((await taken).data).toEqual(job);
    } finally {
      await worker.close();
      await queue.close();
      connection.disconnect();
    }
  });
});

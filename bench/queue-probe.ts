// Reads the bot's BullMQ queues straight from Redis. The health route reports only ingest and
// notify; this sees every queue the bot declares (analysis included), so "idle" means idle.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUE_NAMES, queuePrefix, type QueueScope } from "../jobs/queues.js";
import { TEST_REDIS_URL } from "../dev/redis.js";

const PENDING_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children"] as const;

export interface QueueProbe {
  /** Jobs not finished yet, over every queue. */
  pending(): Promise<number>;
  /** Polls until nothing is pending; returns what is still pending when `timeoutMs` ran out (0 = idle). */
  waitForIdle(timeoutMs: number): Promise<number>;
  /**
   * Polls until the ingest, analyze and notify queues each have a worker connected (`npm start`
   * starts its workers' thread once the HTTP intake is up); false when `timeoutMs` ran out.
   */
  waitForWorkers(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function openQueueProbe(scope: QueueScope): QueueProbe {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queues = Object.values(QUEUE_NAMES).map(
    (name) => new Queue(name, { connection, prefix: queuePrefix(scope, name) }),
  );
  // An SLA escalation waits (delayed) for minutes by design: a deadline, not work in progress.
  const statesOf = (queue: Queue) =>
    queue.name === QUEUE_NAMES.escalate
      ? PENDING_STATES.filter((state) => state !== "delayed")
      : [...PENDING_STATES];
  // A job scheduler (the execute sweep, the SigNoz poll) always keeps its next run delayed.
  const pendingIn = async (queue: Queue) => {
    const states = statesOf(queue);
    const counts = Object.values(await queue.getJobCounts(...states)).reduce((a, b) => a + b, 0);
    return states.includes("delayed") ? counts - (await queue.getJobSchedulersCount()) : counts;
  };
  const pending = async () => {
    const counts = await Promise.all(queues.map(pendingIn));
    return counts.reduce((sum, count) => sum + Math.max(0, count), 0);
  };
  return {
    pending,
    async waitForIdle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let left = await pending();
      while (left > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = await pending();
      }
      return left;
    },
    async waitForWorkers(timeoutMs) {
      const needed = queues.filter((queue) =>
        ([QUEUE_NAMES.ingest, QUEUE_NAMES.analyze, QUEUE_NAMES.notify] as string[]).includes(queue.name),
      );
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const counts = await Promise.all(needed.map((queue) => queue.getWorkersCount()));
        if (counts.every((count) => count > 0)) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async close() {
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}

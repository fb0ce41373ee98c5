// Liveness and readiness: Redis, PostgreSQL and the queues, each with how long it took.
import type { FastifyPluginAsync } from "fastify";
import type { Queryable } from "../../db/incidents.js";
import type { Queues } from "../../jobs/queues.js";

export interface HealthDeps {
  db: Queryable;
  redis: { ping(): Promise<string> };
  queues: Pick<Queues, "ingest" | "notify" | "analyze">;
  /** Per check (ms). */
  healthTimeoutMs?: number;
}

interface Check {
  ok: boolean;
  ms: number;
  error?: string;
  detail?: unknown;
}

async function timed(timeoutMs: number, probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return {
      ok: true,
      ms: Math.round(performance.now() - started),
      ...(detail === undefined ? {} : { detail }),
    };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const JOB_STATES = ["waiting", "active", "delayed", "failed"] as const;

export const healthRoutes: FastifyPluginAsync<{ deps: HealthDeps }> = async (app, { deps }) => {
  app.get("/health", async (_request, reply) => {
    const timeoutMs = deps.healthTimeoutMs ?? 2_000;
    const [redis, postgres, ingest, notify, analyze] = await Promise.all([
      timed(timeoutMs, () => deps.redis.ping().then(() => undefined)),
      timed(timeoutMs, () => deps.db.query("SELECT 1").then(() => undefined)),
      timed(timeoutMs, () => deps.queues.ingest.getJobCounts(...JOB_STATES)),
      timed(timeoutMs, () => deps.queues.notify.getJobCounts(...JOB_STATES)),
      timed(timeoutMs, () => deps.queues.analyze.getJobCounts(...JOB_STATES)),
    ]);
    const checks = { redis, postgres, queue_ingest: ingest, queue_notify: notify, queue_analyze: analyze };
    const down = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    return reply
      .status(down.length === 0 ? 200 : 503)
      .send({ status: down.length === 0 ? "ok" : "degraded", down, checks });
  });
};

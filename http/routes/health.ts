// Liveness and readiness. `/health` is readiness: Redis, PostgreSQL and the queues, each with how
// long it took, whether cards reach their chats, and 503 once the process is draining (SIGTERM
// received), so a load balancer stops sending before intake closes. A Telegram chat the bot was
// removed from (or that does not exist) makes the status "degraded" and is named, with HTTP 200:
// restarting the bot would not bring it back into the chat. So does a problem of the Telegram side
// as every process reports it (handlers/telegram-health.ts): a refused token, polling in conflict
// or stopped, calls failing. `/health/live` is liveness: the process answers; it stays 200 while a
// dependency is down or the process drains.
import type { FastifyPluginAsync } from "fastify";
import { type Queryable, pingDatabase } from "../../db/pool.js";
import type { Queues } from "../../jobs/queues.js";
import { withDeadline, noAnswerWithin } from "../../domain/deadline.js";
import { redisPersistence, type RedisPersistence } from "../../kv/persistence.js";
import { pingRedis } from "../../kv/ping.js";
import { chatFailures, type ChatFailure } from "../../db/chats.js";
import type { TelegramProblem } from "../../handlers/telegram-health.js";

export interface HealthDeps {
  db: Queryable;
  redis: Parameters<typeof pingRedis>[0] & Parameters<typeof redisPersistence>[0];
  queues: Pick<Queues, "ingest" | "notify" | "analyze">;
  /** Per check (ms). */
  healthTimeoutMs?: number;
  /** True once shutdown has begun: readiness answers 503 from then on. */
  draining?: () => boolean;
  /** What is wrong with Telegram, from every process's report (handlers/telegram-health.ts). */
  telegramProblems?: () => Promise<TelegramProblem[]>;
}

interface Check {
  ok: boolean;
  ms: number;
  error?: string;
  detail?: unknown;
}

async function timed(timeoutMs: number, probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  try {
    const detail = await withDeadline(timeoutMs, probe, noAnswerWithin(timeoutMs));
    return {
      ok: true,
      ms: Math.round(performance.now() - started),
      ...(detail === undefined ? {} : { detail }),
    };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message };
  }
}

const JOB_STATES = ["waiting", "active", "delayed", "failed"] as const;

export const healthRoutes: FastifyPluginAsync<{ deps: HealthDeps }> = async (app, { deps }) => {
  app.get("/health/live", async (_request, reply) => reply.status(200).send({ status: "alive" }));

  app.get("/health", async (_request, reply) => {
    if (deps.draining?.() === true) {
      return reply.status(503).send({ status: "draining", down: [], checks: {}, warnings: [] });
    }
    const timeoutMs = deps.healthTimeoutMs ?? 2_000;
    const [redis, postgres, ingest, notify, analyze, telegram, telegramSide] = await Promise.all([
      timed(timeoutMs, async () => {
        await pingRedis(deps.redis);
        return redisPersistence(deps.redis);
      }),
      timed(timeoutMs, () => pingDatabase(deps.db)),
      timed(timeoutMs, () => deps.queues.ingest.getJobCounts(...JOB_STATES)),
      timed(timeoutMs, () => deps.queues.notify.getJobCounts(...JOB_STATES)),
      timed(timeoutMs, () => deps.queues.analyze.getJobCounts(...JOB_STATES)),
      timed(timeoutMs, () => chatFailures(deps.db)),
      timed(timeoutMs, async () => (await deps.telegramProblems?.()) ?? []),
    ]);
    // unread (Redis away) is said by the redis check
    const problems = (telegramSide.detail ?? []) as TelegramProblem[];
    const unreachable = ((telegram.detail ?? []) as ChatFailure[]).map((failure) => ({
      chatId: failure.chatId,
      reason: failure.reason,
      description: failure.description,
      since: failure.since.toISOString(),
      failures: failure.failures,
    }));
    const checks = { redis, postgres, queue_ingest: ingest, queue_notify: notify, queue_analyze: analyze };
    const down = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    // Not a reason to take the bot out of service, but an operator must know: a 2xx to a sender
    // is only as durable as Redis.
    const persistence = redis.detail as RedisPersistence | undefined;
    const warnings =
      persistence?.mode === "none" || persistence?.mode === "unknown"
        ? [`Redis: ${persistence.detail}; accepted alerts not yet processed are lost if it restarts`]
        : [];
    for (const chat of unreachable) {
      warnings.push(`Telegram chat ${chat.chatId} is unreachable (${chat.reason}): ${chat.description}`);
    }
    for (const problem of problems) warnings.push(problem.warning);
    const status = down.length === 0 && unreachable.length === 0 && problems.length === 0 ? "ok" : "degraded";
    return reply
      .status(down.length === 0 ? 200 : 503)
      .send({ status, down, checks, warnings, telegram: { unreachable, problems } });
  });
};

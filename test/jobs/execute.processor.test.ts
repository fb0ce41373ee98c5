// The execute queue on real Redis and PostgreSQL: the periodic sweep must be able to queue an
// approved action again even when an earlier execute job of it failed (BullMQ keeps a failed job,
// and so its job id, for a week).
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { getAction } from "../../db/actions.js";
import { insertIncident } from "../../db/incidents.js";
import { type Queryable } from "../../db/pool.js";
import { type Executor, bindExecutor, bindExecutors, verdict } from "../../executors/executor.js";
import { executeProcessor } from "../../jobs/execute.processor.js";
import { createQueues, QUEUE_NAMES, type Queues, queuePrefix } from "../../jobs/queues.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let db: TestDatabase;
let redis: Redis;
let prefix: string;
let queues: Queues;
let worker: Worker | undefined;
beforeEach(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  prefix = uniquePrefix();
  queues = createQueues(redis, { prefix, installation: "0123456789ab" });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queues.close();
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});

const INCIDENT = "INC-20261124-0001";

function countingExecutor(runs: string[]): Executor<{ container: string }, object> {
  return {
    name: "RESTART_CONTAINER",
    description: "test executor",
    params: z.strictObject({ container: z.string() }),
    guard: () => Promise.resolve({ ok: true }),
    plan: (p) => [{ api: "docker", method: "Container.restart", args: p }],
    execute(_deps, p) {
      runs.push(p.container);
      return Promise.resolve({ changed: true, calls: this.plan(p), before: {} });
    },
    verify: () =>
      Promise.resolve(
        verdict("recovered", { code: "container_running", since: "12:00:05", healthcheck: false }),
      ),
  };
}

describe("the sweep of the execute queue", () => {
  it("runs an approved action whose first execute job failed before touching it", async () => {
    await insertIncident(
      db.pool,
      INCIDENT,
      {
        source: "alertmanager",
        fingerprint: "fp-1",
        severity: "P1",
        title: "ContainerNotRunning",
        labels: { alertname: "ContainerNotRunning", container: "cache-redis" },
        annotations: {},
        links: [],
      },
      new Date(),
    );
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO pending_actions (incident_id, action, params, status, decided_by, decided_at)
       VALUES ($1, 'RESTART_CONTAINER', '{"container":"cache-redis"}', 'approved', '@alice', now()) RETURNING id`,
      [INCIDENT],
    );
    const actionId = Number(rows[0]?.id);
    // PostgreSQL drops the first statement (a failover): the execute job fails, the action stays approved
    let blip = true;
    const flaky = {
      query: (text: string, values?: unknown[]) => {
        if (blip) {
          blip = false;
          return Promise.reject(new Error("Connection terminated unexpectedly"));
        }
        return db.pool.query(text, values);
      },
    } as unknown as Queryable;
    const runs: string[] = [];
    worker = new Worker(
      QUEUE_NAMES.execute,
      executeProcessor({
        queues,
        execute: {
          db: flaky,
          executors: bindExecutors([bindExecutor(countingExecutor(runs), {})]),
          dryRun: false,
          executionTimeoutMs: 5_000,
          autoRollback: false,
          escalate: () => Promise.resolve(),
          startCooldown: () => Promise.resolve(),
        },
        verifyEveryMs: 50,
        verifyWithinMs: 5_000,
        sweepGraceMs: 0,
      }),
      {
        connection: redis,
        prefix: queuePrefix({ prefix, installation: "0123456789ab" }, QUEUE_NAMES.execute),
      },
    );
    const first = await queues.execute.add("execute", { actionId }, { jobId: `execute-${actionId}` });
    await expect.poll(() => first.getState(), { timeout: 5_000 }).toBe("failed");
    expect((await getAction(db.pool, actionId))?.status).toBe("approved");

    // the next sweep finds it approved and queues it again; it runs, once
    await db.pool.query(`UPDATE pending_actions SET updated_at = now() - interval '1 minute' WHERE id = $1`, [
      actionId,
    ]);
    await queues.execute.add("sweep", {}, { attempts: 1 });
    await expect
      .poll(async () => (await getAction(db.pool, actionId))?.status, { timeout: 5_000 })
      .toBe("succeeded");
    expect(runs).toEqual(["cache-redis"]);
  });
});

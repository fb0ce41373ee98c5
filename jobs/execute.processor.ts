// Execute queue: "execute" runs an approved action once; "verify" looks at the target every
// second until it recovered, failed, or the deadline passed. Each step updates the card.
import { UnrecoverableError, type Job } from "bullmq";
import { randomUUID } from "node:crypto";
import { executeAction, verifyAction, type ExecuteDeps } from "../handlers/execute-action.js";
import { sweepActions } from "../handlers/sweep-actions.js";
import { getAction } from "../db/actions.js";
import {
  enqueueCard,
  ExecuteJobSchema,
  type ExecuteJob,
  type Queues,
  type SweepJob,
  executionJobId,
  enqueueExecution,
} from "./queues.js";

export interface ExecuteProcessorDeps {
  execute: ExecuteDeps;
  queues: Pick<Queues, "notify" | "execute">;
  verifyEveryMs?: number;
  verifyWithinMs?: number;
  /** How long past its step's limit an action may lag before the sweep moves it on (default 30 s). */
  sweepGraceMs?: number;
}

/** The schedule of the sweep that moves stuck actions on (handlers/sweep-actions.ts). */
export const EXECUTE_SWEEP_SCHEDULER_ID = "execute-sweep";

/** One schedule in Redis, whichever process calls this and however often. */
export async function scheduleExecuteSweep(queue: Queues["execute"], everyMs = 30_000): Promise<void> {
  await queue.upsertJobScheduler(
    EXECUTE_SWEEP_SCHEDULER_ID,
    { every: everyMs },
    // the next sweep comes soon: a failed one is not retried
    {
      name: "sweep",
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    },
  );
}

export function executeProcessor(deps: ExecuteProcessorDeps) {
  const every = deps.verifyEveryMs ?? 1_000;
  const verify = (actionId: number, deadline: number) =>
    deps.queues.execute.add(
      "verify",
      { actionId, deadline },
      { jobId: `verify-${actionId}-${randomUUID()}`, delay: every, attempts: 3 },
    );
  const card = (incidentId: string) => enqueueCard(deps.queues.notify, incidentId);
  return async (job: Job<ExecuteJob | SweepJob>): Promise<string> => {
    if (job.name === "sweep") {
      const swept = await sweepActions({
        execute: deps.execute,
        enqueueExecution: async (actionId) => {
          // A failed job keeps its id for a week (removeOnFail), and an add with that id would do
          // nothing; the action is still "approved", so nothing ran: the old job goes.
          const previous = await deps.queues.execute.getJob(executionJobId(actionId));
          if (previous !== undefined && (await previous.isFailed())) await previous.remove();
          return enqueueExecution(deps.queues.execute, actionId);
        },
        verifyWithinMs: deps.verifyWithinMs ?? 120_000,
        ...(deps.sweepGraceMs === undefined ? {} : { graceMs: deps.sweepGraceMs }),
      });
      for (const actionId of [...swept.abandoned, ...swept.concluded]) {
        const action = await getAction(deps.execute.db, actionId);
        if (action !== undefined) await card(action.incidentId);
      }
      return `requeued ${swept.requeued.length}, abandoned ${swept.abandoned.length}, concluded ${swept.concluded.length}`;
    }
    const parsed = ExecuteJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed execute job: ${parsed.error.message}`);
    const { actionId, deadline } = parsed.data;
    let outcome: string;
    if (job.name === "execute") {
      outcome = await executeAction(deps.execute, actionId);
      if (outcome === "verifying") await verify(actionId, Date.now() + (deps.verifyWithinMs ?? 120_000));
    } else {
      const limit = deadline ?? Date.now();
      outcome = await verifyAction(deps.execute, actionId, Date.now() > limit);
      if (outcome === "pending") await verify(actionId, limit);
    }
    const action = await getAction(deps.execute.db, actionId);
    if (action !== undefined && outcome !== "skipped" && outcome !== "pending") await card(action.incidentId);
    return outcome;
  };
}

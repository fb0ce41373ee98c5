// Execute queue: "execute" runs an approved action once; "verify" looks at the target every
// second until it recovered, failed, or the deadline passed. Each step updates the card.
import { UnrecoverableError, type Job } from "bullmq";
import { randomUUID } from "node:crypto";
import { executeAction, verifyAction, type ExecuteDeps } from "../handlers/execute-action.js";
import { getAction } from "../db/actions.js";
import { ExecuteJobSchema, type ExecuteJob, type Queues } from "./queues.js";

export interface ExecuteProcessorDeps {
  execute: ExecuteDeps;
  queues: Pick<Queues, "notify" | "execute">;
  verifyEveryMs?: number;
  verifyWithinMs?: number;
}

export function executeProcessor(deps: ExecuteProcessorDeps) {
  const every = deps.verifyEveryMs ?? 1_000;
  const verify = (actionId: number, deadline: number) =>
    deps.queues.execute.add(
      "verify",
      { actionId, deadline },
      { jobId: `verify-${actionId}-${randomUUID()}`, delay: every, attempts: 3 },
    );
  return async (job: Job<ExecuteJob>): Promise<string> => {
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
    if (action !== undefined && outcome !== "skipped" && outcome !== "pending") {
      await deps.queues.notify.add(
        "card",
        { incidentId: action.incidentId, changedAt: new Date().toISOString() },
        { jobId: randomUUID() },
      );
    }
    return outcome;
  };
}

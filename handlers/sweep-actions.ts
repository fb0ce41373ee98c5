// Use case: make sure no action is left behind. Each step of the loop hands the next one to a
// queue; if that hand-over is lost (Redis refused the job, a worker died mid-step), the action
// would wait forever. A periodic sweep finds actions stuck in a status and moves them on:
// approved but never queued → queued again (the job id is the action's, so it still runs once);
// executing past its timeout → failed and escalated (it may have changed something: no retry);
// verifying past its deadline → one last look, which resolves or fails it.
import { staleActions } from "../db/actions.js";
import { abandonExecution, verifyAction, type ExecuteDeps } from "./execute-action.js";

export interface SweepDeps {
  execute: ExecuteDeps;
  enqueueExecution: (actionId: number) => Promise<unknown>;
  verifyWithinMs: number;
  /** How long past its step's own limit an action may lag before the sweep acts (default 30 s). */
  graceMs?: number;
}

export interface SweepResult {
  requeued: number[];
  abandoned: number[];
  /** Actions whose verification the sweep concluded (recovered or failed). */
  concluded: number[];
}

export async function sweepActions(deps: SweepDeps, now = Date.now()): Promise<SweepResult> {
  const grace = deps.graceMs ?? 30_000;
  const stale = await staleActions(deps.execute.db, {
    approved: new Date(now - grace),
    executing: new Date(now - deps.execute.executionTimeoutMs - grace),
    verifying: new Date(now - deps.verifyWithinMs - grace),
  });
  const result: SweepResult = { requeued: [], abandoned: [], concluded: [] };
  for (const { id, status } of stale) {
    if (status === "approved") {
      await deps.enqueueExecution(id);
      result.requeued.push(id);
    } else if (status === "executing") {
      const outcome = await abandonExecution(deps.execute, id);
      if (outcome === "failed") result.abandoned.push(id);
    } else {
      const outcome = await verifyAction(deps.execute, id, true);
      if (outcome === "recovered" || outcome === "failed") result.concluded.push(id);
    }
  }
  return result;
}

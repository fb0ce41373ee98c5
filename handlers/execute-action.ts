// Use cases: run an approved action through its executor (guard, then execute or dry run), and
// verify recovery afterwards. A string from a model never gets here: params were validated by
// the executor's schema when the action was proposed, and again now.
import { audit, getAction, transitionAction, type PendingAction } from "../db/actions.js";
import { addEvent, markResolved, type Queryable } from "../db/incidents.js";
import type { ExecutionResult } from "../executors/executor.js";
import type { AnyExecutor } from "../executors/index.js";
import type { RemediationAction } from "../ai/actions.js";

export interface ExecuteDeps {
  db: Queryable;
  executors: ReadonlyMap<RemediationAction, AnyExecutor>;
  /** The outside clients each executor needs (Docker, Kubernetes, …), when configured. */
  executorDeps: Partial<Record<RemediationAction, unknown>>;
  dryRun: boolean;
  /** After a failed repair, no automatic repair of the resource for a while. */
  startCooldown: (action: PendingAction) => Promise<void>;
}

export type ExecuteOutcome = "verifying" | "failed" | "dry_run" | "skipped";

async function fail(
  deps: ExecuteDeps,
  action: PendingAction,
  why: string,
  actor = "system",
): Promise<"failed"> {
  await transitionAction(deps.db, { id: action.id }, ["executing", "verifying"], "failed", {
    result: { error: why },
  });
  await deps.db.query(
    `UPDATE incidents SET status = 'failed', version = version + 1, updated_at = now() WHERE id = $1 AND status <> 'resolved'`,
    [action.incidentId],
  );
  await addEvent(
    deps.db,
    action.incidentId,
    "execution_failed",
    { action: action.action, error: why },
    actor,
  );
  await audit(deps.db, {
    incidentId: action.incidentId,
    actor,
    what: action.action,
    outcome: "failed",
    detail: { error: why },
  });
  await deps.startCooldown(action);
  return "failed";
}

export async function executeAction(deps: ExecuteDeps, actionId: number): Promise<ExecuteOutcome> {
  // One execution per approved action: only the worker that moves it to "executing" runs it.
  const action = await transitionAction(deps.db, { id: actionId }, ["approved"], "executing");
  if (action === undefined) return "skipped";
  const executor = deps.executors.get(action.action as RemediationAction);
  const executorDeps = deps.executorDeps[action.action as RemediationAction];
  if (executor === undefined) return fail(deps, action, `no executor for ${action.action}`);
  if (executorDeps === undefined)
    return fail(deps, action, `${action.action} has no target configured (e.g. DOCKER_HOST)`);
  const params = executor.params.safeParse(action.params);
  if (!params.success) return fail(deps, action, `params refused: ${params.error.message}`);
  const guard = await executor.guard(executorDeps, params.data);
  if (!guard.ok) return fail(deps, action, `guard ${guard.rule}: ${guard.reason}`);
  let result: ExecutionResult;
  try {
    result = await executor.execute(executorDeps, params.data, { dryRun: deps.dryRun });
  } catch (error) {
    return fail(deps, action, `execution failed: ${(error as Error).message}`);
  }
  await audit(deps.db, {
    incidentId: action.incidentId,
    actor: "system",
    what: action.action,
    outcome: deps.dryRun ? "dry_run" : "executed",
    detail: { calls: result.calls },
  });
  if (deps.dryRun) {
    await transitionAction(deps.db, { id: action.id }, ["executing"], "succeeded", {
      result: { dryRun: true, calls: result.calls },
    });
    await addEvent(deps.db, action.incidentId, "dry_run", { action: action.action, calls: result.calls });
    return "dry_run";
  }
  await transitionAction(deps.db, { id: action.id }, ["executing"], "verifying", { result: { ...result } });
  await addEvent(deps.db, action.incidentId, "executed", { action: action.action, calls: result.calls });
  return "verifying";
}

export type VerifyOutcome = "recovered" | "pending" | "failed" | "skipped";

/** One look at the target; "pending" asks the caller to look again until its deadline. */
export async function verifyAction(
  deps: ExecuteDeps,
  actionId: number,
  deadlinePassed: boolean,
): Promise<VerifyOutcome> {
  const action = await getAction(deps.db, actionId);
  if (action?.status !== "verifying" || action.result === null) return "skipped";
  const executor = deps.executors.get(action.action as RemediationAction);
  const executorDeps = deps.executorDeps[action.action as RemediationAction];
  if (executor === undefined || executorDeps === undefined)
    return fail(deps, action, "cannot verify: no executor");
  const params: unknown = executor.params.parse(action.params);
  const verdict = await executor.verify(executorDeps, params, action.result as unknown as ExecutionResult);
  if (verdict.outcome === "recovered") {
    await transitionAction(deps.db, { id: action.id }, ["verifying"], "succeeded");
    await markResolved(deps.db, action.incidentId, new Date());
    await addEvent(deps.db, action.incidentId, "verified", { action: action.action, detail: verdict.detail });
    await audit(deps.db, {
      incidentId: action.incidentId,
      actor: "system",
      what: `verify ${action.action}`,
      outcome: "recovered",
      detail: { detail: verdict.detail },
    });
    return "recovered";
  }
  if (verdict.outcome === "pending" && !deadlinePassed) return "pending";
  return fail(
    deps,
    action,
    verdict.outcome === "pending" ? `not recovered before the deadline: ${verdict.detail}` : verdict.detail,
  );
}

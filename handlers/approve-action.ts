// Use case: a press of Approve. Only listed approvers may approve; the state change is one
// UPDATE, so a double press or two approvers at once approve once; every press is audited.
import { audit, transitionAction } from "../db/actions.js";
import { addEvent, type Queryable } from "../db/incidents.js";

export interface ApproveDeps {
  db: Queryable;
  approverIds: readonly number[];
  /** Queues the execution; the job id is the action's, so it runs once however often it is queued. */
  enqueueExecution: (actionId: number) => Promise<unknown>;
}

export type ApproveResult =
  | { outcome: "approved"; text: string; actionId: number }
  | { outcome: "not_allowed" | "nothing_pending"; text: string };

export async function approveAction(
  deps: ApproveDeps,
  input:
    | { incidentId: string; userId: number; username?: string }
    /** Through the API: the bearer token is the authority; `actor` names who asked. */
    | { incidentId: string; apiActor: string },
): Promise<ApproveResult> {
  const fromApi = "apiActor" in input;
  const actor = fromApi
    ? `api:${input.apiActor}`
    : input.username === undefined
      ? `tg:${input.userId}`
      : `@${input.username}`;
  if (!fromApi && !deps.approverIds.includes(input.userId)) {
    await audit(deps.db, { incidentId: input.incidentId, actor, what: "approve", outcome: "not_allowed" });
    return { outcome: "not_allowed", text: "You are not on the approver list." };
  }
  const action = await transitionAction(deps.db, { incidentId: input.incidentId }, ["pending"], "approved", {
    decidedBy: actor,
  });
  if (action === undefined) {
    await audit(deps.db, {
      incidentId: input.incidentId,
      actor,
      what: "approve",
      outcome: "nothing_pending",
    });
    return {
      outcome: "nothing_pending",
      text: "Nothing is waiting for approval (already decided or never proposed).",
    };
  }
  await addEvent(
    deps.db,
    input.incidentId,
    "approved",
    { action: action.action, params: action.params },
    actor,
  );
  await audit(deps.db, {
    incidentId: input.incidentId,
    actor,
    what: `approve ${action.action}`,
    outcome: "approved",
    detail: { actionId: action.id, params: action.params },
  });
  await deps.enqueueExecution(action.id);
  return { outcome: "approved", text: `Approved: ${action.action}. Running it now.`, actionId: action.id };
}

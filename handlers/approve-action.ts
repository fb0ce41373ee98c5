// Use case: a press of Approve. Only listed approvers may approve; the state change is one
// UPDATE, so a double press or two approvers at once approve once; every press is audited, and a
// press that changes nothing says why (already decided by whom, incident resolved).
import { audit, latestAction, transitionAction, type PendingAction } from "../db/actions.js";
import { acknowledgeIncident, addEvent, getIncident } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import { actorOf, guardDecision } from "./decision-guard.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

export interface ApproveDeps {
  db: Queryable;
  approverIds: readonly number[];
  /** Queues the execution; the job id is the action's, so it runs once however often it is queued. */
  enqueueExecution: (actionId: number) => Promise<unknown>;
  /** Why an action cannot run in this installation (no executor configured), if it cannot. */
  cannotRun?: (action: string) => string | undefined;
  /** BOT_LANGUAGE: the language of the answers; default English. */
  language?: Language;
}

export type ApproveResult =
  | { outcome: "approved"; text: string; actionId: number }
  | {
      outcome:
        "not_allowed" | "nothing_pending" | "unknown_incident" | "resolved" | "stale_card" | "cannot_run";
      text: string;
    };

/** A press on a card that showed a proposal since replaced: nothing is decided on its behalf. */
export function staleCardText(pending: PendingAction, language?: Language): string {
  return messagesFor(language).answers.staleProposal({ action: pending.action });
}

/** Whether each decided state was reached by an approval or a rejection. */
const DECIDED_BY_REJECTION: Partial<Record<PendingAction["status"], boolean>> = {
  approved: false,
  executing: false,
  verifying: false,
  succeeded: false,
  failed: false,
  rejected: true,
};

/**
 * Why nothing is pending: the latest proposal was decided by someone, or there never was one.
 * `forReject`: said to someone pressing Reject ("Nothing to reject: …").
 */
export function nothingPendingText(
  latest: PendingAction | undefined,
  language?: Language,
  forReject = false,
): string {
  const t = messagesFor(language).answers;
  const rejected = latest === undefined ? undefined : DECIDED_BY_REJECTION[latest.status];
  if (latest === undefined || rejected === undefined) {
    return forReject ? t.nothingToRejectProposed : t.nothingProposed;
  }
  const decided = { action: latest.action, rejected, who: latest.decidedBy ?? t.system };
  return forReject ? t.nothingToReject(decided) : t.alreadyDecided(decided);
}

export async function approveAction(
  deps: ApproveDeps,
  input:
    | {
        incidentId: string;
        userId: number;
        username?: string;
        /** The proposal the pressed card showed; absent on cards drawn before it was named. */
        actionId?: number;
      }
    /** Through the API: the bearer token is the authority; `actor` names who asked. */
    | { incidentId: string; apiActor: string },
): Promise<ApproveResult> {
  const t = messagesFor(deps.language);
  const fromApi = "apiActor" in input;
  const actor = fromApi ? `api:${input.apiActor}` : actorOf(input);
  if (!fromApi) {
    const guard = await guardDecision(deps, { ...input, what: "approve" });
    if (!guard.ok) return { outcome: guard.outcome, text: guard.text };
  } else if (
    (await getIncident(deps.db, input.incidentId))?.status === "resolved" &&
    (await latestAction(deps.db, input.incidentId))?.status === "pending"
  ) {
    // The token stands in for the approver list, not for the button's other checks: a proposal
    // left pending when its incident resolved is not run.
    await audit(deps.db, { incidentId: input.incidentId, actor, what: "approve", outcome: "resolved" });
    return { outcome: "resolved", text: t.answers.alreadyResolved({ id: input.incidentId }) };
  }
  const shown = "actionId" in input ? input.actionId : undefined;
  const pending = await latestAction(deps.db, input.incidentId);
  const blocked = pending?.status === "pending" ? deps.cannotRun?.(pending.action) : undefined;
  if (pending !== undefined && blocked !== undefined) {
    // Approving would only fail on the worker and page on-call as if the repair had failed.
    await audit(deps.db, {
      incidentId: input.incidentId,
      actor,
      what: `approve ${pending.action}`,
      outcome: "cannot_run",
      detail: { actionId: pending.id, reason: blocked },
    });
    return { outcome: "cannot_run", text: t.answers.cannotRunHere({ action: pending.action, why: blocked }) };
  }
  const action = await transitionAction(
    deps.db,
    { incidentId: input.incidentId, ...(shown === undefined ? {} : { id: shown }) },
    ["pending"],
    "approved",
    { decidedBy: actor },
  );
  if (action === undefined) {
    const latest = await latestAction(deps.db, input.incidentId);
    if (shown !== undefined && latest?.status === "pending" && latest.id !== shown) {
      // the card was drawn before a newer proposal replaced the one it showed
      await audit(deps.db, {
        incidentId: input.incidentId,
        actor,
        what: "approve",
        outcome: "stale_card",
        detail: { shownActionId: shown, pendingActionId: latest.id },
      });
      return { outcome: "stale_card", text: staleCardText(latest) };
    }
    await audit(deps.db, {
      incidentId: input.incidentId,
      actor,
      what: "approve",
      outcome: "nothing_pending",
      ...(latest === undefined ? {} : { detail: { actionId: latest.id, status: latest.status } }),
    });
    return { outcome: "nothing_pending", text: nothingPendingText(latest) };
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
  await acknowledgeIncident(deps.db, input.incidentId, actor);
  await deps.enqueueExecution(action.id);
  return { outcome: "approved", text: t.answers.approved({ action: action.action }), actionId: action.id };
}

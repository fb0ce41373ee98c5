// Use case: Reject, with a reason. The proposed action moves pending → rejected in one UPDATE
// (a second rejection, or an approval that came first, finds nothing to change and says who
// decided); the playbooks learn from the reason. With no action proposed at all, the reason is
// recorded against the incident itself (the analysis was wrong or the alert is noise), once.
import { audit, latestAction, transitionAction, type PendingAction } from "../db/actions.js";
import { acknowledgeIncident, addEvent, incidentRejectedBy, lockIncident } from "../db/incidents.js";
import { recordRejection } from "../db/playbooks.js";
import { inTransaction, type Pool, type Queryable } from "../db/pool.js";
import { nothingPendingText, staleCardText } from "./approve-action.js";
import { guardDecision, type ChatUser } from "./decision-guard.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

export interface RejectDeps {
  db: Pool;
  approverIds: readonly number[];
  /** BOT_LANGUAGE: the language of the answers; default English. */
  language?: Language;
}

/** Longest reason kept; the card shows a shortened one. */
export const MAX_REASON_LENGTH = 1_000;

export type RejectCheck =
  { ok: true; actor: string; subject: string } | { ok: false; outcome: string; text: string };

export type RejectResult =
  { outcome: "rejected"; text: string; action?: string } | { outcome: string; text: string };

/** Why a rejection cannot happen now, or undefined when it can. */
async function nothingToReject(
  db: Queryable,
  incidentId: string,
  latest: PendingAction | undefined,
  language: Language | undefined,
) {
  if (latest?.status === "pending") return undefined;
  if (latest !== undefined && latest.status !== "superseded") {
    return nothingPendingText(latest, language, true);
  }
  const earlier = await incidentRejectedBy(db, incidentId);
  return earlier === undefined ? undefined : messagesFor(language).answers.alreadyRejected({ who: earlier });
}

/** Before asking for a reason: may this person reject, and is there anything to reject? */
export async function checkReject(
  deps: RejectDeps,
  input: ChatUser & { incidentId: string; actionId?: number },
): Promise<RejectCheck> {
  const guard = await guardDecision(deps, { ...input, what: "reject" });
  if (!guard.ok) return guard;
  const latest = await latestAction(deps.db, input.incidentId);
  const newer = replacedBy(input.actionId, latest);
  if (newer !== undefined) {
    await audit(deps.db, {
      incidentId: input.incidentId,
      actor: guard.actor,
      what: "reject",
      outcome: "stale_card",
      detail: { shownActionId: input.actionId, pendingActionId: newer.id },
    });
    return { ok: false, outcome: "stale_card", text: staleCardText(newer, deps.language) };
  }
  const why = await nothingToReject(deps.db, input.incidentId, latest, deps.language);
  if (why !== undefined) {
    await audit(deps.db, {
      incidentId: input.incidentId,
      actor: guard.actor,
      what: "reject",
      outcome: "nothing_pending",
    });
    return { ok: false, outcome: "nothing_pending", text: why };
  }
  const t = messagesFor(deps.language).answers;
  const subject =
    latest?.status === "pending"
      ? t.rejectActionSubject({ action: latest.action, id: input.incidentId })
      : t.rejectAnalysisSubject({ id: input.incidentId });
  return { ok: true, actor: guard.actor, subject };
}

/** The proposal pending now, when the card named another one; undefined when the card is current. */
function replacedBy(shown: number | undefined, latest: PendingAction | undefined): PendingAction | undefined {
  return shown !== undefined && latest?.status === "pending" && latest.id !== shown ? latest : undefined;
}

export async function rejectAction(
  deps: RejectDeps,
  input: ChatUser & { incidentId: string; reason: string; actionId?: number },
): Promise<RejectResult> {
  const guard = await guardDecision(deps, { ...input, what: "reject" });
  if (!guard.ok) return guard;
  const { actor } = guard;
  const reason = input.reason.trim().slice(0, MAX_REASON_LENGTH);
  // One rejection per incident at a time: the row lock orders two approvers answering at once.
  const result = await inTransaction(deps.db, async (client): Promise<RejectResult> => {
    await lockIncident(client, input.incidentId);
    const action = await transitionAction(
      client,
      { incidentId: input.incidentId, ...(input.actionId === undefined ? {} : { id: input.actionId }) },
      ["pending"],
      "rejected",
      { decidedBy: actor, result: { reason } },
    );
    if (action !== undefined) {
      await addEvent(
        client,
        input.incidentId,
        "rejected",
        { action: action.action, params: action.params, reason },
        actor,
      );
      await audit(client, {
        incidentId: input.incidentId,
        actor,
        what: `reject ${action.action}`,
        outcome: "rejected",
        detail: { actionId: action.id, params: action.params, reason },
      });
      await recordRejection(client, {
        incidentId: input.incidentId,
        action: action.action,
        params: action.params,
        reason,
        actor,
      });
      await acknowledgeIncident(client, input.incidentId, actor);
      return {
        outcome: "rejected",
        text: messagesFor(deps.language).answers.rejected({ action: action.action, id: input.incidentId }),
        action: action.action,
      };
    }
    const latest = await latestAction(client, input.incidentId);
    const newer = replacedBy(input.actionId, latest);
    if (newer !== undefined) {
      // a new proposal arrived while the reason was being typed: it is not what was rejected
      await audit(client, {
        incidentId: input.incidentId,
        actor,
        what: "reject",
        outcome: "stale_card",
        detail: { shownActionId: input.actionId, pendingActionId: newer.id, reason },
      });
      return { outcome: "stale_card", text: staleCardText(newer, deps.language) };
    }
    const why = await nothingToReject(client, input.incidentId, latest, deps.language);
    if (why !== undefined) {
      await audit(client, {
        incidentId: input.incidentId,
        actor,
        what: "reject",
        outcome: "nothing_pending",
        detail: { reason },
      });
      return { outcome: "nothing_pending", text: why };
    }
    await addEvent(client, input.incidentId, "rejected", { reason }, actor);
    await audit(client, {
      incidentId: input.incidentId,
      actor,
      what: "reject analysis",
      outcome: "rejected",
      detail: { reason },
    });
    await acknowledgeIncident(client, input.incidentId, actor);
    return {
      outcome: "rejected",
      text: messagesFor(deps.language).answers.rejectedAnalysis({ id: input.incidentId }),
    };
  });
  return result;
}

// What every decision from the chat checks first: is this person an approver, does the incident
// exist and is it still open. A refusal is audited (who, what, when, outcome) and says why.
import { audit } from "../db/actions.js";
import { getIncident } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import { type Incident } from "../domain/incident.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

/** Who pressed: a Telegram user. */
export interface ChatUser {
  userId: number;
  username?: string;
}

/** How the audit log and the card name a person: `@alice`, or `tg:1001` without a username. */
export function actorOf(user: ChatUser): string {
  return user.username === undefined ? `tg:${user.userId}` : `@${user.username}`;
}

export type GuardRefusal = {
  ok: false;
  outcome: "not_allowed" | "unknown_incident" | "resolved";
  text: string;
};

export type GuardResult = { ok: true; actor: string; incident: Incident } | GuardRefusal;

/**
 * Checks that `user` may take `what` on the incident now. Refusals are audited; a pass is not (the
 * decision that follows is).
 */
export async function guardDecision(
  deps: { db: Queryable; approverIds: readonly number[]; language?: Language },
  input: ChatUser & { incidentId: string; what: string },
): Promise<GuardResult> {
  const t = messagesFor(deps.language);
  const actor = actorOf(input);
  const incident = await getIncident(deps.db, input.incidentId);
  const refuse = async (outcome: GuardRefusal["outcome"], text: string): Promise<GuardRefusal> => {
    await audit(deps.db, {
      // a forged or foreign id has no incident row to point at
      incidentId: incident === undefined ? null : input.incidentId,
      actor,
      what: input.what,
      outcome,
      ...(incident === undefined ? { detail: { incidentId: input.incidentId } } : {}),
    });
    return { ok: false, outcome, text };
  };
  if (!deps.approverIds.includes(input.userId)) return refuse("not_allowed", t.answers.notAnApprover);
  if (incident === undefined)
    return refuse("unknown_incident", t.answers.noIncident({ id: input.incidentId }));
  if (incident.status === "resolved") {
    return refuse("resolved", t.answers.alreadyResolved({ id: incident.id }));
  }
  return { ok: true, actor, incident };
}

// Use case: "👀 I'm on it" (the card's button, or `/ack <incident id>`). A responder takes the
// incident: it is acknowledged by them, so its SLA escalation does not happen (markEscalated skips
// an acknowledged incident), the card shows who took it and when, and the timeline and the audit
// log say so. Another responder may take it over; the card then names whom they took it from.
// Responders are the approvers and TELEGRAM_RESPONDER_IDS.
import { audit } from "../db/actions.js";
import { addEvent, currentTaker, lockIncident, takeIncident as markTaken } from "../db/incidents.js";
import { inTransaction, type Pool } from "../db/pool.js";
import { clockTime } from "../domain/time.js";
import { guardDecision, type ChatUser } from "./decision-guard.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

export interface TakeDeps {
  db: Pool;
  /** Who may take an incident: the approvers and TELEGRAM_RESPONDER_IDS. */
  responderIds: readonly number[];
  /** BOT_TIMEZONE, for the time in the answer (default UTC). */
  timeZone?: string;
  /** BOT_LANGUAGE: the language of the answers; default English. */
  language?: Language;
}

export type TakeResult =
  | { outcome: "taken"; text: string }
  | { outcome: "taken_over"; text: string; from: string }
  | { outcome: "already_yours" | "not_allowed" | "unknown_incident" | "resolved"; text: string };

export async function takeIncident(
  deps: TakeDeps,
  input: ChatUser & { incidentId: string },
): Promise<TakeResult> {
  const t = messagesFor(deps.language);
  const guard = await guardDecision(
    { db: deps.db, approverIds: deps.responderIds, ...(deps.language ? { language: deps.language } : {}) },
    { ...input, what: "take" },
  );
  if (!guard.ok) {
    return guard.outcome === "not_allowed"
      ? { outcome: "not_allowed", text: t.answers.notAResponder }
      : guard;
  }
  const { actor, incident } = guard;
  return inTransaction(deps.db, async (client): Promise<TakeResult> => {
    // the row lock orders two presses at once: the second sees the first one's taking
    const status = await lockIncident(client, incident.id);
    if (status === undefined || status === "resolved") {
      await audit(client, { incidentId: incident.id, actor, what: "take", outcome: "resolved" });
      return { outcome: "resolved", text: t.answers.alreadyResolved({ id: incident.id }) };
    }
    const before = await currentTaker(client, incident.id);
    if (before?.actor === actor) {
      await audit(client, { incidentId: incident.id, actor, what: "take", outcome: "already_yours" });
      return {
        outcome: "already_yours",
        text: t.answers.alreadyYours({
          id: incident.id,
          since: clockTime(before.at, deps.timeZone, new Date(), deps.language),
        }),
      };
    }
    await markTaken(client, incident.id, actor);
    const from = before?.actor;
    const detail = from === undefined ? {} : { from };
    await addEvent(client, incident.id, "taken", detail, actor);
    await audit(client, {
      incidentId: incident.id,
      actor,
      what: "take",
      outcome: from === undefined ? "taken" : "taken_over",
      detail,
    });
    return from === undefined
      ? { outcome: "taken", text: t.answers.taken({ id: incident.id }) }
      : { outcome: "taken_over", text: t.answers.takenOver({ id: incident.id, from }), from };
  });
}

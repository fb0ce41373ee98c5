// Use case: a snooze ran out. If the incident is still open and this is still the snooze in force
// (not replaced by a later one), the chat hears it again: a reply to the card, and the card shows
// that the snooze is over.
import { addEvent, getIncident, telegramMessages, type Queryable } from "../db/incidents.js";

export interface EndSnoozeDeps {
  db: Queryable;
  /** Sends `text` into the chat as a reply to the card message. */
  remind: (chatId: string, replyToMessageId: number, text: string) => Promise<unknown>;
  /** Brings the card up to date. */
  enqueueCard: (incidentId: string) => Promise<unknown>;
}

export type EndSnoozeOutcome = "reminded" | "replaced" | "resolved" | "missing";

export async function endSnooze(
  deps: EndSnoozeDeps,
  input: { incidentId: string; until: Date },
): Promise<EndSnoozeOutcome> {
  const incident = await getIncident(deps.db, input.incidentId);
  if (incident === undefined) return "missing";
  if (incident.status === "resolved") return "resolved";
  if (incident.snoozedUntil?.getTime() !== input.until.getTime()) return "replaced";
  const by = incident.snoozedBy ?? "someone";
  const text = `⏰ Snooze over: ${incident.id} is still open (${incident.title}; snoozed by ${by}).`;
  // Remind first: a retried job may remind twice, but never not at all.
  for (const message of await telegramMessages(deps.db, incident.id)) {
    await deps.remind(message.chatId, message.messageId, text);
  }
  // Ends exactly this snooze, once: a later snooze or a resolution meanwhile leaves it alone.
  const { rowCount } = await deps.db.query(
    `UPDATE incidents SET snoozed_until = NULL, snoozed_by = NULL, version = version + 1, updated_at = now()
     WHERE id = $1 AND snoozed_until = $2 AND status <> 'resolved'`,
    [incident.id, input.until],
  );
  if (rowCount !== 1) return "replaced";
  await addEvent(deps.db, incident.id, "snooze_ended", { snoozedBy: by, until: input.until.toISOString() });
  await deps.enqueueCard(incident.id);
  return "reminded";
}

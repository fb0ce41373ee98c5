// Use case: a snooze ran out. If the incident is still open and this is still the snooze in force
// (not replaced by a later one), the chat hears it again: a reply to the card, and the card shows
// that the snooze is over.
import { addEvent, getIncident, telegramMessages, clearSnooze } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import type { ChatBudget } from "../kv/chat-budget.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

export interface EndSnoozeDeps {
  db: Queryable;
  /** Sends `text` into the chat as a reply to the card message. */
  remind: (chatId: string, replyToMessageId: number, text: string) => Promise<unknown>;
  /** Brings the card up to date. */
  enqueueCard: (incidentId: string) => Promise<unknown>;
  /** BOT_LANGUAGE, for the reminder's words; default English. */
  language?: Language;
}

/** Thrown by `remind` when the chat's send budget is spent: the reminder waits, it is not lost. */
export class ChatBusy extends Error {
  override readonly name = "ChatBusy";
  constructor(readonly waitMs: number) {
    super(`the chat's send budget frees up in ${waitMs} ms`);
  }
}

/** A `remind` that waits for the chat's send budget like every other send (urgent: it may use the reserve). */
export function remindWithinBudget(
  budget: Pick<ChatBudget, "take">,
  post: (chatId: string, text: string, replyTo: number) => Promise<unknown>,
): EndSnoozeDeps["remind"] {
  return async (chatId, replyToMessageId, text) => {
    const wait = await budget.take(chatId, "urgent");
    if (wait > 0) throw new ChatBusy(wait);
    return post(chatId, text, replyToMessageId);
  };
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
  const t = messagesFor(deps.language);
  const by = incident.snoozedBy ?? t.common.someone;
  const text = t.reminder.snoozeOver({ id: incident.id, title: incident.title, who: by });
  // Remind first: a retried job may remind twice, but never not at all.
  for (const message of await telegramMessages(deps.db, incident.id)) {
    await deps.remind(message.chatId, message.messageId, text);
  }
  // Ends exactly this snooze, once: a later snooze or a resolution meanwhile leaves it alone.
  if (!(await clearSnooze(deps.db, incident.id, input.until))) return "replaced";
  await addEvent(deps.db, incident.id, "snooze_ended", { snoozedBy: by, until: input.until.toISOString() });
  await deps.enqueueCard(incident.id);
  return "reminded";
}

// Use case: a snooze ran out. If the incident is still open and this is still the snooze in force
// (not replaced by a later one), the chat hears it again: a reply to the card, in the card's topic,
// and the card shows that the snooze is over. The reminder takes the same delivery path as every
// message (handlers/chat-delivery.ts): a group that became a supergroup since the card was posted
// is followed, an unreachable chat or topic is reported and the reminder goes to the fallback.
import { addEvent, getIncident, telegramMessages, clearSnooze } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import type { ChatRefusal } from "../domain/card.js";
import { chatOf, placeOf } from "../domain/chat-place.js";
import type { ChatBudget } from "../kv/chat-budget.js";
import { deliverEach, planDelivery, type ChatDeliveryDeps } from "./chat-delivery.js";

/** Sends `text` to a place (a chat, or a topic of one), as a reply to message `replyTo` when given. */
export type Remind = (
  place: string,
  text: string,
  replyTo?: number,
) => Promise<{ kind: "posted" } | ChatRefusal>;
import { messagesFor, type Language } from "../domain/i18n/index.js";

export interface EndSnoozeDeps {
  db: Queryable;
  remind: Remind;
  /** Brings the card up to date. */
  enqueueCard: (incidentId: string) => Promise<unknown>;
  /** Migrations followed, unreachable chats reported and routed around (handlers/chat-delivery.ts). */
  delivery?: ChatDeliveryDeps;
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
export function remindWithinBudget(budget: Pick<ChatBudget, "take">, post: Remind): Remind {
  return async (place, text, replyTo) => {
    const wait = await budget.take(chatOf(place), "urgent");
    if (wait > 0) throw new ChatBusy(wait);
    return post(place, text, replyTo);
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
    const cardPlace = placeOf(message.chatId, message.threadId);
    const plan =
      deps.delivery === undefined
        ? { targets: [cardPlace], fallback: undefined, retrying: new Set<string>() }
        : await planDelivery(deps.delivery, [cardPlace]);
    await deliverEach(deps.delivery, plan, async (place) => {
      // a reply only beside the card: a message id means another message in another chat
      const replyTo = chatOf(place) === message.chatId ? message.messageId : undefined;
      const sent = await deps.remind(place, text, replyTo);
      return sent.kind === "posted" ? "sent" : sent;
    });
  }
  // Ends exactly this snooze, once: a later snooze or a resolution meanwhile leaves it alone.
  if (!(await clearSnooze(deps.db, incident.id, input.until))) return "replaced";
  await addEvent(deps.db, incident.id, "snooze_ended", { snoozedBy: by, until: input.until.toISOString() });
  await deps.enqueueCard(incident.id);
  return "reminded";
}

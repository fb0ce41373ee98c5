// Use case: escalate an incident (the escalation deadlines). "sla": nobody acknowledged it within its
// severity's response time (a delayed job booked when it opened); it escalates only if it is
// still unresolved, unacknowledged and not snoozed. "repair_failed": a repair did not work; it
// escalates whether or not someone acknowledged it. An incident escalates once per reason (a
// repair that fails after the SLA escalated is news the on-call people must hear): one atomic
// UPDATE marks it, with its timeline event and audit row in the same transaction. Then each of its
// chats gets one message mentioning the on-call people, replying to the card in the card's topic;
// a chat that got it already (a retried job) is not sent it again. The messages take the one
// delivery path (handlers/chat-delivery.ts): migrations followed, unreachable chats routed around.
import { type Incident } from "../domain/incident.js";
import { addEvent, getIncident, listEvents, telegramMessages, markEscalated } from "../db/incidents.js";
import { audit } from "../db/actions.js";
import { inTransaction, type Pool } from "../db/pool.js";
import { claimStormEscalationNotice, foldOf, getStorm, stormCounts } from "../db/storms.js";
import type { ChatNotices, EscalationNotice } from "../domain/notices.js";
import type { Severity } from "../domain/incident.js";
import { type ChatBudget } from "../kv/chat-budget.js";
import { placeOf, topicOf } from "../domain/chat-place.js";
import { deliverEach, planDelivery, type ChatDeliveryDeps } from "./chat-delivery.js";

export interface EscalateDeps {
  pool: Pool;
  notices: Pick<ChatNotices, "postEscalation">;
  chatIds: (incident: Incident) => string[];
  /** Telegram usernames to mention, without "@". */
  oncallUsernames: readonly string[];
  afterSeconds: Record<Severity, number>;
  budget?: Pick<ChatBudget, "take">;
  /** Chats followed through migrations, unreachable ones replaced by the default chat (handlers/chat-delivery.ts). */
  delivery?: ChatDeliveryDeps;
}

export interface EscalateInput {
  incidentId: string;
  reason: "sla" | "repair_failed";
  detail?: string;
}

export type EscalateResult =
  | { outcome: "missing" | "resolved" | "acknowledged" | "snoozed" }
  | {
      outcome: "escalated" | "already_escalated";
      /** Chats sent the escalation message by this call. */
      notified: string[];
      /** Set when a chat's flood budget was spent: call again after this many ms. */
      retryInMs?: number;
    };

/** Marks the incident escalated if it still qualifies; true when this call did. */
async function claimEscalation(pool: Pool, input: EscalateInput, afterSeconds: number): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    if (!(await markEscalated(client, input.incidentId, input.reason))) return false;
    const detail = {
      reason: input.reason,
      ...(input.reason === "sla" ? { afterSeconds } : {}),
      ...(input.detail === undefined ? {} : { detail: input.detail }),
    };
    await addEvent(client, input.incidentId, "escalated", detail);
    await audit(client, {
      incidentId: input.incidentId,
      actor: "system",
      what: "escalate",
      outcome: "escalated",
      detail,
    });
    return true;
  });
}

/** Why an incident that was not escalated does not qualify. */
function refusal(incident: Incident): "resolved" | "acknowledged" | "snoozed" {
  if (incident.status === "resolved") return "resolved";
  if (incident.acknowledgedAt !== null) return "acknowledged";
  return "snoozed";
}

export async function escalateIncident(deps: EscalateDeps, input: EscalateInput): Promise<EscalateResult> {
  const before = await getIncident(deps.pool, input.incidentId);
  if (before === undefined) return { outcome: "missing" };
  const afterSeconds = deps.afterSeconds[before.severity];
  const claimed = await claimEscalation(deps.pool, input, afterSeconds);
  const incident = (await getIncident(deps.pool, input.incidentId)) ?? before;
  if (!claimed && incident.escalatedAt === null) return { outcome: refusal(incident) };

  const events = await listEvents(deps.pool, incident.id, 1_000);
  const escalation = events.findLast((event) => event.kind === "escalated");
  const reason = escalation?.detail.reason === "repair_failed" ? "repair_failed" : "sla";
  const detail = typeof escalation?.detail.detail === "string" ? escalation.detail.detail : undefined;
  // the failure the escalation is about, as the timeline kept it, so each chat says it in its
  // language: the latest failed action, if it is the one the English detail names
  const failed =
    reason === "repair_failed" ? events.findLast((event) => event.kind === "execution_failed") : undefined;
  const named =
    failed !== undefined &&
    detail?.startsWith(`${String(failed.detail.action)} failed: ${String(failed.detail.error)}`) === true;
  const failure =
    failed === undefined || !named
      ? undefined
      : {
          action: String(failed.detail.action),
          reason: failed.detail.reason,
          ...(failed.detail.then === undefined ? {} : { then: failed.detail.then }),
        };
  // the chats told of the latest escalation (an earlier one's messages do not count)
  const done = new Set(
    events
      .filter((event) => event.kind === "escalation_notified" && event.id > (escalation?.id ?? 0))
      .map((event) => String(event.detail.chatId)),
  );
  const cards = await telegramMessages(deps.pool, incident.id);
  const notified: string[] = [];
  let retryInMs: number | undefined;
  const routed = deps.chatIds(incident);
  const delivery = deps.delivery;
  const plan =
    delivery === undefined
      ? { targets: routed, fallback: undefined, retrying: new Set<string>() }
      : await planDelivery(delivery, routed);
  const refused = new Set<string>();
  await deliverEach(delivery, plan, async (target) => {
    const { chatId } = topicOf(target);
    if (done.has(chatId)) return "skipped";
    const notice: EscalationNotice = {
      incidentId: incident.id,
      severity: incident.severity,
      title: incident.title,
      service: incident.service,
      reason,
      mentions: deps.oncallUsernames,
      ...(reason === "sla" ? { afterSeconds } : {}),
      ...(detail === undefined ? {} : { detail }),
      ...(failure === undefined ? {} : { failure }),
    };
    // the mention replies to the card, in the card's topic (unless that topic just refused it)
    const card = cards.find((shown) => shown.chatId === chatId);
    let replyTo = card?.messageId;
    const cardPlace = card === undefined ? target : placeOf(chatId, card.threadId);
    let place = refused.has(cardPlace) ? target : cardPlace;
    const fold = replyTo === undefined ? await foldOf(deps.pool, incident.id, chatId) : undefined;
    // Folded into a storm (and not promoted to its own card): one mention per storm, replying to
    // its card, stands for the rest (the storm card counts them); a hundred pings would bury the
    // chat the storm card protects.
    const storm =
      fold === undefined || fold.promotedAt !== null ? undefined : await getStorm(deps.pool, fold.stormId);
    const mentionedForStorm = async () =>
      addEvent(deps.pool, incident.id, "escalation_notified", { chatId, viaStorm: storm?.id });
    if (storm !== undefined && storm.escalationNotifiedAt !== null) {
      await mentionedForStorm();
      return "skipped";
    }
    const wait = (await deps.budget?.take(chatId, "urgent")) ?? 0;
    if (wait > 0) {
      retryInMs = Math.min(retryInMs ?? wait, wait);
      return "skipped";
    }
    if (storm !== undefined) {
      if (!(await claimStormEscalationNotice(deps.pool, storm.id))) {
        await mentionedForStorm();
        return "skipped";
      }
      replyTo = storm.messageId ?? undefined;
      place = placeOf(storm.chatId, storm.threadId);
      notice.storm = { escalated: (await stormCounts(deps.pool, storm.id)).escalated };
    }
    const posted = await deps.notices.postEscalation(place, notice, replyTo);
    if (posted.kind !== "posted") {
      refused.add(place);
      return { ...posted, at: place };
    }
    await addEvent(deps.pool, incident.id, "escalation_notified", { chatId, messageId: posted.messageId });
    notified.push(chatId);
    return "sent";
  });
  return {
    outcome: claimed ? "escalated" : "already_escalated",
    notified,
    ...(retryInMs === undefined ? {} : { retryInMs }),
  };
}

// Use case: make the chat show the incident as it is now. Posts the card once, then edits that
// same message; an unchanged card is not sent again. Callers serialize per incident. In an alert
// storm a new incident may be folded into the chat's storm card instead (handlers/storm.ts), and a
// send beyond the chat's flood budget is deferred: the caller retries later with the state of then.
import { createHash } from "node:crypto";
import { getIncident, listEvents, saveTelegramMessage, telegramMessages } from "../db/incidents.js";
import { readSnapshot, type Queryable } from "../db/pool.js";
import { type Incident } from "../domain/incident.js";
import type { Language } from "../domain/i18n/index.js";
import { latestAction } from "../db/actions.js";
import { latestAnalysis } from "../db/analyses.js";
import { silenceMatches, silencesBeforeFirstPost } from "../db/silences.js";
import { buildIncidentCard } from "./build-incident-card.js";
import type { IncidentCard, Notifier, ServiceFacts } from "../domain/card.js";
import { placeIncident, type StormDeps } from "./storm.js";
import { type ChatBudget, type SendPriority } from "../kv/chat-budget.js";
import { topicOf } from "../domain/chat-place.js";
import {
  deliverEach,
  planDelivery,
  type ChatDeliveryDeps,
  type DeliveryPlan,
  type ShowResult,
} from "./chat-delivery.js";

export interface SyncCardDeps {
  db: Queryable;
  notifier: Notifier;
  /** Owner, SLO and links from the service registry, when one is loaded. */
  serviceFacts?: (incident: Incident) => ServiceFacts | undefined;
  /** Where cards go: handlers/route-chats.ts (by severity or namespace, else the default chat); chats or topics. */
  chatIds: (incident: Incident) => string[];
  /** Storm folding (handlers/storm.ts); without it every incident gets its own card. */
  storm?: StormDeps;
  /** Why an action cannot run in this installation (no executor configured), if it cannot. */
  cannotRun?: (action: string) => string | undefined;
  /** The bot's flood budget per chat; without it every send goes out at once. */
  budget?: Pick<ChatBudget, "take">;
  /** Aliases left by migrations, unreachable chats and the fallback (handlers/chat-delivery.ts). */
  delivery?: ChatDeliveryDeps;
  /** BOT_TIMEZONE, for times the card's texts carry; default UTC. */
  timeZone?: string;
  /** BOT_LANGUAGE, for the card's texts (history, notes); default English. */
  language?: Language;
}

/**
 * "folded": shown on a storm summary card; "deferred": the chat's flood budget is spent, try later;
 * "undeliverable": a chat refused it (bot removed, chat unknown) and no other chat showed it.
 */
export type SyncOutcome =
  | "posted"
  | "edited"
  | "reposted"
  | "unchanged"
  | "folded"
  | "deferred"
  | "missing"
  | "suppressed"
  | "undeliverable";

export function hashCard(card: IncidentCard): string {
  return createHash("sha256").update(JSON.stringify(card)).digest("hex");
}

/**
 * The rows a card is built from. Call it on one snapshot (readSnapshot): read one by one, an
 * analysis committed between the incident row and its events would be shown with the status of
 * before it ("analysing… needs approval"), and the next sync would edit the card again, taking the
 * keyboard a person had just opened (Silence's choices) away with it.
 */
export async function readCardParts(db: Queryable, incidentId: string) {
  // asked together: on one pipelined client (db/pool.ts), one round trip
  const [incident, events, analysis, pending] = await Promise.all([
    getIncident(db, incidentId),
    listEvents(db, incidentId, 200, { repeats: false }),
    latestAnalysis(db, incidentId),
    latestAction(db, incidentId),
  ]);
  if (incident === undefined) return undefined;
  return { incident, events, analysis, pending };
}

export async function syncIncidentCard(
  deps: SyncCardDeps,
  incidentId: string,
): Promise<{ outcome: SyncOutcome; version?: number; retryInMs?: number }> {
  const state = await readSnapshot(deps.db, async (db) => {
    const [parts, shown, silences] = await Promise.all([
      readCardParts(db, incidentId),
      telegramMessages(db, incidentId),
      silencesBeforeFirstPost(db, incidentId),
    ]);
    if (parts === undefined) return undefined;
    const silenced =
      shown.length === 0 &&
      silences.some((silence) => silenceMatches(silence.matchers, parts.incident.labels));
    return { ...parts, shown, silenced };
  });
  if (state === undefined) return { outcome: "missing" };
  const { incident, shown, events, analysis, pending } = state;
  // "suppressed": a card never posted stays unposted while an active silence matches the incident.
  if (state.silenced) return { outcome: "suppressed", version: incident.version };
  const card = buildIncidentCard(
    incident,
    events,
    analysis,
    deps.serviceFacts?.(incident),
    pending?.status === "pending" ? pending.id : undefined,
    pending?.status === "pending" ? deps.cannotRun?.(pending.action) : undefined,
    deps.timeZone,
    deps.language,
  );
  const hash = hashCard(card);
  const outcomes: SyncOutcome[] = [];
  let retryInMs: number | undefined;
  /** Takes a slot of the chat's budget; false (and the wait noted) when it is spent. */
  const slot = async (chatId: string, priority: SendPriority = "normal"): Promise<boolean> => {
    const wait = (await deps.budget?.take(chatId, priority)) ?? 0;
    if (wait === 0) return true;
    retryInMs = Math.min(retryInMs ?? wait, wait);
    outcomes.push("deferred");
    return false;
  };
  const delivery = deps.delivery;
  const routed = deps.chatIds(incident);
  const plan: DeliveryPlan =
    delivery === undefined
      ? { targets: routed, fallback: undefined, retrying: new Set() }
      : await planDelivery(delivery, routed);
  /** Chats whose card was found deleted by this call: the card is posted again, not edited. */
  const gone = new Set<string>();

  /** Brings the card in one place (a chat, or a topic of one) up to date. */
  const showIn = async (place: string): Promise<ShowResult> => {
    const { chatId, threadId } = topicOf(place);
    // one card per chat: edited where it is, whichever topic the routes name now
    const message = shown.find((row) => row.chatId === chatId);
    const save = (messageId: number, thread: number | null | undefined) =>
      saveTelegramMessage(deps.db, {
        incidentId,
        chatId,
        ...(thread === undefined || thread === null ? {} : { threadId: thread }),
        messageId,
        renderedHash: hash,
        renderedVersion: incident.version,
      });
    const post = async (kind: "posted" | "reposted"): Promise<ShowResult> => {
      const posted = await deps.notifier.post(place, card);
      if (posted.kind !== "posted") return posted;
      await save(posted.messageId, threadId);
      outcomes.push(kind);
      return "sent";
    };
    if (message === undefined) {
      if (deps.storm !== undefined && (await placeIncident(deps.storm, place, incident)).kind === "folded") {
        outcomes.push("folded");
        return "skipped";
      }
      // a new P0 card may use the slots kept for urgent sends
      if (!(await slot(chatId, incident.severity === "P0" ? "urgent" : "normal"))) return "skipped";
      return post("posted");
    }
    if (gone.has(chatId)) return (await slot(chatId)) ? post("reposted") : "skipped";
    if (message.renderedHash === hash) {
      outcomes.push("unchanged");
      return "skipped";
    }
    // a P0's card edits (its analysis arriving) take the reserved slots too: never behind a storm
    if (!(await slot(chatId, incident.severity === "P0" ? "urgent" : "edit"))) return "skipped";
    const edited = await deps.notifier.update(chatId, message.messageId, card);
    if (edited.kind === "updated") {
      await save(message.messageId, message.threadId);
      outcomes.push("edited");
      return "sent";
    }
    if (edited.kind !== "gone") return edited;
    gone.add(chatId);
    if (!(await slot(chatId))) return "skipped";
    return post("reposted");
  };

  const { unreachable } = await deliverEach(delivery, plan, showIn);
  if (unreachable.length > 0) outcomes.push("undeliverable");
  const outcome =
    (["posted", "reposted", "edited", "deferred", "folded", "undeliverable"] as const).find((kind) =>
      outcomes.includes(kind),
    ) ?? "unchanged";
  return { outcome, version: incident.version, ...(retryInMs === undefined ? {} : { retryInMs }) };
}

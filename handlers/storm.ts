// Storm-proof delivery. Telegram allows a group about 20 messages a minute (edits included); an
// alert storm would queue cards for many minutes. Two shared counters in Redis keep every process
// inside that (kv/chat-budget.ts, kv/storm-gate.ts):
//  - ChatBudget: a sliding 60 s window of the bot's own sends per chat (posts and edits); a send
//    that does not fit waits (its job is delayed and re-reads the incident then, which coalesces
//    edits) instead of piling up in the client-side throttler.
//  - StormGate: new incidents per chat per STORM_WINDOW_SECONDS. Beyond STORM_THRESHOLD a new
//    incident does not get its own card: it is folded into the chat's one storm summary card,
//    posted as soon as the storm opens (with the sends kept for urgent messages), then edited at
//    most once per refresh interval, one sync of it at a time. P0 incidents and incidents waiting for an
//    approval still get their own card, a few per window (promotions), because those are what a
//    person must see and press. When fewer than the threshold arrive per window, the storm card is
//    finalised and individual cards resume. Nothing is dropped: every incident is in PostgreSQL.
import { createHash } from "node:crypto";
import type { ChatBudget } from "../kv/chat-budget.js";
import type { StormGate } from "../kv/storm-gate.js";
import { type Queryable } from "../db/pool.js";
import { type Incident } from "../domain/incident.js";
import {
  endStorm,
  foldedNeedingCards,
  foldIncident,
  foldOf,
  getStorm,
  markPromoted,
  moveStormToGeneral,
  openFolded,
  openStorm,
  saveStormMessage,
  stormCounts,
  type Storm,
} from "../db/storms.js";
import type { ChatNotices, StormSummary } from "../domain/notices.js";
import type { ChatRefusal } from "../domain/card.js";
import { placeOf, topicOf } from "../domain/chat-place.js";
import { afterRefusal, planDelivery, type ChatDeliveryDeps } from "./chat-delivery.js";

export interface StormDeps {
  db: Queryable;
  gate: StormGate;
  /**
   * Asks for the storm's summary card to be brought up to date (coalesced by the caller): "now"
   * while the chat has not seen the storm yet (its summary is the first thing it must see), else
   * at the next refresh.
   */
  refresh: (stormId: number, when: StormRefresh) => Promise<void>;
}

export type Placement = { kind: "card" } | { kind: "folded"; stormId: number };

export type StormRefresh = "now" | "next";

/** What a careful on-call wants to see on its own even in a storm: a P0, or a decision to take. */
export function deservesOwnCard(incident: Pick<Incident, "severity" | "status">): boolean {
  return incident.severity === "P0" || incident.status === "awaiting_approval";
}

/**
 * Where an incident not yet shown in the chat of `place` goes: its own card, or the storm summary
 * (one storm per chat; a storm opened from a topic's place posts its summary in that topic).
 * Asked on every sync of an incident without a card in that chat, so a folded incident that
 * becomes P0 or starts waiting for an approval is promoted to its own card while the window has
 * promotions left.
 */
export async function placeIncident(
  deps: StormDeps,
  place: string,
  incident: Pick<Incident, "id" | "severity" | "status">,
): Promise<Placement> {
  const { chatId, threadId } = topicOf(place);
  let fold = await foldOf(deps.db, incident.id, chatId);
  let when: StormRefresh = "next";
  if (fold === undefined) {
    if (await deps.gate.arrive(chatId, incident.id)) return { kind: "card" };
    const storm = await openStorm(deps.db, chatId, threadId);
    fold = await foldIncident(deps.db, { incidentId: incident.id, chatId, stormId: storm.id });
    // a storm the chat has not seen yet: its summary goes out at once, ahead of lower cards
    if (storm.messageId === null) when = "now";
  }
  if (fold.promotedAt !== null) return { kind: "card" };
  // Once its storm is over, an incident that needs a person gets its card (the chat budget paces it).
  const over = deservesOwnCard(incident) && (await getStorm(deps.db, fold.stormId))?.endedAt != null;
  if (deservesOwnCard(incident) && (over || (await deps.gate.promote(chatId, incident.id)))) {
    await markPromoted(deps.db, incident.id, chatId);
    // the summary counts it still, and now says it has its own card
    await deps.refresh(fold.stormId, when);
    return { kind: "card" };
  }
  await deps.refresh(fold.stormId, when);
  return { kind: "folded", stormId: fold.stormId };
}

export interface SyncStormDeps {
  db: Queryable;
  gate: StormGate;
  notices: ChatNotices;
  budget?: Pick<ChatBudget, "take">;
  /** Migrations followed, unreachable chats and topics recorded (handlers/chat-delivery.ts). */
  delivery?: ChatDeliveryDeps;
}

/**
 * "undeliverable": the storm's chat refused its card (bot removed, chat unknown), so the storm is
 * over there and its open incidents are in `endedNow`, to be shown wherever their cards go now.
 */
export type StormSyncResult =
  | { outcome: "missing" }
  | { outcome: "deferred"; waitMs: number; ended: boolean; endedNow?: string[] }
  | {
      outcome: "posted" | "edited" | "reposted" | "unchanged" | "undeliverable";
      ended: boolean;
      endedNow?: string[];
    };

/**
 * Brings the storm's summary card up to date, and ends the storm (final report on the card) once
 * fewer than the threshold of new incidents arrived during the last window.
 */
export async function syncStormCard(deps: SyncStormDeps, stormId: number): Promise<StormSyncResult> {
  let storm = await getStorm(deps.db, stormId);
  if (storm === undefined) return { outcome: "missing" };
  // Set when this call ended the storm: the folded incidents that still need a person, which the
  // storm card alone cannot let anyone act on (no Approve button); they get their own cards now.
  let endedNow: string[] | undefined;
  if (storm.endedAt === null && (await deps.gate.arrivals(storm.chatId)) < deps.gate.settings.threshold) {
    if (await endStorm(deps.db, stormId)) endedNow = await foldedNeedingCards(deps.db, stormId);
    storm = (await getStorm(deps.db, stormId)) ?? storm;
  }
  const ended = storm.endedAt !== null;
  const result = <R extends StormSyncResult>(value: R): R =>
    endedNow === undefined ? value : { ...value, endedNow };
  const summary: StormSummary = {
    stormId,
    startedAt: storm.startedAt,
    endedAt: storm.endedAt,
    threshold: deps.gate.settings.threshold,
    windowSeconds: deps.gate.settings.windowSeconds,
    counts: await stormCounts(deps.db, stormId),
  };
  const hash = createHash("sha256").update(JSON.stringify(summary)).digest("hex");
  if (storm.renderedHash === hash) return result({ outcome: "unchanged", ended });
  const waitMs = (await deps.budget?.take(storm.chatId, "urgent")) ?? 0;
  if (waitMs > 0) return result({ outcome: "deferred", waitMs, ended });
  const shown = await showStorm(deps.notices, storm, summary);
  if (shown.kind === "migrated" || shown.kind === "unreachable") {
    const after = await stormRefused(deps, stormId, placeOf(storm.chatId, storm.threadId), shown);
    if (after.outcome === "missing" || endedNow === undefined) return after;
    return { ...after, endedNow: [...new Set([...endedNow, ...(after.endedNow ?? [])])] };
  }
  await saveStormMessage(deps.db, { stormId, messageId: shown.messageId, renderedHash: hash });
  return result({ outcome: shown.kind, ended });
}

type StormShown = { kind: "posted" | "edited" | "reposted"; messageId: number } | ChatRefusal;

/** Posts the storm's card, or edits it where it is (posting again when it was deleted). */
async function showStorm(
  notices: ChatNotices,
  storm: Pick<Storm, "chatId" | "threadId" | "messageId">,
  summary: StormSummary,
): Promise<StormShown> {
  const place = placeOf(storm.chatId, storm.threadId);
  if (storm.messageId === null) {
    const posted = await notices.postStorm(place, summary);
    return posted.kind === "posted" ? { kind: "posted", messageId: posted.messageId } : posted;
  }
  const updated = await notices.updateStorm(storm.chatId, storm.messageId, summary);
  if (updated === "updated") return { kind: "edited", messageId: storm.messageId };
  if (updated !== "gone") return updated;
  const posted = await notices.postStorm(place, summary);
  return posted.kind === "posted" ? { kind: "reposted", messageId: posted.messageId } : posted;
}

/**
 * The storm card's chat refused it. The refusal takes the one delivery path (a migration is
 * followed, which moves the storm in progress to the supergroup; a gone topic or chat is recorded
 * and reported), then the card goes where the storm now is: the supergroup, or the chat's General
 * topic when only the topic is gone. When the storm cannot follow (another chat, or a storm
 * already there), it ends, and its open incidents are handed back (`endedNow`) to be shown one by
 * one wherever their cards go now, which folds them again if that chat is in a storm too.
 */
async function stormRefused(
  deps: SyncStormDeps,
  stormId: number,
  place: string,
  refusal: ChatRefusal,
): Promise<StormSyncResult> {
  const delivery = deps.delivery;
  if (delivery === undefined)
    throw new Error(`Telegram chat ${place} refused the storm card: ${JSON.stringify(refusal)}`);
  const { fallback } = await planDelivery(delivery, []);
  const instead = await afterRefusal(delivery, place, refusal, fallback);
  if (instead !== undefined && refusal.kind === "unreachable" && refusal.reason === "topic_not_found")
    await moveStormToGeneral(deps.db, stormId);
  const storm = await getStorm(deps.db, stormId);
  if (storm !== undefined && instead !== undefined && placeOf(storm.chatId, storm.threadId) === instead) {
    // the storm is where the card goes now: show it there at once (a supergroup does not migrate
    // again and a General topic is not a topic that can go, so this asks once more at most)
    return syncStormCard(deps, stormId);
  }
  await endStorm(deps.db, stormId);
  return { outcome: "undeliverable", ended: true, endedNow: await openFolded(deps.db, stormId) };
}

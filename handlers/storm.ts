// Storm-proof delivery. Telegram allows a group about 20 messages a minute (edits included); an
// alert storm would queue cards for many minutes. Two shared counters in Redis keep every process
// inside that (kv/chat-budget.ts, kv/storm-gate.ts):
//  - ChatBudget: a sliding 60 s window of the bot's own sends per chat (posts and edits); a send
//    that does not fit waits (its job is delayed and re-reads the incident then, which coalesces
//    edits) instead of piling up in the client-side throttler.
//  - StormGate: new incidents per chat per STORM_WINDOW_SECONDS. Beyond STORM_THRESHOLD a new
//    incident does not get its own card: it is folded into the chat's one storm summary card,
//    which is edited at most once per refresh interval. P0 incidents and incidents waiting for an
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
  openStorm,
  saveStormMessage,
  stormCounts,
} from "../db/storms.js";
import type { ChatNotices, StormSummary } from "../domain/notices.js";

export interface StormDeps {
  db: Queryable;
  gate: StormGate;
  /** Asks for the storm's summary card to be brought up to date (coalesced by the caller). */
  refresh: (stormId: number) => Promise<void>;
}

export type Placement = { kind: "card" } | { kind: "folded"; stormId: number };

/** What a careful on-call wants to see on its own even in a storm: a P0, or a decision to take. */
export function deservesOwnCard(incident: Pick<Incident, "severity" | "status">): boolean {
  return incident.severity === "P0" || incident.status === "awaiting_approval";
}

/**
 * Where an incident not yet shown in `chatId` goes: its own card, or the storm summary. Asked on
 * every sync of an incident without a card in that chat, so a folded incident that becomes P0 or
 * starts waiting for an approval is promoted to its own card while the window has promotions left.
 */
export async function placeIncident(
  deps: StormDeps,
  chatId: string,
  incident: Pick<Incident, "id" | "severity" | "status">,
): Promise<Placement> {
  let fold = await foldOf(deps.db, incident.id, chatId);
  if (fold === undefined) {
    if (await deps.gate.arrive(chatId, incident.id)) return { kind: "card" };
    const storm = await openStorm(deps.db, chatId);
    fold = await foldIncident(deps.db, { incidentId: incident.id, chatId, stormId: storm.id });
  }
  if (fold.promotedAt !== null) return { kind: "card" };
  // Once its storm is over, an incident that needs a person gets its card (the chat budget paces it).
  const over = deservesOwnCard(incident) && (await getStorm(deps.db, fold.stormId))?.endedAt != null;
  if (deservesOwnCard(incident) && (over || (await deps.gate.promote(chatId, incident.id)))) {
    await markPromoted(deps.db, incident.id, chatId);
    // the summary counts it still, and now says it has its own card
    await deps.refresh(fold.stormId);
    return { kind: "card" };
  }
  await deps.refresh(fold.stormId);
  return { kind: "folded", stormId: fold.stormId };
}

export interface SyncStormDeps {
  db: Queryable;
  gate: StormGate;
  notices: ChatNotices;
  budget?: Pick<ChatBudget, "take">;
}

export type StormSyncResult =
  | { outcome: "missing" }
  | { outcome: "deferred"; waitMs: number; ended: boolean; endedNow?: string[] }
  | { outcome: "posted" | "edited" | "reposted" | "unchanged"; ended: boolean; endedNow?: string[] };

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
  const save = (messageId: number) => saveStormMessage(deps.db, { stormId, messageId, renderedHash: hash });
  if (storm.messageId === null) {
    await save((await deps.notices.postStorm(storm.chatId, summary)).messageId);
    return result({ outcome: "posted", ended });
  }
  if ((await deps.notices.updateStorm(storm.chatId, storm.messageId, summary)) === "updated") {
    await save(storm.messageId);
    return result({ outcome: "edited", ended });
  }
  await save((await deps.notices.postStorm(storm.chatId, summary)).messageId);
  return result({ outcome: "reposted", ended });
}

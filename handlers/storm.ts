// Storm-proof delivery. Telegram allows a group about 20 messages a minute (edits included); an
// alert storm would queue cards for many minutes. Two shared counters in Redis keep every process
// inside that:
//  - ChatBudget: a sliding 60 s window of the bot's own sends per chat (posts and edits); a send
//    that does not fit waits (its job is delayed and re-reads the incident then, which coalesces
//    edits) instead of piling up in the client-side throttler.
//  - StormGate: new incidents per chat per STORM_WINDOW_SECONDS. Beyond STORM_THRESHOLD a new
//    incident does not get its own card: it is folded into the chat's one storm summary card,
//    which is edited at most once per refresh interval. P0 incidents and incidents waiting for an
//    approval still get their own card, a few per window (promotions), because those are what a
//    person must see and press. When fewer than the threshold arrive per window, the storm card is
//    finalised and individual cards resume. Nothing is dropped: every incident is in PostgreSQL.
import { createHash, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
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

type ScriptRedis = Pick<Redis, "eval">;

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS[1] sliding-window zset; ARGV: window ms, limit, member. 0 = taken, else ms until a slot frees.
const WINDOW_TAKE = `${NOW_MS}
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)`;

// KEYS[1] arrivals zset, KEYS[2] "already given a card" flag; ARGV: window ms, threshold, member, flag ttl.
// Returns -1 when the incident already got its decision "card", else how many others arrived in the window.
const ARRIVE = `if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
${NOW_MS}
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local others = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then others = others - 1 end
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
if others < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], '1', 'PX', ARGV[4]) end
return others`;

// KEYS[1] arrivals zset; ARGV: window ms. How many arrived in the window.
const COUNT = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
return redis.call('ZCARD', KEYS[1])`;

const MINUTE_MS = 60_000;

/** A private chat (a user id) versus a group, supergroup or channel (negative id or @name). */
function isPrivateChat(chatId: string): boolean {
  return /^\d+$/.test(chatId);
}

export interface ChatBudgetLimits {
  /** Sends (posts + edits) per 60 s to a group; Telegram's limit is 20, keep room for replies. */
  groupPerMinute: number;
  /** Sends per 60 s to a private chat; Telegram's limit is about one a second. */
  privatePerMinute: number;
}

export const TELEGRAM_BUDGET: ChatBudgetLimits = { groupPerMinute: 18, privatePerMinute: 60 };

/** Slots per window only urgent sends may take. */
const URGENT_RESERVE = 4;

/** The bot's own sends per chat, shared by every process through Redis. */
export class ChatBudget {
  constructor(
    private readonly redis: ScriptRedis,
    private readonly prefix: string,
    private readonly limits: ChatBudgetLimits = TELEGRAM_BUDGET,
  ) {}

  /**
   * Takes a slot for one send to `chatId`: 0 when taken, else the milliseconds until one frees.
   * "normal" sends (incident cards) leave the last few slots of the window to "urgent" ones (the
   * storm card, escalations), so a storm's own cards and edits cannot starve the summary.
   */
  async take(chatId: string, priority: "normal" | "urgent" = "normal"): Promise<number> {
    const full = isPrivateChat(chatId) ? this.limits.privatePerMinute : this.limits.groupPerMinute;
    const limit = priority === "urgent" ? full : Math.max(1, full - URGENT_RESERVE);
    const wait = await this.redis.eval(
      WINDOW_TAKE,
      1,
      `${this.prefix}:budget:${chatId}`,
      MINUTE_MS,
      limit,
      randomUUID(),
    );
    return Number(wait);
  }
}

export interface StormSettings {
  threshold: number;
  windowSeconds: number;
}

/** How many folded incidents per window may still get their own card (P0, awaiting approval). */
export function promotionLimit(threshold: number): number {
  return Math.max(1, Math.ceil(threshold / 2));
}

/** New incidents per chat, shared by every process through Redis. */
export class StormGate {
  constructor(
    private readonly redis: ScriptRedis,
    private readonly prefix: string,
    readonly settings: StormSettings,
  ) {}

  private get windowMs(): number {
    return this.settings.windowSeconds * 1000;
  }

  /** Counts the incident's arrival in the chat (once); true when it gets its own card. */
  async arrive(chatId: string, incidentId: string): Promise<boolean> {
    const others = await this.redis.eval(
      ARRIVE,
      2,
      `${this.prefix}:storm:arrivals:${chatId}`,
      `${this.prefix}:storm:card:${chatId}:${incidentId}`,
      this.windowMs,
      this.settings.threshold,
      incidentId,
      24 * 3_600_000,
    );
    return Number(others) < this.settings.threshold;
  }

  /** New incidents in the chat during the last window. */
  async arrivals(chatId: string): Promise<number> {
    return Number(await this.redis.eval(COUNT, 1, `${this.prefix}:storm:arrivals:${chatId}`, this.windowMs));
  }

  /** Takes one of the window's promotions for a folded incident; false when they are used up. */
  async promote(chatId: string, incidentId: string): Promise<boolean> {
    const wait = await this.redis.eval(
      WINDOW_TAKE,
      1,
      `${this.prefix}:storm:promoted:${chatId}`,
      this.windowMs,
      promotionLimit(this.settings.threshold),
      incidentId,
    );
    return Number(wait) === 0;
  }
}

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

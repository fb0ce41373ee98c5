// Use case: where a message can go now, and the one path every message to a chat takes. Telegram
// moves a group to a new id when it becomes a supergroup, a bot can be removed from a chat or
// pointed at one that does not exist, and a forum topic can be deleted; the routes
// (TELEGRAM_CHAT_ID, TELEGRAM_ROUTES) are configuration and keep the old ids. So every send asks
// here first: configured ids are followed through the aliases migrations left (db/chats.ts, kept
// across restarts), a topic known to be gone is replaced by its chat's General topic, and a chat
// known to be unreachable by the default chat while that one works. A refusal met while sending
// (cards, storm cards, escalations, reminders alike) is read here too (`afterRefusal`). It is
// recorded once per chat or topic: the log says it once, /api/v1/health names it, and a counter per
// chat and reason counts every refused send. Places are chat ids or "<chat id>/<thread id>"
// (domain/chat-place.ts).
import type { Logger } from "pino";
import {
  chatAliases,
  chatFailures,
  clearChatFailure,
  recordChatFailure,
  recordChatMigration,
} from "../db/chats.js";
import type { Queryable } from "../db/pool.js";
import type { ChatRefusal, UnreachableReason } from "../domain/card.js";
import { chatOf, placeOf, topicOf } from "../domain/chat-place.js";

export interface ChatDeliveryDeps {
  db: Queryable;
  /** TELEGRAM_CHAT_ID (a place: it may name a topic): where routed cards go while their own chat cannot be reached. */
  defaultChatId: string;
  /** Shows an incident's card again (the notify queue); used after a migration. */
  enqueueCard: (incidentId: string) => Promise<unknown>;
  /** Brings a storm's summary card up to date (the storm queue); used after a migration. */
  refreshStorm?: (stormId: number) => Promise<unknown>;
  /** Counts one refused send (chatops_telegram_delivery_failures_total). */
  countFailure?: (chatId: string, reason: UnreachableReason) => void;
  logger?: Pick<Logger, "warn" | "info">;
  /** After this long an unreachable chat is tried again (default 10 min); a success clears it. */
  retryUnreachableAfterMs?: number;
}

export interface DeliveryPlan {
  /** Where to send, in route order, one place per chat. */
  targets: string[];
  /** The default chat (as it is now called) when it is reachable: where a refused send goes instead. */
  fallback: string | undefined;
  /** Chats and topics that failed a while ago and are tried again: a success there clears the failure. */
  retrying: ReadonlySet<string>;
}

const RETRY_UNREACHABLE_AFTER_MS = 10 * 60_000;

/**
 * The places to send to for `routed` (configured places), followed and with fallbacks applied: a
 * place in an unreachable chat becomes the default chat, a gone topic its chat's General topic.
 * One place per chat: two routes naming topics of one chat show the card once, in the first.
 */
export async function planDelivery(deps: ChatDeliveryDeps, routed: readonly string[]): Promise<DeliveryPlan> {
  const [aliases, failures] = await Promise.all([
    chatAliases(deps.db, [...routed, deps.defaultChatId].map(chatOf)),
    chatFailures(deps.db),
  ]);
  const current = (place: string) => {
    const { chatId, threadId } = topicOf(place);
    return placeOf(aliases.get(chatId) ?? chatId, threadId);
  };
  const retryAfter = deps.retryUnreachableAfterMs ?? RETRY_UNREACHABLE_AFTER_MS;
  const now = Date.now();
  const failing = new Set(failures.filter((f) => now - f.lastAt.getTime() < retryAfter).map((f) => f.chatId));
  const retrying = new Set(failures.map((f) => f.chatId).filter((chatId) => !failing.has(chatId)));
  /** The place itself, its chat's General when only its topic is gone, undefined when the chat is. */
  const reachable = (place: string): string | undefined => {
    if (failing.has(chatOf(place))) return undefined;
    return failing.has(place) ? chatOf(place) : place;
  };
  const fallback = reachable(current(deps.defaultChatId));
  const targets = new Map<string, string>();
  for (const place of routed.map(current)) {
    const target = reachable(place) ?? fallback;
    if (target !== undefined && !targets.has(chatOf(target))) targets.set(chatOf(target), target);
  }
  return { targets: [...targets.values()], fallback, retrying };
}

/**
 * Reads a refusal met sending to `place`, and says where the message goes instead, if anywhere:
 * a group that became a supergroup is followed (the message goes there), a gone topic is recorded
 * and its chat's General topic takes the message, an unreachable chat is recorded and `fallback`
 * (the default chat) takes it unless that is the same chat.
 */
export async function afterRefusal(
  deps: ChatDeliveryDeps,
  place: string,
  refusal: ChatRefusal,
  fallback: string | undefined,
): Promise<string | undefined> {
  const { chatId, threadId } = topicOf(place);
  if (refusal.kind === "migrated") {
    await followChatMigration(deps, chatId, refusal.toChatId);
    return placeOf(refusal.toChatId, threadId);
  }
  if (refusal.reason === "topic_not_found") {
    await chatUnreachable(deps, place, refusal);
    return threadId === undefined ? undefined : chatId;
  }
  await chatUnreachable(deps, chatId, refusal);
  return fallback === undefined || chatOf(fallback) === chatId ? undefined : fallback;
}

/**
 * What `show` did for one place: "sent" when the chat took a message, "skipped" when none was
 * sent, or the refusal met, with `at` the place it was met when that was not the one asked for
 * (an escalation replies in the card's topic).
 */
export type ShowResult = "sent" | "skipped" | (ChatRefusal & { at?: string });

/**
 * The one delivery path: runs `show` for each planned place, and for the place a refusal sends the
 * message to instead (`afterRefusal`), each place once. A chat tried again after a failure is
 * cleared when it takes a message. Without `deps` (no delivery wiring) a refusal is an error.
 * Returns the places that could not be reached (a migration followed is not one).
 */
export async function deliverEach(
  deps: ChatDeliveryDeps | undefined,
  plan: DeliveryPlan,
  show: (place: string) => Promise<ShowResult>,
): Promise<{ unreachable: string[] }> {
  const unreachable: string[] = [];
  const queue = [...plan.targets];
  const visited = new Set<string>();
  for (let place = queue.shift(); place !== undefined; place = queue.shift()) {
    if (visited.has(place)) continue;
    visited.add(place);
    const shown = await show(place);
    if (shown === "skipped") continue;
    if (shown === "sent") {
      if (deps === undefined) continue;
      for (const failed of new Set([place, chatOf(place)]))
        if (plan.retrying.has(failed)) await chatReachable(deps, failed);
      continue;
    }
    if (deps === undefined)
      throw new Error(`Telegram chat ${place} refused the message: ${JSON.stringify(shown)}`);
    const at = shown.at ?? place;
    const instead = await afterRefusal(deps, at, shown, plan.fallback);
    if (shown.kind === "unreachable") unreachable.push(at);
    // a followed migration is tried first, a fallback after the planned places
    if (instead !== undefined && shown.kind === "migrated") queue.unshift(instead);
    else if (instead !== undefined) queue.push(instead);
  }
  return { unreachable };
}

/**
 * Follows a group that became a supergroup: records the alias and forgets the open incidents'
 * cards in the old chat, then queues each of them to be shown again in the new one. Safe to
 * call again (the service message and a refused send may both report the same move).
 */
export async function followChatMigration(
  deps: ChatDeliveryDeps,
  from: string,
  to: string,
): Promise<{ incidentIds: string[] }> {
  const { firstSeen, incidentIds, stormIds } = await recordChatMigration(deps.db, from, to);
  if (firstSeen) {
    deps.logger?.info(
      { chatId: from, newChatId: to, incidents: incidentIds.length },
      "Telegram chat became a supergroup; cards follow it to the new id",
    );
  }
  for (const incidentId of incidentIds) await deps.enqueueCard(incidentId);
  for (const stormId of stormIds) await deps.refreshStorm?.(stormId);
  return { incidentIds };
}

/** Records a chat (or a forum topic, as its place) the bot cannot write to; logs it the first time only. */
export async function chatUnreachable(
  deps: ChatDeliveryDeps,
  chatId: string,
  refusal: Extract<ChatRefusal, { kind: "unreachable" }>,
): Promise<void> {
  deps.countFailure?.(chatId, refusal.reason);
  const { first } = await recordChatFailure(deps.db, {
    chatId,
    reason: refusal.reason,
    description: refusal.description,
  });
  if (!first) return;
  const { chatId: defaultChat, threadId } = topicOf(deps.defaultChatId);
  const home = placeOf((await chatAliases(deps.db, [defaultChat])).get(defaultChat) ?? defaultChat, threadId);
  deps.logger?.warn(
    { chatId, reason: refusal.reason, description: refusal.description },
    refusal.reason === "topic_not_found"
      ? `Telegram topic unreachable: its cards go to the General topic of ${chatOf(chatId)} meanwhile`
      : chatOf(home) === chatId
        ? "Telegram chat unreachable: cards cannot be delivered until the bot is back in it"
        : `Telegram chat unreachable: its cards go to the default chat ${home} meanwhile`,
  );
}

/** Clears a chat's failure (the bot is back in it, or a send worked); logs the recovery once. */
export async function chatReachable(deps: ChatDeliveryDeps, chatId: string): Promise<void> {
  if (await clearChatFailure(deps.db, chatId)) {
    deps.logger?.info({ chatId }, "Telegram chat reachable again");
  }
}

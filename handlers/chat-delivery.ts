// Use case: where a card can go now. Telegram moves a group to a new id when it becomes a
// supergroup, and a bot can be removed from a chat or pointed at one that does not exist; the
// routes (TELEGRAM_CHAT_ID, TELEGRAM_ROUTES) are configuration and keep the old ids. So every
// send asks here first: configured ids are followed through the aliases migrations left
// (db/chats.ts, kept across restarts), and a chat known to be unreachable is replaced by the
// default chat while that one works. A refusal is recorded once per chat: the log says it once,
// /api/v1/health names the chat, and a counter per chat and reason counts every refused send.
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

export interface ChatDeliveryDeps {
  db: Queryable;
  /** TELEGRAM_CHAT_ID: where routed cards go while their own chat cannot be reached. */
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
  /** Where to send, in route order, each once. */
  targets: string[];
  /** The default chat (as it is now called) when it is reachable: where a refused send goes instead. */
  fallback: string | undefined;
  /** Chats that failed a while ago and are tried again: a success there clears the failure. */
  retrying: ReadonlySet<string>;
}

const RETRY_UNREACHABLE_AFTER_MS = 10 * 60_000;

/** The chats to send to for `routed` (configured ids), followed and with fallbacks applied. */
export async function planDelivery(deps: ChatDeliveryDeps, routed: readonly string[]): Promise<DeliveryPlan> {
  const [aliases, failures] = await Promise.all([
    chatAliases(deps.db, [...routed, deps.defaultChatId]),
    chatFailures(deps.db),
  ]);
  const current = (chatId: string) => aliases.get(chatId) ?? chatId;
  const retryAfter = deps.retryUnreachableAfterMs ?? RETRY_UNREACHABLE_AFTER_MS;
  const now = Date.now();
  const failing = new Set(failures.filter((f) => now - f.lastAt.getTime() < retryAfter).map((f) => f.chatId));
  const retrying = new Set(failures.map((f) => f.chatId).filter((chatId) => !failing.has(chatId)));
  const home = current(deps.defaultChatId);
  const fallback = failing.has(home) ? undefined : home;
  const targets = routed.map(current).flatMap((chatId) => {
    if (!failing.has(chatId)) return [chatId];
    return fallback === undefined ? [] : [fallback];
  });
  return { targets: [...new Set(targets)], fallback, retrying };
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

/** Records a chat the bot cannot write to; logs it the first time only. */
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
  const home =
    (await chatAliases(deps.db, [deps.defaultChatId])).get(deps.defaultChatId) ?? deps.defaultChatId;
  deps.logger?.warn(
    { chatId, reason: refusal.reason, description: refusal.description },
    home === chatId
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

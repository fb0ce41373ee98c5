// Use case: make the chat show the incident as it is now. Posts the card once, then edits that
// same message; an unchanged card is not sent again. Callers serialize per incident. In an alert
// storm a new incident may be folded into the chat's storm card instead (handlers/storm.ts), and a
// send beyond the chat's flood budget is deferred: the caller retries later with the state of then.
import { createHash } from "node:crypto";
import { getIncident, listEvents, saveTelegramMessage, telegramMessages } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import { type Incident } from "../domain/incident.js";
import { latestAction } from "../db/actions.js";
import { latestAnalysis } from "../db/analyses.js";
import { activeSilenceMatching } from "../db/silences.js";
import { buildIncidentCard } from "./build-incident-card.js";
import type { IncidentCard, Notifier, ServiceFacts } from "../domain/card.js";
import { placeIncident, type StormDeps } from "./storm.js";
import { type ChatBudget } from "../kv/chat-budget.js";

export interface SyncCardDeps {
  db: Queryable;
  notifier: Notifier;
  /** Owner, SLO and links from the service registry, when one is loaded. */
  serviceFacts?: (incident: Incident) => ServiceFacts | undefined;
  /** Where cards go: handlers/route-chats.ts (by severity or namespace, else the default chat). */
  chatIds: (incident: Incident) => string[];
  /** Storm folding (handlers/storm.ts); without it every incident gets its own card. */
  storm?: StormDeps;
  /** Why an action cannot run in this installation (no executor configured), if it cannot. */
  cannotRun?: (action: string) => string | undefined;
  /** The bot's flood budget per chat; without it every send goes out at once. */
  budget?: Pick<ChatBudget, "take">;
  /** BOT_TIMEZONE, for times the card's texts carry; default UTC. */
  timeZone?: string;
}

/** "folded": shown on a storm summary card; "deferred": the chat's flood budget is spent, try later. */
export type SyncOutcome =
  "posted" | "edited" | "reposted" | "unchanged" | "folded" | "deferred" | "missing" | "suppressed";

export function hashCard(card: IncidentCard): string {
  return createHash("sha256").update(JSON.stringify(card)).digest("hex");
}

export async function syncIncidentCard(
  deps: SyncCardDeps,
  incidentId: string,
): Promise<{ outcome: SyncOutcome; version?: number; retryInMs?: number }> {
  const incident = await getIncident(deps.db, incidentId);
  if (incident === undefined) return { outcome: "missing" };
  const shown = await telegramMessages(deps.db, incidentId);
  // "suppressed": a card never posted stays unposted while an active silence matches the incident.
  if (shown.length === 0 && (await activeSilenceMatching(deps.db, incident.labels)) !== undefined) {
    return { outcome: "suppressed", version: incident.version };
  }
  const [events, analysis, pending] = await Promise.all([
    listEvents(deps.db, incidentId),
    latestAnalysis(deps.db, incidentId),
    latestAction(deps.db, incidentId),
  ]);
  const card = buildIncidentCard(
    incident,
    events,
    analysis,
    deps.serviceFacts?.(incident),
    pending?.status === "pending" ? pending.id : undefined,
    pending?.status === "pending" ? deps.cannotRun?.(pending.action) : undefined,
    deps.timeZone,
  );
  const hash = hashCard(card);
  const outcomes: SyncOutcome[] = [];
  let retryInMs: number | undefined;
  /** Takes a slot of the chat's budget; false (and the wait noted) when it is spent. */
  const slot = async (chatId: string, priority: "normal" | "urgent" = "normal"): Promise<boolean> => {
    const wait = (await deps.budget?.take(chatId, priority)) ?? 0;
    if (wait === 0) return true;
    retryInMs = Math.min(retryInMs ?? wait, wait);
    outcomes.push("deferred");
    return false;
  };
  for (const chatId of deps.chatIds(incident)) {
    const message = shown.find((row) => row.chatId === chatId);
    const save = (messageId: number) =>
      saveTelegramMessage(deps.db, {
        incidentId,
        chatId,
        messageId,
        renderedHash: hash,
        renderedVersion: incident.version,
      });
    if (message === undefined) {
      if (deps.storm !== undefined && (await placeIncident(deps.storm, chatId, incident)).kind === "folded") {
        outcomes.push("folded");
      } else if (await slot(chatId, incident.severity === "P0" ? "urgent" : "normal")) {
        // a new P0 card may use the slots kept for urgent sends
        await save((await deps.notifier.post(chatId, card)).messageId);
        outcomes.push("posted");
      }
    } else if (message.renderedHash === hash) {
      outcomes.push("unchanged");
    } else if (!(await slot(chatId))) {
      continue;
    } else if ((await deps.notifier.update(chatId, message.messageId, card)) === "updated") {
      await save(message.messageId);
      outcomes.push("edited");
    } else if (await slot(chatId)) {
      await save((await deps.notifier.post(chatId, card)).messageId);
      outcomes.push("reposted");
    }
  }
  const outcome =
    (["posted", "reposted", "edited", "deferred", "folded"] as const).find((kind) =>
      outcomes.includes(kind),
    ) ?? "unchanged";
  return { outcome, version: incident.version, ...(retryInMs === undefined ? {} : { retryInMs }) };
}

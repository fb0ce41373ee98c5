// Use case: make the chat show the incident as it is now. Posts the card once, then edits that
// same message; an unchanged card is not sent again. Callers serialize per incident.
import { createHash } from "node:crypto";
import {
  getIncident,
  listEvents,
  saveTelegramMessage,
  telegramMessages,
  type Incident,
  type Queryable,
} from "../db/incidents.js";
import { latestAnalysis } from "../db/analyses.js";
import { buildIncidentCard, type ServiceFacts } from "./build-incident-card.js";
import type { IncidentCard } from "./incident-card.js";

export interface Notifier {
  post(chatId: string, card: IncidentCard): Promise<{ messageId: number }>;
  /** "gone" when the message no longer exists in the chat (someone deleted it). */
  update(chatId: string, messageId: number, card: IncidentCard): Promise<"updated" | "gone">;
}

export interface SyncCardDeps {
  db: Queryable;
  notifier: Notifier;
  /** Owner, SLO and links from the service registry, when one is loaded. */
  serviceFacts?: (incident: Incident) => ServiceFacts | undefined;
  /** Where cards go (routing by severity or namespace comes later). */
  chatIds: (card: IncidentCard) => string[];
}

export type SyncOutcome = "posted" | "edited" | "reposted" | "unchanged" | "missing";

export function hashCard(card: IncidentCard): string {
  return createHash("sha256").update(JSON.stringify(card)).digest("hex");
}

export async function syncIncidentCard(
  deps: SyncCardDeps,
  incidentId: string,
): Promise<{ outcome: SyncOutcome; version?: number }> {
  const incident = await getIncident(deps.db, incidentId);
  if (incident === undefined) return { outcome: "missing" };
  const shown = await telegramMessages(deps.db, incidentId);
  const [events, analysis] = await Promise.all([
    listEvents(deps.db, incidentId),
    latestAnalysis(deps.db, incidentId),
  ]);
  const card = buildIncidentCard(incident, events, analysis, deps.serviceFacts?.(incident));
  const hash = hashCard(card);
  const outcomes: SyncOutcome[] = [];
  for (const chatId of deps.chatIds(card)) {
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
      await save((await deps.notifier.post(chatId, card)).messageId);
      outcomes.push("posted");
    } else if (message.renderedHash === hash) {
      outcomes.push("unchanged");
    } else if ((await deps.notifier.update(chatId, message.messageId, card)) === "updated") {
      await save(message.messageId);
      outcomes.push("edited");
    } else {
      await save((await deps.notifier.post(chatId, card)).messageId);
      outcomes.push("reposted");
    }
  }
  const outcome =
    (["posted", "reposted", "edited"] as const).find((kind) => outcomes.includes(kind)) ?? "unchanged";
  return { outcome, version: incident.version };
}

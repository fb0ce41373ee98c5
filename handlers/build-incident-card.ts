// Builds the neutral card from what is stored about an incident.
import { packCallbackData } from "../bot/callback-data/callback-data.js";
import type { Incident, IncidentEvent } from "../db/incidents.js";
import { CARD_VERBS, type CardHistoryEntry, type IncidentCard } from "./incident-card.js";

/** Timeline kinds worth a line on the card; repeats show as the occurrence count instead. */
const HISTORY_TEXT: Record<string, (event: IncidentEvent) => string> = {
  resolved: (event) => `✅ resolved (${typeof event.detail.by === "string" ? event.detail.by : event.actor})`,
  reopened: () => "🔁 fired again after resolving",
};

export function buildIncidentCard(incident: Incident, events: readonly IncidentEvent[]): IncidentCard {
  const history: CardHistoryEntry[] = events.flatMap((event) => {
    const text = HISTORY_TEXT[event.kind];
    return text === undefined ? [] : [{ at: event.at, text: text(event) }];
  });
  const decidable = incident.status !== "resolved";
  return {
    incidentId: incident.id,
    severity: incident.severity,
    status: incident.status,
    source: incident.source,
    service: incident.service ?? "unknown",
    title: incident.title,
    occurrences: incident.occurrences,
    firstSeenAt: incident.firstSeenAt,
    lastSeenAt: incident.lastSeenAt,
    links: incident.links,
    history,
    buttons: decidable
      ? CARD_VERBS.map((verb) => ({ verb, callbackData: packCallbackData({ verb, id: incident.id }) }))
      : [],
    ...(incident.summary === null ? {} : { summary: incident.summary }),
    ...(incident.target === null ? {} : { target: incident.target }),
    ...(incident.resolvedAt === null ? {} : { resolvedAt: incident.resolvedAt }),
  };
}

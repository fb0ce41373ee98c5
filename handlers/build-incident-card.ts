// Builds the neutral card from what is stored about an incident.
import { packCallbackData } from "../bot/callback-data/callback-data.js";
import type { Analysis } from "../ai/analysis.js";
import type { Incident, IncidentEvent } from "../db/incidents.js";
import type { Decision } from "../executors/decide.js";
import {
  CARD_VERBS,
  type CardAnalysis,
  type CardHistoryEntry,
  type CardLink,
  type IncidentCard,
} from "./incident-card.js";

/** Timeline kinds worth a line on the card; repeats show as the occurrence count instead. */
const HISTORY_TEXT: Record<string, (event: IncidentEvent) => string> = {
  resolved: (event) => `✅ resolved (${typeof event.detail.by === "string" ? event.detail.by : event.actor})`,
  reopened: () => "🔁 fired again after resolving",
  approved: (event) => `✅ ${String(event.detail.action)} approved by ${event.actor}`,
  executed: (event) => `🔧 ${String(event.detail.action)} executed`,
  dry_run: (event) => `🧪 ${String(event.detail.action)} dry run: nothing changed`,
  verified: (event) => `🩺 verified: ${String(event.detail.detail)}`,
  execution_failed: (event) => `❌ ${String(event.detail.action)} failed: ${String(event.detail.error)}`,
};

function downtime(seconds: number): string {
  if (seconds === 0) return "none expected";
  if (seconds < 120) return `~${seconds}s`;
  return seconds < 7_200 ? `~${Math.round(seconds / 60)} min` : `~${Math.round(seconds / 3_600)} h`;
}

function target(analysis: Analysis): string {
  const { kind, namespace, name } = analysis.target;
  return `${kind} ${namespace === undefined ? "" : `${namespace}/`}${name}`;
}

/** The guardrails' one-line verdict; nothing runs by itself until the executors exist. */
function decisionLine(decision: Decision | null): string | undefined {
  if (decision === null) return undefined;
  return decision.mode === "auto"
    ? `${decision.summary} · not run: executors are not built yet`
    : decision.summary;
}

export function cardAnalysis(analysis: Analysis, decision: Decision | null = null): CardAnalysis {
  const line = decisionLine(decision);
  const tokens = analysis.tokens.input + analysis.tokens.output;
  return {
    engine:
      analysis.engine === "offline"
        ? `offline analyzer (${analysis.model})`
        : `${analysis.provider}/${analysis.model}`,
    ownerTeam: analysis.owner_team,
    confidence: analysis.confidence,
    cause: analysis.cause,
    suggestedAction: `${analysis.suggested_action} · ${target(analysis)}`,
    estimatedDowntime: downtime(analysis.blast_radius.estimated_downtime_seconds),
    ...(line === undefined ? {} : { decision: line }),
    ...(analysis.engine === "llm" ? { tokens, costUsd: analysis.cost_usd } : {}),
  };
}

/** What the service registry says about the incident's service. */
export interface ServiceFacts {
  ownerTeam?: string;
  slo?: string;
  links: CardLink[];
}

export function buildIncidentCard(
  incident: Incident,
  events: readonly IncidentEvent[],
  stored?: { analysis: Analysis; decision: Decision | null },
  service?: ServiceFacts,
): IncidentCard {
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
    // the alert's own links first, then the registry's dashboards and runbooks
    links: [...incident.links, ...(service?.links ?? [])].filter(
      (link, index, all) => all.findIndex((other) => other.url === link.url) === index,
    ),
    history,
    buttons: decidable
      ? CARD_VERBS.map((verb) => ({ verb, callbackData: packCallbackData({ verb, id: incident.id }) }))
      : [],
    ...(incident.summary === null ? {} : { summary: incident.summary }),
    ...(incident.target === null ? {} : { target: incident.target }),
    ...(incident.resolvedAt === null ? {} : { resolvedAt: incident.resolvedAt }),
    ...(stored === undefined ? {} : { analysis: cardAnalysis(stored.analysis, stored.decision) }),
    ...(service?.ownerTeam === undefined
      ? {}
      : { owner: { team: service.ownerTeam, ...(service.slo === undefined ? {} : { slo: service.slo }) } }),
  };
}

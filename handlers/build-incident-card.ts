// Builds the neutral card from what is stored about an incident.
import type { Analysis } from "../domain/analysis.js";
import { clockTime } from "../domain/time.js";
import type { Decision } from "../domain/decide.js";
import { type Incident, type IncidentEvent } from "../domain/incident.js";
import {
  CARD_VERBS,
  type CardAnalysis,
  type CardHistoryEntry,
  type IncidentCard,
  type ServiceFacts,
  VERBS_WITH_ACTION,
} from "../domain/card.js";

/** Timeline kinds worth a line on the card; repeats show as the occurrence count instead. */
const HISTORY_TEXT: Record<string, (event: IncidentEvent, timeZone: string) => string> = {
  taken: (event) =>
    typeof event.detail.from === "string"
      ? `👀 ${event.actor} took over from ${event.detail.from}`
      : `👀 ${event.actor} is on it`,
  resolved: (event) =>
    typeof event.detail.resolution === "string"
      ? `✅ closed: ${event.detail.resolution}`
      : `✅ resolved (${typeof event.detail.by === "string" ? event.detail.by : event.actor})`,
  reopened: () => "🔁 fired again after resolving",
  approved: (event) => `✅ ${String(event.detail.action)} approved by ${event.actor}`,
  executed: (event) => `🔧 ${String(event.detail.action)} executed`,
  dry_run: (event) => `🧪 ${String(event.detail.action)} dry run: nothing changed`,
  verified: (event) => `🩺 verified: ${String(event.detail.detail)}`,
  execution_failed: (event) => `❌ ${String(event.detail.action)} failed: ${String(event.detail.error)}`,
  // the target said no (RBAC, a disruption budget): nothing ran, nothing failed
  execution_refused: (event) => `⛔ ${String(event.detail.error)}`,
  analysis_failed: (event) => `⚠️ analysis failed: ${String(event.detail.error)}`,
  rolled_back: (event) =>
    `↩️ ${String(event.detail.namespace)}/${String(event.detail.deployment)} rolled back automatically${
      typeof event.detail.toRevision === "number" ? ` to revision ${event.detail.toRevision}` : ""
    }`,
  rollback_failed: (event) => `↩️ automatic rollback not done: ${String(event.detail.error)}`,
  rejected: (event) =>
    `❌ ${typeof event.detail.action === "string" ? event.detail.action : "analysis"} rejected by ${event.actor}: “${shorten(typeof event.detail.reason === "string" ? event.detail.reason : "", 80)}”`,
  snoozed: (event, zone) => `⏰ snoozed by ${event.actor} until ${until(event, zone)}`,
  snooze_ended: () => "⏰ snooze over, still open",
  silenced: (event, zone) =>
    `🔕 silenced by ${event.actor} until ${until(event, zone)}${event.detail.local === true ? " (bot only)" : ""}`,
  escalated: (event) =>
    event.detail.reason === "repair_failed"
      ? "⏫ escalated: the repair failed"
      : `⏫ escalated: unacknowledged for ${Number(event.detail.afterSeconds) < 120 ? `${Number(event.detail.afterSeconds)} s` : `${Math.round(Number(event.detail.afterSeconds) / 60)} min`}`,
};

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * "14:05 UTC" ("22:05 GMT+8" in Asia/Taipei; with the date when not the event's day there) from an
 * ISO timestamp in an event's detail.
 */
function until(event: IncidentEvent, timeZone: string): string {
  const value = event.detail.until;
  const at = typeof value === "string" ? new Date(value) : undefined;
  return at === undefined || Number.isNaN(at.getTime()) ? "?" : clockTime(at, timeZone, event.at);
}

function downtime(seconds: number): string {
  if (seconds === 0) return "none expected";
  if (seconds < 120) return `~${seconds}s`;
  return seconds < 7_200 ? `~${Math.round(seconds / 60)} min` : `~${Math.round(seconds / 3_600)} h`;
}

function target(analysis: Analysis): string {
  const { kind, namespace, name } = analysis.target;
  return `${kind} ${namespace === undefined ? "" : `${namespace}/`}${name}`;
}

/** The guardrails' one-line verdict ("auto: …" runs by itself; the timeline shows it running). */
function decisionLine(decision: Decision | null): string | undefined {
  return decision === null ? undefined : decision.summary;
}

export function cardAnalysis(analysis: Analysis, decision: Decision | null = null): CardAnalysis {
  const line = decisionLine(decision);
  const tokens = analysis.tokens.input + analysis.tokens.output;
  return {
    engine:
      analysis.engine === "offline"
        ? `offline analyzer (${analysis.model})`
        : analysis.engine === "human"
          ? "a person's request"
          : `${analysis.provider}/${analysis.model}`,
    ownerTeam: analysis.owner_team,
    confidence: analysis.confidence,
    cause: analysis.cause,
    suggestedAction: `${analysis.suggested_action} · ${target(analysis)}`,
    // the cluster's word (a Recreate rollout) overrides the model's estimate
    estimatedDowntime: decision?.downtime ?? downtime(analysis.blast_radius.estimated_downtime_seconds),
    ...(line === undefined ? {} : { decision: line }),
    ...(analysis.engine === "llm" ? { tokens, costUsd: analysis.cost_usd } : {}),
    ...(analysis.engine === "human" ? { requestedBy: analysis.model } : {}),
  };
}

/** The card's notes about the alert itself (see IncidentCard.notes). */
export function incidentNotes(incident: Incident): string[] {
  const notes: string[] = [];
  if (incident.status === "resolved" && incident.resolution != null)
    notes.push(`Closed, no action needed: ${incident.resolution}`);
  const truncated = incident.truncatedAlerts ?? 0;
  if (truncated > 0)
    notes.push(
      `Alertmanager left ${truncated} alert${truncated === 1 ? "" : "s"} of this group out (truncatedAlerts)`,
    );
  const cut = incident.cut ?? [];
  if (cut.length > 0)
    notes.push(`cut: ${cut.slice(0, 3).join("; ")}${cut.length > 3 ? `; and ${cut.length - 3} more` : ""}`);
  return notes;
}

export function buildIncidentCard(
  incident: Incident,
  events: readonly IncidentEvent[],
  stored?: { analysis: Analysis; decision: Decision | null },
  service?: ServiceFacts,
  /** The proposal waiting for a decision: Approve and Reject name it (see callback-data.ts). */
  pendingActionId?: number,
  /** Why that proposal cannot run in this installation: the card says so and offers no Approve. */
  cannotRun?: string,
  /** BOT_TIMEZONE: the zone of the times written into history texts ("until 22:05 GMT+8"). */
  timeZone = "UTC",
): IncidentCard {
  const history: CardHistoryEntry[] = events.flatMap((event) => {
    const text = HISTORY_TEXT[event.kind];
    return text === undefined ? [] : [{ at: event.at, text: text(event, timeZone) }];
  });
  const decidable = incident.status !== "resolved";
  // who has it now: a reopening clears the acknowledgement, and with it an earlier taking
  const taken = events.findLast((event) => event.kind === "taken" || event.kind === "reopened");
  const failure =
    stored === undefined ? events.findLast((event) => event.kind === "analysis_failed") : undefined;
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
    // Once resolved nothing is left to decide, but the drill-down still tells the story.
    buttons: CARD_VERBS.filter(
      (verb) => (decidable || verb === "details") && (verb !== "approve" || cannotRun === undefined),
    ).map((verb) =>
      pendingActionId !== undefined && VERBS_WITH_ACTION.includes(verb)
        ? { verb, actionId: pendingActionId }
        : { verb },
    ),
    ...(failure === undefined ? {} : { analysisFailed: String(failure.detail.error) }),
    ...(incidentNotes(incident).length === 0 ? {} : { notes: incidentNotes(incident) }),
    ...(taken === undefined || taken.kind !== "taken"
      ? {}
      : {
          takenBy: {
            by: taken.actor,
            at: taken.at,
            ...(typeof taken.detail.from === "string" ? { from: taken.detail.from } : {}),
          },
        }),
    ...(incident.summary === null ? {} : { summary: incident.summary }),
    ...(incident.target === null ? {} : { target: incident.target }),
    ...(incident.resolvedAt === null ? {} : { resolvedAt: incident.resolvedAt }),
    ...(stored === undefined
      ? {}
      : {
          analysis: {
            ...cardAnalysis(stored.analysis, stored.decision),
            ...(cannotRun === undefined ? {} : { cannotRun }),
          },
        }),
    ...(service?.ownerTeam === undefined
      ? {}
      : { owner: { team: service.ownerTeam, ...(service.slo === undefined ? {} : { slo: service.slo }) } }),
  };
}

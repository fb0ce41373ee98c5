// Builds the neutral card from what is stored about an incident.
import type { Analysis } from "../domain/analysis.js";
import { clockTime } from "../domain/time.js";
import {
  DEFAULT_LANGUAGE,
  messagesFor,
  decisionText,
  failureText,
  sayingText,
  type Language,
  type Messages,
} from "../domain/i18n/index.js";
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

/** How the chat writes: its zone (BOT_TIMEZONE), its language (BOT_LANGUAGE) and that language's texts. */
interface ChatStyle {
  timeZone: string;
  language: Language;
  t: Messages;
}

/**
 * A failed action's reason in BOT_LANGUAGE when the bot's own words were kept (`reason`, see
 * FailureReason, RefusalReason); otherwise (older events, upstream text) the recorded English `error`.
 */
function failureOf(event: IncidentEvent, { t, timeZone }: ChatStyle): string {
  return failureText(event.detail.reason, t, timeZone) ?? String(event.detail.error);
}

/**
 * What a verification saw, in BOT_LANGUAGE from the pieces' `said` (handlers/execute-action.ts
 * `recovered`); the recorded English `detail` for an event kept before, or naming a text since removed.
 */
function evidenceText(event: IncidentEvent, { t, timeZone }: ChatStyle): string {
  const said: unknown = event.detail.said;
  const english = String(event.detail.detail);
  if (!Array.isArray(said) || said.length === 0) return english;
  const pieces = said.map((piece: unknown) => sayingText("verifyDetail", piece, t, timeZone));
  return pieces.every((piece) => piece !== undefined) ? pieces.join(t.history.evidenceJoiner) : english;
}

/** Why the analysis failed, in the chat's language when the words were ours; as recorded otherwise. */
function analysisFailureText(event: IncidentEvent, t: Messages): string {
  return sayingText("analysisError", event.detail.said, t) ?? String(event.detail.error);
}

/** Timeline kinds worth a line on the card; repeats show as the occurrence count instead. */
const HISTORY_TEXT: Record<string, (event: IncidentEvent, chat: ChatStyle) => string> = {
  taken: (event, { t }) =>
    typeof event.detail.from === "string"
      ? t.history.tookOver({ who: event.actor, from: event.detail.from })
      : t.history.onIt({ who: event.actor }),
  resolved: (event, { t }) =>
    typeof event.detail.resolution === "string"
      ? t.history.closed({ resolution: event.detail.resolution })
      : t.history.resolved({ who: typeof event.detail.by === "string" ? event.detail.by : event.actor }),
  reopened: (_event, { t }) => t.history.reopened,
  approved: (event, { t }) => t.history.approved({ action: String(event.detail.action), who: event.actor }),
  executed: (event, { t }) => t.history.executed({ action: String(event.detail.action) }),
  dry_run: (event, { t }) => t.history.dryRun({ action: String(event.detail.action) }),
  verified: (event, chat) => chat.t.history.verified({ detail: evidenceText(event, chat) }),
  execution_failed: (event, chat) =>
    chat.t.history.executionFailed({ action: String(event.detail.action), error: failureOf(event, chat) }),
  // the target said no (RBAC, a disruption budget): nothing ran, nothing failed
  execution_refused: (event, chat) => `⛔ ${failureOf(event, chat)}`,
  analysis_failed: (event, { t }) => t.history.analysisFailed({ error: analysisFailureText(event, t) }),
  rolled_back: (event, { t }) =>
    t.history.rolledBack({
      deployment: `${String(event.detail.namespace)}/${String(event.detail.deployment)}`,
      revision: typeof event.detail.toRevision === "number" ? String(event.detail.toRevision) : "",
    }),
  rollback_failed: (event, chat) => chat.t.history.rollbackFailed({ error: failureOf(event, chat) }),
  rejected: (event, { t }) =>
    t.history.rejected({
      what: typeof event.detail.action === "string" ? event.detail.action : t.history.analysis,
      who: event.actor,
      reason: shorten(typeof event.detail.reason === "string" ? event.detail.reason : "", 80),
    }),
  snoozed: (event, { t, timeZone, language }) =>
    t.history.snoozed({ who: event.actor, until: until(event, timeZone, language) }),
  snooze_ended: (_event, { t }) => t.history.snoozeEnded,
  silenced: (event, { t, timeZone, language }) =>
    t.history.silenced({
      who: event.actor,
      until: until(event, timeZone, language),
      local: event.detail.local === true,
    }),
  escalated: (event, { t }) =>
    event.detail.reason === "repair_failed"
      ? t.history.escalatedRepairFailed
      : t.history.escalatedSla({ span: span(Number(event.detail.afterSeconds), t) }),
};

/** "90 s", "5 min": how long an incident went unacknowledged. */
function span(seconds: number, t: Messages): string {
  return seconds < 120
    ? t.common.seconds({ count: seconds })
    : t.common.minutes({ count: Math.round(seconds / 60) });
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * "14:05 UTC" ("22:05 GMT+8" in Asia/Taipei; with the date when not the event's day there) from an
 * ISO timestamp in an event's detail.
 */
function until(event: IncidentEvent, timeZone: string, language: Language): string {
  const value = event.detail.until;
  const at = typeof value === "string" ? new Date(value) : undefined;
  return at === undefined || Number.isNaN(at.getTime()) ? "?" : clockTime(at, timeZone, event.at, language);
}

function downtime(seconds: number, t: Messages): string {
  if (seconds === 0) return t.card.noDowntime;
  const span =
    seconds < 120
      ? t.card.secondsShort({ count: seconds })
      : seconds < 7_200
        ? t.common.minutes({ count: Math.round(seconds / 60) })
        : t.common.hours({ count: Math.round(seconds / 3_600) });
  return t.card.downtimeAbout({ span });
}

function target(analysis: Analysis): string {
  const { kind, namespace, name } = analysis.target;
  return `${kind} ${namespace === undefined ? "" : `${namespace}/`}${name}`;
}

export function cardAnalysis(
  analysis: Analysis,
  decision: Decision | null = null,
  t: Messages = messagesFor(),
): CardAnalysis {
  const line = decision === null ? undefined : decisionText(decision, t);
  const tokens = analysis.tokens.input + analysis.tokens.output;
  return {
    engine:
      analysis.engine === "offline"
        ? t.card.offlineEngine({ model: analysis.model })
        : analysis.engine === "human"
          ? t.card.humanEngine
          : `${analysis.provider}/${analysis.model}`,
    ownerTeam: analysis.owner_team,
    confidence: analysis.confidence,
    cause: analysis.cause,
    suggestedAction: `${analysis.suggested_action} · ${target(analysis)}`,
    // the cluster's word (a Recreate rollout) overrides the model's estimate
    estimatedDowntime: decision?.downtime ?? downtime(analysis.blast_radius.estimated_downtime_seconds, t),
    ...(line === undefined ? {} : { decision: line }),
    ...(analysis.engine === "llm" ? { tokens, costUsd: analysis.cost_usd } : {}),
    ...(analysis.engine === "human" ? { requestedBy: analysis.model } : {}),
  };
}

/** The card's notes about the alert itself (see IncidentCard.notes). */
export function incidentNotes(incident: Incident, t: Messages = messagesFor()): string[] {
  const notes: string[] = [];
  if (incident.status === "resolved" && incident.resolution != null)
    notes.push(t.notes.closedNoAction({ resolution: incident.resolution }));
  const truncated = incident.truncatedAlerts ?? 0;
  if (truncated > 0) notes.push(t.notes.truncatedAlerts({ count: truncated }));
  const cut = incident.cut ?? [];
  if (cut.length > 0) notes.push(t.notes.cut({ fields: cut.slice(0, 3).join("; "), more: cut.length - 3 }));
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
  /** BOT_LANGUAGE: the language of the history, the notes and the engine's name. */
  language: Language = DEFAULT_LANGUAGE,
): IncidentCard {
  const t = messagesFor(language);
  const chat: ChatStyle = { timeZone, language, t };
  const history: CardHistoryEntry[] = events.flatMap((event) => {
    const text = HISTORY_TEXT[event.kind];
    return text === undefined ? [] : [{ at: event.at, text: text(event, chat) }];
  });
  const notes = incidentNotes(incident, t);
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
    ...(failure === undefined ? {} : { analysisFailed: analysisFailureText(failure, t) }),
    ...(notes.length === 0 ? {} : { notes }),
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
            ...cardAnalysis(stored.analysis, stored.decision, t),
            ...(cannotRun === undefined ? {} : { cannotRun }),
          },
        }),
    ...(service?.ownerTeam === undefined
      ? {}
      : { owner: { team: service.ownerTeam, ...(service.slo === undefined ? {} : { slo: service.slo }) } }),
  };
}

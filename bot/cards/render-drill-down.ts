import type {
  DrillDownContent,
  DrillDownResult,
  DrillDownSection,
} from "../../handlers/incident-drill-down.js";
import { SEVERITY_NAMES } from "../../domain/card.js";
import type { SlaClock } from "../../domain/sla.js";
import { clockTime, spanText } from "../../domain/time.js";
import { cut, escapeHtml, fitLines, MAX_MESSAGE_LENGTH } from "./html.js";

// One page of an incident's drill-down as a Telegram HTML message (at most 4096 characters):
// every dynamic string escaped once, long lists cut by whole lines, pod logs by their tail.

export const SECTION_LABELS: Readonly<Record<DrillDownSection, string>> = {
  overview: "📋 Overview",
  timeline: "🕒 Timeline",
  analysis: "🤖 Analysis",
  kube: "📜 Logs & events",
  similar: "🔁 Similar",
  playbooks: "📚 Playbooks",
};

export interface DrillDownOptions {
  /** BOT_TIMEZONE: the zone times are shown in (default UTC). */
  timeZone?: string;
  /** "Today" in that zone: times on another day show their date. */
  now?: Date;
}

type Clock = (at: Date | string) => string;

function makeClock(options: DrillDownOptions): Clock {
  const zone = options.timeZone ?? "UTC";
  const now = options.now ?? new Date();
  return (at) => clockTime(new Date(at), zone, now);
}

/** "⏱ SLA: escalates in 4 min (14:05)", "… escalated 12 min ago", "… acknowledged by @bob 3 min ago". */
export function slaLine(sla: SlaClock, time: Clock): string {
  switch (sla.state) {
    case "resolved":
      return "⏱ SLA: resolved";
    case "running":
      return sla.leftSeconds === 0
        ? `⏱ SLA: escalation due now (${time(sla.dueAt)})`
        : `⏱ SLA: escalates in ${spanText(sla.leftSeconds)} (${time(sla.dueAt)}) unless someone takes it`;
    case "snoozed":
      return `⏱ SLA: held by a snooze until ${time(sla.until)}`;
    case "escalated":
      return `⏱ SLA: escalated ${spanText(sla.sinceSeconds)} ago (${time(sla.at)}), nobody has taken it`;
    case "acknowledged":
      return `⏱ SLA: stopped, acknowledged by ${escapeHtml(cut(sla.by, 60))} ${spanText(sla.sinceSeconds)} ago (${time(sla.at)})${
        sla.escalatedAt === null ? "" : `, after escalating at ${time(sla.escalatedAt)}`
      }`;
  }
}

function compact(detail: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(detail)
    .filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return parts.join(" · ");
}

/** The last lines of `text` whose escaped form fits `budget` characters. */
function escapedTail(text: string, budget: number): string {
  if (budget <= 0) return "";
  let tail = text.slice(-budget);
  while (tail.length > 0 && escapeHtml(tail).length > budget) {
    tail = tail.slice(escapeHtml(tail).length - budget);
  }
  // start on a whole line when a cut happened
  const newline = tail.indexOf("\n");
  if (tail.length < text.length && newline >= 0 && newline < tail.length - 1) tail = tail.slice(newline + 1);
  return escapeHtml(tail);
}

function contentLines(content: DrillDownContent, time: Clock): string[] {
  switch (content.section) {
    case "overview": {
      const i = content.incident;
      const lines = [
        `Status: ${escapeHtml(i.status)} · via ${escapeHtml(i.source)}`,
        `Service: ${escapeHtml(cut(i.service ?? "unknown", 120))}`,
      ];
      if (i.target !== null) {
        const ns = i.target.namespace === undefined ? "" : `${i.target.namespace}/`;
        lines.push(`Target: ${escapeHtml(cut(`${i.target.kind} ${ns}${i.target.name}`, 200))}`);
      }
      lines.push(`Occurrences: ${i.occurrences} · first ${time(i.firstSeenAt)} · last ${time(i.lastSeenAt)}`);
      if (i.summary !== null) lines.push(`Summary: ${escapeHtml(cut(i.summary, 800))}`);
      if (content.sla !== undefined) lines.push(slaLine(content.sla, time));
      if (i.acknowledgedAt !== null)
        lines.push(`Acknowledged by ${escapeHtml(i.acknowledgedBy ?? "?")} at ${time(i.acknowledgedAt)}`);
      if (i.snoozedUntil !== null)
        lines.push(`Snoozed by ${escapeHtml(i.snoozedBy ?? "?")} until ${time(i.snoozedUntil)}`);
      if (i.escalatedAt !== null) lines.push(`Escalated at ${time(i.escalatedAt)}`);
      if (i.resolvedAt !== null) lines.push(`Resolved at ${time(i.resolvedAt)}`);
      const labels = Object.entries(i.labels).slice(0, 20);
      if (labels.length > 0) {
        lines.push("", "<b>Labels</b>");
        for (const [key, value] of labels)
          lines.push(`<code>${escapeHtml(cut(`${key}=${value}`, 200))}</code>`);
      }
      return lines;
    }
    case "timeline":
      return content.events.length === 0
        ? ["No events recorded."]
        : content.events.map((event) => {
            const detail = compact(event.detail);
            return `${time(event.at)} · <b>${escapeHtml(event.kind)}</b> · ${escapeHtml(cut(event.actor, 60))}${
              detail === "" ? "" : `\n   ${escapeHtml(cut(detail, 240))}`
            }`;
          });
    case "analysis": {
      const stored = content.stored;
      if (stored === undefined) return ["No analysis yet."];
      const a = stored.analysis;
      const ns = a.target.namespace === undefined ? "" : `${a.target.namespace}/`;
      const lines = [
        `Engine: ${escapeHtml(a.engine)} · ${escapeHtml(a.provider)}/${escapeHtml(cut(a.model, 80))} · ${time(stored.createdAt)}`,
        `Suggested: <b>${escapeHtml(a.suggested_action)}</b> · ${escapeHtml(cut(`${a.target.kind} ${ns}${a.target.name}`, 200))}`,
        `Confidence ${Math.floor(a.confidence * 100)}% · risk ${escapeHtml(a.risk_level)} · ${a.blast_radius.affected_pods} pod(s), ~${a.blast_radius.estimated_downtime_seconds}s downtime`,
        `Owner: ${escapeHtml(cut(a.owner_team, 64))}`,
        "",
        `<b>Cause</b>: ${escapeHtml(cut(a.cause, 300))}`,
        "",
        "<b>Reasoning</b>",
        escapeHtml(cut(a.reasoning, 2_000)),
      ];
      if (stored.decision !== null) {
        lines.push("", `<b>Decision</b>: ${escapeHtml(stored.decision.mode)}`);
        for (const verdict of stored.decision.verdicts) {
          lines.push(
            `${verdict.ok ? "✅" : "❌"} ${escapeHtml(verdict.rule)} (${verdict.kind}): ${escapeHtml(cut(verdict.detail, 160))}`,
          );
        }
      }
      if (stored.attempts.length > 0) {
        lines.push(
          "",
          `Attempts: ${escapeHtml(cut(stored.attempts.map((t) => `${t.provider}:${t.outcome}`).join(", "), 300))}`,
        );
      }
      return lines;
    }
    case "kube": {
      if (!content.configured)
        return ["Kubernetes is not configured (no KUBECONFIG): no pod logs or events."];
      const lines = [
        content.object === undefined
          ? "The incident names no pod, deployment or statefulset with a namespace."
          : `Object: <code>${escapeHtml(content.object)}</code>`,
        "",
        `<b>Events</b> (${content.events.length})`,
      ];
      for (const event of content.events.slice(0, 10)) {
        lines.push(
          `${event.type === "Warning" ? "⚠️" : "ℹ️"} ${escapeHtml(event.reason)}${event.count === undefined ? "" : ` ×${event.count}`}: ${escapeHtml(cut(event.message, 200))}`,
        );
      }
      for (const note of content.notes) lines.push(`⚠️ ${escapeHtml(cut(note, 200))}`);
      lines.push("", "<b>Pod logs</b> (newest last)");
      if (content.logs === undefined || content.logs.trim() === "") lines.push("No logs.");
      else lines.push(`<pre>${LOGS_PLACEHOLDER}</pre>`);
      return lines;
    }
    case "similar":
      return content.incidents.length === 0
        ? ["No similar past incidents."]
        : content.incidents.map(
            (s) =>
              `${escapeHtml(s.id)} · ${escapeHtml(s.outcome ?? "?")}${s.action === undefined ? "" : ` · ${escapeHtml(s.action)}`}${s.at === undefined ? "" : ` · ${time(s.at)}`}\n   ${escapeHtml(cut(s.title, 160))}`,
          );
    case "playbooks":
      return content.playbooks.length === 0
        ? ["No learned playbooks yet for this kind of incident."]
        : content.playbooks.map(
            (p) =>
              `<b>${escapeHtml(p.action)}</b>: ${p.successes} worked, ${p.failures} failed or rejected\n   <code>${escapeHtml(cut(p.signature, 200))}</code>`,
          );
  }
}

const LOGS_PLACEHOLDER = "\u0000logs\u0000";

/** The section as one Telegram HTML message, at most 4096 characters. */
export function renderDrillDown(
  result: DrillDownResult,
  incidentId: string,
  options: DrillDownOptions = {},
): string {
  if (result.outcome === "missing") return `Incident ${escapeHtml(cut(incidentId, 64))} does not exist.`;
  const { incident, content } = result;
  const header = [
    `🔎 <b>${escapeHtml(incident.id)} · ${SEVERITY_NAMES[incident.severity]}</b> · ${escapeHtml(incident.status)}`,
    `<b>${escapeHtml(cut(incident.title, 160))}</b>`,
    `— ${escapeHtml(SECTION_LABELS[content.section])} —`,
    "",
  ];
  const lines = [...header, ...contentLines(content, makeClock(options))];
  const body = fitLines(lines);
  if (content.section !== "kube" || !content.configured || !body.includes(LOGS_PLACEHOLDER)) return body;
  const budget = MAX_MESSAGE_LENGTH - (body.length - LOGS_PLACEHOLDER.length);
  return body.replace(LOGS_PLACEHOLDER, () => escapedTail(content.logs ?? "", budget) || "…");
}

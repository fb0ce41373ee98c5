import type { DrillDownContent, DrillDownResult } from "../../handlers/incident-drill-down.js";
import type { SlaClock } from "../../domain/sla.js";
import { clockTime, spanText } from "../../domain/time.js";
import { messagesFor, type Language, type Messages } from "../../domain/i18n/index.js";
import { cut, escapeHtml, fitLines, MAX_MESSAGE_LENGTH } from "./html.js";

// One page of an incident's drill-down as a Telegram HTML message (at most 4096 characters):
// every dynamic string escaped once, long lists cut by whole lines, pod logs by their tail; the
// words in BOT_LANGUAGE (domain/i18n/).

export interface DrillDownOptions {
  /** BOT_LANGUAGE: the language of the page (default English). */
  language?: Language;
  /** BOT_TIMEZONE: the zone times are shown in (default UTC). */
  timeZone?: string;
  /** "Today" in that zone: times on another day show their date. */
  now?: Date;
}

type Clock = (at: Date | string) => string;

function makeClock(options: DrillDownOptions): Clock {
  const zone = options.timeZone ?? "UTC";
  const now = options.now ?? new Date();
  return (at) => clockTime(new Date(at), zone, now, options.language);
}

/** "⏱ SLA: escalates in 4 min (14:05)", "… escalated 12 min ago", "… acknowledged by @bob 3 min ago". */
export function slaLine(sla: SlaClock, time: Clock, t: Messages = messagesFor()): string {
  const d = t.drillDown;
  const span = (seconds: number) => spanText(seconds, t.language);
  switch (sla.state) {
    case "resolved":
      return escapeHtml(d.slaResolved);
    case "running":
      return escapeHtml(
        sla.leftSeconds === 0
          ? d.slaDueNow({ at: time(sla.dueAt) })
          : d.slaRunning({ left: span(sla.leftSeconds), at: time(sla.dueAt) }),
      );
    case "snoozed":
      return escapeHtml(d.slaSnoozed({ until: time(sla.until) }));
    case "escalated":
      return escapeHtml(d.slaEscalated({ since: span(sla.sinceSeconds), at: time(sla.at) }));
    case "acknowledged":
      return escapeHtml(
        d.slaAcknowledged({ who: cut(sla.by, 60), since: span(sla.sinceSeconds), at: time(sla.at) }) +
          (sla.escalatedAt === null ? "" : d.slaAfterEscalating({ at: time(sla.escalatedAt) })),
      );
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

function contentLines(content: DrillDownContent, time: Clock, t: Messages): string[] {
  const d = t.drillDown;
  const e = escapeHtml;
  switch (content.section) {
    case "overview": {
      const i = content.incident;
      const lines = [
        e(d.status({ status: i.status, source: i.source })),
        e(d.service({ service: cut(i.service ?? t.common.unknown, 120) })),
      ];
      if (i.target !== null) {
        const ns = i.target.namespace === undefined ? "" : `${i.target.namespace}/`;
        lines.push(e(d.target({ target: cut(`${i.target.kind} ${ns}${i.target.name}`, 200) })));
      }
      lines.push(
        e(d.occurrences({ count: i.occurrences, first: time(i.firstSeenAt), last: time(i.lastSeenAt) })),
      );
      if (i.summary !== null) lines.push(e(d.summary({ summary: cut(i.summary, 800) })));
      if (content.sla !== undefined) lines.push(slaLine(content.sla, time, t));
      if (i.acknowledgedAt !== null)
        lines.push(e(d.acknowledged({ who: i.acknowledgedBy ?? "?", at: time(i.acknowledgedAt) })));
      if (i.snoozedUntil !== null)
        lines.push(e(d.snoozed({ who: i.snoozedBy ?? "?", until: time(i.snoozedUntil) })));
      if (i.escalatedAt !== null) lines.push(e(d.escalatedAt({ at: time(i.escalatedAt) })));
      if (i.resolvedAt !== null) lines.push(e(d.resolvedAt({ at: time(i.resolvedAt) })));
      const labels = Object.entries(i.labels).slice(0, 20);
      if (labels.length > 0) {
        lines.push("", `<b>${e(d.labels)}</b>`);
        for (const [key, value] of labels)
          lines.push(`<code>${escapeHtml(cut(`${key}=${value}`, 200))}</code>`);
      }
      return lines;
    }
    case "timeline":
      return content.events.length === 0
        ? [e(d.noEvents)]
        : content.events.map((event) => {
            const detail = compact(event.detail);
            return `${time(event.at)} · <b>${escapeHtml(event.kind)}</b> · ${escapeHtml(cut(event.actor, 60))}${
              detail === "" ? "" : `\n   ${escapeHtml(cut(detail, 240))}`
            }`;
          });
    case "analysis": {
      const stored = content.stored;
      if (stored === undefined) return [e(d.noAnalysis)];
      const a = stored.analysis;
      const ns = a.target.namespace === undefined ? "" : `${a.target.namespace}/`;
      const lines = [
        e(
          d.engine({
            engine: a.engine,
            model: `${a.provider}/${cut(a.model, 80)}`,
            at: time(stored.createdAt),
          }),
        ),
        `${e(d.suggested)}: <b>${e(a.suggested_action)}</b> · ${e(cut(`${a.target.kind} ${ns}${a.target.name}`, 200))}`,
        e(
          d.figures({
            confidence: Math.floor(a.confidence * 100),
            risk: a.risk_level,
            pods: a.blast_radius.affected_pods,
            downtime: a.blast_radius.estimated_downtime_seconds,
          }),
        ),
        e(d.owner({ team: cut(a.owner_team, 64) })),
        "",
        `<b>${e(d.cause)}</b>: ${e(cut(a.cause, 300))}`,
        "",
        `<b>${e(d.reasoning)}</b>`,
        escapeHtml(cut(a.reasoning, 2_000)),
      ];
      if (stored.decision !== null) {
        lines.push("", `<b>${e(d.decision)}</b>: ${e(stored.decision.mode)}`);
        for (const verdict of stored.decision.verdicts) {
          lines.push(
            `${verdict.ok ? "✅" : "❌"} ${escapeHtml(verdict.rule)} (${verdict.kind}): ${escapeHtml(cut(verdict.detail, 160))}`,
          );
        }
      }
      if (stored.attempts.length > 0) {
        lines.push(
          "",
          e(
            d.attempts({
              list: cut(stored.attempts.map((at) => `${at.provider}:${at.outcome}`).join(", "), 300),
            }),
          ),
        );
      }
      return lines;
    }
    case "kube": {
      if (!content.configured) return [e(d.kubeNotConfigured)];
      const lines = [
        content.object === undefined ? e(d.noObject) : `${e(d.object)}: <code>${e(content.object)}</code>`,
        "",
        `<b>${e(d.events)}</b> (${content.events.length})`,
      ];
      for (const event of content.events.slice(0, 10)) {
        lines.push(
          `${event.type === "Warning" ? "⚠️" : "ℹ️"} ${escapeHtml(event.reason)}${event.count === undefined ? "" : ` ×${event.count}`}: ${escapeHtml(cut(event.message, 200))}`,
        );
      }
      for (const note of content.notes) lines.push(`⚠️ ${escapeHtml(cut(note, 200))}`);
      lines.push("", `<b>${e(d.podLogs)}</b>${e(d.newestLast)}`);
      if (content.logs === undefined || content.logs.trim() === "") lines.push(e(d.noLogs));
      else lines.push(`<pre>${LOGS_PLACEHOLDER}</pre>`);
      return lines;
    }
    case "similar":
      return content.incidents.length === 0
        ? [e(d.noSimilar)]
        : content.incidents.map(
            (s) =>
              `${escapeHtml(s.id)} · ${escapeHtml(s.outcome ?? "?")}${s.action === undefined ? "" : ` · ${escapeHtml(s.action)}`}${s.at === undefined ? "" : ` · ${time(s.at)}`}\n   ${escapeHtml(cut(s.title, 160))}`,
          );
    case "playbooks":
      return content.playbooks.length === 0
        ? [e(d.noPlaybooks)]
        : content.playbooks.map(
            (p) =>
              `<b>${e(p.action)}</b>: ${e(d.playbook({ successes: p.successes, failures: p.failures }))}\n   <code>${escapeHtml(cut(p.signature, 200))}</code>`,
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
  const t = messagesFor(options.language);
  if (result.outcome === "missing") return escapeHtml(t.drillDown.missing({ id: cut(incidentId, 64) }));
  const { incident, content } = result;
  const header = [
    `🔎 <b>${escapeHtml(incident.id)} · ${escapeHtml(t.card.severity[incident.severity])}</b> · ${escapeHtml(incident.status)}`,
    `<b>${escapeHtml(cut(incident.title, 160))}</b>`,
    `— ${escapeHtml(t.drillDown.sections[content.section])} —`,
    "",
  ];
  const lines = [...header, ...contentLines(content, makeClock(options), t)];
  const body = fitLines(lines, MAX_MESSAGE_LENGTH, t.common.moreLines);
  if (content.section !== "kube" || !content.configured || !body.includes(LOGS_PLACEHOLDER)) return body;
  const budget = MAX_MESSAGE_LENGTH - (body.length - LOGS_PLACEHOLDER.length);
  return body.replace(LOGS_PLACEHOLDER, () => escapedTail(content.logs ?? "", budget) || "…");
}

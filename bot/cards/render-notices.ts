import type { EscalationNotice, StormSummary } from "../../domain/notices.js";
import { clockTime } from "../../domain/time.js";
import { cut, escapeHtml } from "./html.js";

// The storm summary card and the escalation message as Telegram HTML (every dynamic string
// escaped, inside 4096 characters).

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  return seconds < 7_200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3_600)} h`;
}

export function renderStormSummary(
  summary: StormSummary,
  timeZone = "UTC",
  /** "Today", in that zone: a time on another day shows its date. */
  now: Date = new Date(),
): string {
  const { counts } = summary;
  // in BOT_TIMEZONE, with the date when not today there ("14:05 UTC", "Mar 29 20:05 GMT+8")
  const since = clockTime(summary.startedAt, timeZone, now);
  if (summary.endedAt !== null) {
    return [
      `✅ <b>Storm over: ${counts.folded} incidents, ${counts.open} still open</b>`,
      `${since} – ${clockTime(summary.endedAt, timeZone, now)} · P0 ${counts.bySeverity.P0} · P1 ${counts.bySeverity.P1} · P2 ${counts.bySeverity.P2}`,
      "Individual cards have resumed. Every incident: /incidents",
    ].join("\n");
  }
  const lines = [
    `🌩 <b>Alert storm: ${counts.folded} incidents folded here</b> (since ${since})`,
    `P0 ${counts.bySeverity.P0} · P1 ${counts.bySeverity.P1} · P2 ${counts.bySeverity.P2} · still open ${counts.open}`,
  ];
  const flags = [
    counts.awaitingApproval > 0 ? `⏳ ${counts.awaitingApproval} awaiting approval` : "",
    counts.escalated > 0 ? `⏫ ${counts.escalated} escalated` : "",
  ].filter((flag) => flag !== "");
  if (flags.length > 0) lines.push(flags.join(" · "));
  if (counts.topServices.length > 0) {
    lines.push(
      `Services: ${counts.topServices.map((row) => `${escapeHtml(cut(row.service, 40))} ${row.count}`).join(", ")}`,
    );
  }
  lines.push("Newest:");
  for (const incident of counts.newest) {
    lines.push(
      `• <code>${escapeHtml(incident.id)}</code> ${incident.severity} ${escapeHtml(cut(incident.service ?? "unknown", 40))}: ${escapeHtml(cut(incident.title, 80))}`,
    );
  }
  lines.push(
    `Own cards resume below ${summary.threshold} new incidents per ${duration(summary.windowSeconds)}; P0 and approvals still get one. Every incident: /incidents`,
  );
  return lines.join("\n");
}

export function renderEscalation(notice: EscalationNotice): string {
  const who =
    notice.mentions.length > 0
      ? notice.mentions.map((name) => `@${name}`).join(" ")
      : "(no on-call usernames configured: set TELEGRAM_ONCALL_USERNAMES)";
  const why =
    notice.reason === "repair_failed"
      ? `repair failed${notice.detail === undefined ? "" : `: ${escapeHtml(cut(notice.detail, 300))}`}`
      : `unacknowledged for ${duration(notice.afterSeconds ?? 0)}`;
  const lines = [
    `⏫ ${who}: ${notice.severity} <code>${escapeHtml(notice.incidentId)}</code> ${why}`,
    `${escapeHtml(cut(notice.service ?? "unknown", 60))}: ${escapeHtml(cut(notice.title, 200))}`,
  ];
  if (notice.storm !== undefined) {
    lines.push(
      `Folded into the storm card; ${notice.storm.escalated} of its incidents escalated so far (no separate pings). See /incidents`,
    );
  }
  return lines.join("\n");
}

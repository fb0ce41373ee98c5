import type { EscalationNotice, StormSummary } from "../../domain/notices.js";
import { clockTime } from "../../domain/time.js";
import {
  DEFAULT_LANGUAGE,
  failureText,
  messagesFor,
  type Language,
  type Messages,
} from "../../domain/i18n/index.js";
import { cut, escapeHtml } from "./html.js";

// The storm summary card and the escalation message as Telegram HTML (every dynamic string
// escaped, inside 4096 characters), in BOT_LANGUAGE (domain/i18n/).

function duration(seconds: number, t: Messages): string {
  if (seconds < 120) return t.common.seconds({ count: seconds });
  return seconds < 7_200
    ? t.common.minutes({ count: Math.round(seconds / 60) })
    : t.common.hours({ count: Math.round(seconds / 3_600) });
}

export function renderStormSummary(
  summary: StormSummary,
  timeZone = "UTC",
  /** "Today", in that zone: a time on another day shows its date. */
  now: Date = new Date(),
  language: Language = DEFAULT_LANGUAGE,
): string {
  const t = messagesFor(language);
  const { counts } = summary;
  const severities = `P0 ${counts.bySeverity.P0} · P1 ${counts.bySeverity.P1} · P2 ${counts.bySeverity.P2}`;
  // in BOT_TIMEZONE, with the date when not today there ("14:05 UTC", "Mar 29 20:05 GMT+8")
  const since = clockTime(summary.startedAt, timeZone, now, language);
  if (summary.endedAt !== null) {
    return [
      `✅ <b>${escapeHtml(t.storm.over({ folded: counts.folded, open: counts.open }))}</b>`,
      `${since} – ${clockTime(summary.endedAt, timeZone, now, language)} · ${severities}`,
      escapeHtml(t.storm.resumed),
    ].join("\n");
  }
  const lines = [
    `🌩 <b>${escapeHtml(t.storm.title({ folded: counts.folded }))}</b>${escapeHtml(t.storm.since({ time: since }))}`,
    `${severities} · ${escapeHtml(t.storm.stillOpen({ count: counts.open }))}`,
  ];
  const flags = [
    counts.awaitingApproval > 0 ? t.storm.awaitingApproval({ count: counts.awaitingApproval }) : "",
    counts.escalated > 0 ? t.storm.escalated({ count: counts.escalated }) : "",
  ].filter((flag) => flag !== "");
  if (flags.length > 0) lines.push(escapeHtml(flags.join(" · ")));
  if (counts.topServices.length > 0) {
    const list = counts.topServices.map((row) => `${cut(row.service, 40)} ${row.count}`).join(", ");
    lines.push(escapeHtml(t.storm.services({ list })));
  }
  lines.push(escapeHtml(t.storm.newest));
  for (const incident of counts.newest) {
    lines.push(
      `• <code>${escapeHtml(incident.id)}</code> ${incident.severity} ${escapeHtml(cut(incident.service ?? t.common.unknown, 40))}: ${escapeHtml(cut(incident.title, 80))}`,
    );
  }
  const window = duration(summary.windowSeconds, t);
  lines.push(escapeHtml(t.storm.resumeBelow({ threshold: summary.threshold, window })));
  return lines.join("\n");
}

/**
 * The failed repair in `t`'s words from what the timeline kept; undefined when a part of it is
 * none of the catalogue's (recorded before it was kept), and the notice's English detail stands.
 */
function failedRepair(
  failure: NonNullable<EscalationNotice["failure"]>,
  t: Messages,
  timeZone: string,
): string | undefined {
  const error = failureText(failure.reason, t, timeZone);
  const afterwards = failure.then as { code?: unknown; revision?: unknown } | undefined;
  const then =
    afterwards === undefined
      ? ""
      : afterwards.code === "rolled_back"
        ? t.escalation.rolledBack({
            revision: typeof afterwards.revision === "string" ? afterwards.revision : "",
          })
        : failureText(afterwards, t, timeZone);
  if (error === undefined || then === undefined) return undefined;
  return t.escalation.failed({ action: failure.action, error, then });
}

export function renderEscalation(
  notice: EscalationNotice,
  language: Language = DEFAULT_LANGUAGE,
  /** BOT_TIMEZONE: the times inside a failed repair's words. */
  timeZone = "UTC",
): string {
  const t = messagesFor(language);
  const who =
    notice.mentions.length > 0 ? notice.mentions.map((name) => `@${name}`).join(" ") : t.escalation.noOncall;
  const why =
    notice.reason === "repair_failed"
      ? t.escalation.repairFailed({
          detail: cut(
            (notice.failure === undefined ? undefined : failedRepair(notice.failure, t, timeZone)) ??
              notice.detail ??
              "",
            300,
          ),
        })
      : t.escalation.unacknowledged({ span: duration(notice.afterSeconds ?? 0, t) });
  const lines = [
    `⏫ ${escapeHtml(who)}: ${notice.severity} <code>${escapeHtml(notice.incidentId)}</code> ${escapeHtml(why)}`,
    `${escapeHtml(cut(notice.service ?? t.common.unknown, 60))}: ${escapeHtml(cut(notice.title, 200))}`,
  ];
  if (notice.storm !== undefined) {
    lines.push(escapeHtml(t.escalation.storm({ escalated: notice.storm.escalated })));
  }
  return lines.join("\n");
}

// `/status`: the health of everything the bot depends on, as the status use case reports it.
import { Composer } from "grammy";
import type { Check, StatusReport } from "../../handlers/status-report.js";
import { SEVERITIES } from "../../domain/incident.js";
import { clockTime } from "../../domain/time.js";
import { messagesFor, sayingText, type Messages } from "../../domain/i18n/index.js";
import type { BotContext } from "../context.js";
import { cut, escapeHtml, fitLines, MAX_MESSAGE_LENGTH } from "../cards/html.js";

export interface StatusCommandDeps {
  report: () => Promise<StatusReport>;
  /** BOT_TIMEZONE: the zone times are shown in (default UTC). */
  timeZone?: string;
}

const ICONS: Readonly<Record<Check["state"], string>> = {
  ok: "🟢",
  down: "🔴",
  unusable: "🔴",
  configured: "⚪",
  not_configured: "⚫",
};

/** A detail in the chat's language where the words are the bot's own (`said`); as reported otherwise. */
function detailText(
  reported: { detail?: string; error?: string; said?: readonly unknown[] },
  t: Messages,
): string {
  const own = (reported.said ?? []).map((said) => sayingText("statusDetail", said, t));
  const said = own.flatMap((text) => (text === undefined ? [] : [text]));
  if (reported.said !== undefined && said.length === own.length) return said.join(t.status.detailJoiner);
  return reported.detail ?? reported.error ?? "";
}

const checkLine =
  (t: Messages) =>
  (check: Check): string => {
    const detail = check.detail === undefined ? "" : ` (${escapeHtml(cut(detailText(check, t), 160))})`;
    return `${ICONS[check.state]} ${escapeHtml(check.name)}: ${escapeHtml(t.status.state[check.state])}${detail}`;
  };

/** "until 10:42 UTC" ("until 18:42 GMT+8" in Asia/Taipei) */
function until(iso: string, timeZone: string, t: Messages): string {
  return t.status.until({ time: clockTime(new Date(iso), timeZone, new Date(), t.language) });
}

/** What SWITCH_MODEL and FALLBACK_AI changed in the chain, so nobody wonders why a model is skipped. */
function overrideLines(overrides: StatusReport["chainOverrides"], timeZone: string, t: Messages): string[] {
  if (overrides === undefined) return [];
  if ("error" in overrides) {
    return [`🟠 ${escapeHtml(t.status.overridesUnknown({ error: cut(detailText(overrides, t), 160) }))}`];
  }
  const switched = overrides.ollamaModel;
  return [
    ...(switched === undefined
      ? []
      : [
          `↪️ ${escapeHtml(t.status.modelSwitched({ model: switched.model, until: until(switched.expiresAt, timeZone, t) }))}`,
        ]),
    ...overrides.skipped.map(
      (skip) =>
        `⏭️ ${escapeHtml(t.status.providerSkipped({ provider: skip.provider, until: until(skip.expiresAt, timeZone, t) }))}`,
    ),
  ];
}

/** Which table the SigNoz poller reads, or plainly that it has none (then it reports nothing). */
function signozLine(traces: StatusReport["signozTraces"], t: Messages): string {
  if (traces === undefined)
    return `${ICONS.not_configured} SigNoz: ${escapeHtml(t.status.state.not_configured)}`;
  if ("error" in traces) {
    return `${ICONS.down} SigNoz: ${escapeHtml(t.status.state.down)} (${escapeHtml(cut(detailText(traces, t), 160))})`;
  }
  if (!traces.found) return `🟠 SigNoz: ${escapeHtml(t.status.signozNoTable({ reason: traces.reason }))}`;
  const { table, schema } = traces;
  const text = t.status.signozTable({ table, schema, detected: traces.chosenBy === "detected" });
  return `${ICONS.ok} SigNoz: ${escapeHtml(t.status.signozReading({ table: text }))}`;
}

export function renderStatus(report: StatusReport, timeZone = "UTC", t: Messages = messagesFor()): string {
  const s = t.status;
  const lines = [
    `<b>${escapeHtml(s.title)}</b>`,
    checkLine(t)(report.redis),
    checkLine(t)(report.postgres),
    ...(report.telegram === undefined ? [] : [checkLine(t)(report.telegram)]),
    signozLine(report.signozTraces, t),
    "",
    `<b>${escapeHtml(s.queues)}</b>${escapeHtml(s.queuesColumns)}`,
    ...report.queues.map((queue) =>
      "depth" in queue
        ? `${queue.depth.failed > 0 ? "🟠" : "🟢"} ${escapeHtml(queue.name)}: ${queue.depth.waiting} / ${queue.depth.active} / ${queue.depth.delayed} / ${queue.depth.failed}`
        : `🔴 ${escapeHtml(queue.name)}: ${escapeHtml(cut(detailText(queue, t), 160))}`,
    ),
    "",
    `<b>${escapeHtml(s.llm)}</b>${escapeHtml(s.llmOrder)}`,
    ...report.llm.map(checkLine(t)),
    ...overrideLines(report.chainOverrides, timeZone, t),
    "",
    `<b>${escapeHtml(s.executors)}</b>`,
    ...report.executors.map(checkLine(t)),
    "",
  ];
  if ("bySeverity" in report.openIncidents) {
    const counts = report.openIncidents.bySeverity;
    const total = SEVERITIES.reduce((sum, severity) => sum + (counts[severity] ?? 0), 0);
    lines.push(
      `<b>${escapeHtml(s.openIncidents)}</b>: ${total}` +
        (total === 0
          ? ""
          : ` (${SEVERITIES.map((severity) => `${severity} ${escapeHtml(t.card.severity[severity].toLowerCase())} ${counts[severity] ?? 0}`).join(", ")})`),
    );
  } else {
    lines.push(
      `<b>${escapeHtml(s.openIncidents)}</b>: ${escapeHtml(s.unknownBecause({ error: cut(detailText(report.openIncidents, t), 160) }))}`,
    );
  }
  const repairs = report.repairs;
  lines.push(
    `<b>${escapeHtml(s.repairs)}</b>: ` +
      escapeHtml(
        "used" in repairs
          ? s.repairsUsed({ used: repairs.used, max: repairs.max })
          : s.repairsUnknown({ error: cut(detailText(repairs, t), 160), max: repairs.max }),
      ),
  );
  return fitLines(lines, MAX_MESSAGE_LENGTH, t.common.moreLines);
}

export function statusCommand(deps: StatusCommandDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command("status", async (ctx) => {
    const report = await deps.report();
    await ctx.reply(renderStatus(report, deps.timeZone, ctx.messages), { parse_mode: "HTML" });
  });
  return composer;
}

// `/status`: the health of everything the bot depends on, as the status use case reports it.
import { Composer } from "grammy";
import type { Check, StatusReport } from "../../handlers/status-report.js";
import { SEVERITIES } from "../../domain/incident.js";
import { SEVERITY_NAMES } from "../../domain/card.js";
import { clockTime } from "../../domain/time.js";
import type { BotContext } from "../context.js";
import { cut, escapeHtml, fitLines } from "../cards/html.js";
import { describeTracesTable } from "../../gateways/signoz-spans.js";

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

const WORDS: Readonly<Record<Check["state"], string>> = {
  ok: "reachable",
  down: "unreachable",
  unusable: "unusable",
  configured: "configured",
  not_configured: "not configured",
};

function checkLine(check: Check): string {
  const detail = check.detail === undefined ? "" : ` (${escapeHtml(cut(check.detail, 160))})`;
  return `${ICONS[check.state]} ${escapeHtml(check.name)}: ${WORDS[check.state]}${detail}`;
}

/** "until 10:42 UTC" ("until 18:42 GMT+8" in Asia/Taipei) */
function until(iso: string, timeZone: string): string {
  return `until ${clockTime(new Date(iso), timeZone)}`;
}

/** What SWITCH_MODEL and FALLBACK_AI changed in the chain, so nobody wonders why a model is skipped. */
function overrideLines(overrides: StatusReport["chainOverrides"], timeZone: string): string[] {
  if (overrides === undefined) return [];
  if ("error" in overrides) return [`🟠 Chain overrides unknown (${escapeHtml(cut(overrides.error, 160))})`];
  return [
    ...(overrides.ollamaModel === undefined
      ? []
      : [
          `↪️ Ollama model switched to ${escapeHtml(overrides.ollamaModel.model)} (SWITCH_MODEL, ${until(overrides.ollamaModel.expiresAt, timeZone)})`,
        ]),
    ...overrides.skipped.map(
      (skip) => `⏭️ ${escapeHtml(skip.provider)} skipped (FALLBACK_AI, ${until(skip.expiresAt, timeZone)})`,
    ),
  ];
}

/** Which table the SigNoz poller reads, or plainly that it has none (then it reports nothing). */
function signozLine(traces: StatusReport["signozTraces"]): string {
  if (traces === undefined) return `${ICONS.not_configured} SigNoz: ${WORDS.not_configured}`;
  if ("error" in traces) return `${ICONS.down} SigNoz: ${WORDS.down} (${escapeHtml(cut(traces.error, 160))})`;
  const text = escapeHtml(describeTracesTable(traces));
  return traces.found ? `${ICONS.ok} SigNoz: reading ${text}` : `🟠 SigNoz: ${text}`;
}

export function renderStatus(report: StatusReport, timeZone = "UTC"): string {
  const lines = [
    "<b>📊 Status</b>",
    checkLine(report.redis),
    checkLine(report.postgres),
    ...(report.telegram === undefined ? [] : [checkLine(report.telegram)]),
    signozLine(report.signozTraces),
    "",
    "<b>Queues</b> (waiting / active / delayed / failed)",
    ...report.queues.map((queue) =>
      "depth" in queue
        ? `${queue.depth.failed > 0 ? "🟠" : "🟢"} ${escapeHtml(queue.name)}: ${queue.depth.waiting} / ${queue.depth.active} / ${queue.depth.delayed} / ${queue.depth.failed}`
        : `🔴 ${escapeHtml(queue.name)}: ${escapeHtml(cut(queue.error, 160))}`,
    ),
    "",
    "<b>LLM providers</b> (in chain order)",
    ...report.llm.map(checkLine),
    ...overrideLines(report.chainOverrides, timeZone),
    "",
    "<b>Executor targets</b>",
    ...report.executors.map(checkLine),
    "",
  ];
  if ("bySeverity" in report.openIncidents) {
    const counts = report.openIncidents.bySeverity;
    const total = SEVERITIES.reduce((sum, severity) => sum + (counts[severity] ?? 0), 0);
    lines.push(
      `<b>Open incidents</b>: ${total}` +
        (total === 0
          ? ""
          : ` (${SEVERITIES.map((s) => `${s} ${SEVERITY_NAMES[s].toLowerCase()} ${counts[s] ?? 0}`).join(", ")})`),
    );
  } else {
    lines.push(`<b>Open incidents</b>: unknown (${escapeHtml(cut(report.openIncidents.error, 160))})`);
  }
  lines.push(
    "used" in report.repairs
      ? `<b>Automatic repairs</b>: ${report.repairs.used}/${report.repairs.max} this hour`
      : `<b>Automatic repairs</b>: unknown (${escapeHtml(cut(report.repairs.error, 160))}), budget ${report.repairs.max}/hour`,
  );
  return fitLines(lines);
}

export function statusCommand(deps: StatusCommandDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command("status", async (ctx) => {
    const report = await deps.report();
    await ctx.reply(renderStatus(report, deps.timeZone), { parse_mode: "HTML" });
  });
  return composer;
}

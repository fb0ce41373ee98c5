// The incident drill-down, a conversation: opened from a card's "🔎 Details" button or from
// `/incidents`, it shows one message with a button per section (overview, timeline, analysis,
// logs & events, similar incidents, playbooks) and edits it in place as sections are picked, until
// Done. Reads go through `conversation.external()`; anyone may look, nothing changes.
//
// A section button outlives the conversation (a restart, an expired wait, another user pressing
// it): outside the conversation it simply opens the drill-down again at that section.
import { createConversation, type Conversation } from "@grammyjs/conversations";
import { Composer, GrammyError, InlineKeyboard } from "grammy";
import { z } from "zod";
import {
  DRILL_DOWN_SECTIONS,
  type DrillDownContent,
  type DrillDownResult,
  type DrillDownSection,
} from "../../handlers/incident-drill-down.js";
import { SEVERITY_NAMES } from "../../domain/card.js";
import { unpackCallbackData } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { cut, escapeHtml, fitLines, MAX_MESSAGE_LENGTH } from "../html.js";

export const DRILL_DOWN = "drill-down";

export interface DrillDownFeatureDeps {
  load: (input: { incidentId: string; section: DrillDownSection }) => Promise<DrillDownResult>;
}

/** A drill-down nobody touches for this long ends; its buttons still reopen it. */
const IDLE_MS = 30 * 60_000;
/** Presses one conversation serves before it ends (its replay log grows with each). */
const MAX_PRESSES = 40;

// ─── Callback data: `dd:<section|done>:<incident id>` ────────────────────────────────────────

const PREFIX = "dd";
const ID = z.string().regex(/^[A-Za-z0-9_-]{1,48}$/);
const DrillDownDataSchema = z.tuple([z.literal(PREFIX), z.enum([...DRILL_DOWN_SECTIONS, "done"]), ID]);

export interface DrillDownData {
  section: DrillDownSection | "done";
  incidentId: string;
}

export function packDrillDownData(data: DrillDownData): string {
  const [, section, incidentId] = DrillDownDataSchema.parse([PREFIX, data.section, data.incidentId]);
  return `${PREFIX}:${section}:${incidentId}`;
}

export function unpackDrillDownData(data: string): DrillDownData | undefined {
  const parsed = DrillDownDataSchema.safeParse(data.split(":"));
  return parsed.success ? { section: parsed.data[1], incidentId: parsed.data[2] } : undefined;
}

const SECTION_LABELS: Readonly<Record<DrillDownSection, string>> = {
  overview: "📋 Overview",
  timeline: "🕒 Timeline",
  analysis: "🤖 Analysis",
  kube: "📜 Logs & events",
  similar: "🔁 Similar",
  playbooks: "📚 Playbooks",
};

function keyboard(incidentId: string, current: DrillDownSection): InlineKeyboard {
  const keys = new InlineKeyboard();
  DRILL_DOWN_SECTIONS.forEach((section, index) => {
    const label = section === current ? `• ${SECTION_LABELS[section]}` : SECTION_LABELS[section];
    keys.text(label, packDrillDownData({ section, incidentId }));
    if (index % 3 === 2) keys.row();
  });
  return keys.text("✖️ Done", packDrillDownData({ section: "done", incidentId }));
}

// ─── Rendering (pure; runs inside `external`, where the stored rows still have their Dates) ──

const time = (at: Date | string): string => {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? "?" : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
};

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

function contentLines(content: DrillDownContent): string[] {
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
export function renderDrillDown(result: DrillDownResult, incidentId: string): string {
  if (result.outcome === "missing") return `Incident ${escapeHtml(cut(incidentId, 64))} does not exist.`;
  const { incident, content } = result;
  const header = [
    `🔎 <b>${escapeHtml(incident.id)} · ${SEVERITY_NAMES[incident.severity]}</b> · ${escapeHtml(incident.status)}`,
    `<b>${escapeHtml(cut(incident.title, 160))}</b>`,
    `— ${escapeHtml(SECTION_LABELS[content.section])} —`,
    "",
  ];
  const lines = [...header, ...contentLines(content)];
  const body = fitLines(lines);
  if (content.section !== "kube" || !content.configured || !body.includes(LOGS_PLACEHOLDER)) return body;
  const budget = MAX_MESSAGE_LENGTH - (body.length - LOGS_PLACEHOLDER.length);
  return body.replace(LOGS_PLACEHOLDER, () => escapedTail(content.logs ?? "", budget) || "…");
}

// ─── The conversation ────────────────────────────────────────────────────────────────────────

function isNotModified(error: unknown): boolean {
  return error instanceof GrammyError && /message is not modified/i.test(error.description);
}

type DrillDownConversation = Conversation<BotContext, BotContext>;

function drillDownConversation(deps: DrillDownFeatureDeps) {
  return async function drillDown(
    conversation: DrillDownConversation,
    ctx: BotContext,
    incidentId: string,
    section: DrillDownSection,
    /** Entered from a section button: edit that message instead of sending a new one. */
    editInPlace: boolean,
  ): Promise<void> {
    const view = (wanted: DrillDownSection) =>
      conversation.external(async () =>
        renderDrillDown(await deps.load({ incidentId, section: wanted }), incidentId),
      );

    const first = await view(section);
    const markup = (current: DrillDownSection) => ({
      parse_mode: "HTML" as const,
      reply_markup: keyboard(incidentId, current),
    });
    if (editInPlace && ctx.callbackQuery !== undefined) {
      await ctx.editMessageText(first, markup(section)).catch((error: unknown) => {
        if (!isNotModified(error)) throw error;
      });
    } else {
      await ctx.reply(first, markup(section));
    }

    const presses = new RegExp(`^${PREFIX}:[a-z]+:${incidentId.replace(/[^A-Za-z0-9_-]/g, "")}$`);
    for (let press = 0; press < MAX_PRESSES; press++) {
      const pressed = await conversation.waitForCallbackQuery(presses, { maxMilliseconds: IDLE_MS });
      const data = unpackDrillDownData(pressed.callbackQuery.data);
      if (data === undefined) continue;
      if (data.section === "done") {
        await pressed.answerCallbackQuery({ text: "Closed." });
        await pressed.editMessageReplyMarkup();
        return;
      }
      const text = await view(data.section);
      await pressed.editMessageText(text, markup(data.section)).catch((error: unknown) => {
        if (!isNotModified(error)) throw error;
      });
      await pressed.answerCallbackQuery();
    }
  };
}

/** Opens (or re-opens) the drill-down of `incidentId` for the user who pressed or asked. */
export async function openDrillDown(
  ctx: BotContext,
  incidentId: string,
  section: DrillDownSection = "overview",
  editInPlace = false,
): Promise<void> {
  // One drill-down per user and chat: a new one replaces the old (whose buttons still work).
  await ctx.conversation.exit(DRILL_DOWN);
  await ctx.conversation.enter(DRILL_DOWN, incidentId, section, editInPlace);
}

export function drillDown(deps: DrillDownFeatureDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.use(
    createConversation<BotContext, BotContext>(drillDownConversation(deps), {
      id: DRILL_DOWN,
      // Parallel: a drill-down left open never blocks another dialogue (a rejection reason, say).
      parallel: true,
    }),
  );

  // "🔎 Details" on a card: anyone may look.
  composer.on("callback_query:data", async (ctx, next) => {
    const card = unpackCallbackData(ctx.callbackQuery.data);
    if (card?.verb === "details") {
      await ctx.answerCallbackQuery();
      await openDrillDown(ctx, card.id);
      return;
    }
    const data = unpackDrillDownData(ctx.callbackQuery.data);
    if (data === undefined) return next();
    // A section button whose conversation is gone: open it again, in the same message.
    if (data.section === "done") {
      await ctx.answerCallbackQuery({ text: "Closed." });
      await ctx.editMessageReplyMarkup();
      return;
    }
    await ctx.answerCallbackQuery();
    await openDrillDown(ctx, data.incidentId, data.section, true);
  });
  return composer;
}

// Renders the platform-neutral incident card (the seed's appendix B) as a Telegram message:
// HTML text for parse_mode "HTML" plus the inline keyboard. Pure: no I/O, no clock.
//
// The text is first built as lines of segments (plain, bold, link) and serialized in one place,
// so every dynamic string is escaped exactly once and truncation works on raw text, never on
// markup: a cut can neither split a tag or an entity nor (cutting whole graphemes) a surrogate pair.
import { z } from "zod";
import { type CardLink, type CardTarget, type IncidentStatus, type Severity } from "../../domain/incident.js";
import {
  CARD_VERBS,
  type CardAnalysis,
  type CardButton,
  type CardHistoryEntry,
  type CardVerb,
  type IncidentCard,
} from "../../domain/card.js";
import { momentIn } from "../../domain/time.js";
import {
  DEFAULT_LANGUAGE,
  formatCount,
  LANGUAGES,
  messagesFor,
  type Language,
  type Messages,
} from "../../domain/i18n/index.js";
import { cardButtonData } from "../callback-data/callback-data.js";
import { escapeHtml, escapeAttribute, MAX_MESSAGE_LENGTH } from "./html.js";

/** Telegram's limit on message text, in UTF-16 code units after entity parsing. */
export const TELEGRAM_MAX_TEXT_LENGTH = MAX_MESSAGE_LENGTH;

export interface RenderTelegramOptions {
  /** IANA zone for times on the card; default "UTC". */
  timeZone?: string;
  /** BOT_LANGUAGE: the language of the card's words and buttons; default English. */
  language?: Language;
  /** Default 4096; e.g. 1024 for a photo caption. */
  maxLength?: number;
}

export interface TelegramInlineButton {
  text: string;
  callback_data: string;
}

export interface TelegramInlineKeyboard {
  inline_keyboard: TelegramInlineButton[][];
}

export interface RenderedTelegramCard {
  /** Telegram HTML, at most `maxLength` UTF-16 code units even before entity parsing. */
  text: string;
  replyMarkup: TelegramInlineKeyboard | undefined;
}

const OptionsSchema = z.object({
  timeZone: z.string().min(1).default("UTC"),
  language: z.enum(LANGUAGES).default(DEFAULT_LANGUAGE),
  maxLength: z.number().int().min(64).max(TELEGRAM_MAX_TEXT_LENGTH).default(TELEGRAM_MAX_TEXT_LENGTH),
});

/**
 * The card as Telegram HTML. Fits `maxLength` by the raw HTML length, which is never less than
 * the length Telegram counts after parsing; when the card is too long it drops the oldest history
 * first, then shortens the summary, the cause and the title.
 */
export function renderTelegramCard(
  card: IncidentCard,
  options: RenderTelegramOptions = {},
): RenderedTelegramCard {
  const { timeZone, maxLength, language } = OptionsSchema.parse(options);
  const t = messagesFor(language);
  const draft = draftCard(card, makeClock(timeZone, language), t);
  return {
    text: fitDraft(draft, maxLength, t),
    replyMarkup: renderKeyboard(card.incidentId, card.buttons, t),
  };
}

// ---------------------------------------------------------------------------------------------
// Keyboard

// Rows of two or three rather than one of six: on a phone a row of four cuts the labels down to
// "✅ Ap…", and keeping the decision (approve / reject) on its own row apart from the deferral and
// the taking (snooze / silence / "I'm on it", none of which changes the cluster) makes tapping the
// wrong kind of button less likely. Details changes nothing, so it sits alone on the last row.
const BUTTON_ROW: Readonly<Record<CardVerb, 0 | 1 | 2>> = {
  approve: 0,
  reject: 0,
  snooze: 1,
  silence: 1,
  take: 1,
  details: 2,
};

function renderKeyboard(
  incidentId: string,
  buttons: readonly CardButton[],
  t: Messages,
): TelegramInlineKeyboard | undefined {
  const rows = [0, 1, 2]
    .map((row) =>
      CARD_VERBS.filter((verb) => BUTTON_ROW[verb] === row).flatMap((verb) =>
        buttons
          .filter((button) => button.verb === verb)
          .map((button) => toTelegramButton(incidentId, button, t)),
      ),
    )
    .filter((row) => row.length > 0);
  return rows.length > 0 ? { inline_keyboard: rows } : undefined;
}

function toTelegramButton(incidentId: string, button: CardButton, t: Messages): TelegramInlineButton {
  // Failing here names our bug; Telegram would only answer BUTTON_DATA_INVALID for the whole card.
  return { text: t.buttons[button.verb], callback_data: cardButtonData(incidentId, button) };
}

// ---------------------------------------------------------------------------------------------
// Telegram HTML: lines of segments, serialized with escaping

type Segment =
  | { readonly kind: "plain"; readonly text: string }
  | { readonly kind: "bold"; readonly text: string }
  | { readonly kind: "link"; readonly text: string; readonly href: string };

type Line = readonly Segment[];

const plain = (text: string): Segment => ({ kind: "plain", text });
const bold = (text: string): Segment => ({ kind: "bold", text });
const link = (text: string, href: string): Segment => ({ kind: "link", text, href });

const htmlLength = (text: string): number => escapeHtml(text).length;

function serializeSegment(segment: Segment): string {
  if (segment.text === "") return "";
  switch (segment.kind) {
    case "plain":
      return escapeHtml(segment.text);
    case "bold":
      return `<b>${escapeHtml(segment.text)}</b>`;
    case "link":
      return `<a href="${escapeAttribute(segment.href)}">${escapeHtml(segment.text)}</a>`;
  }
}

/** What the segment costs besides its escaped text. */
function markupLength(segment: Segment): number {
  return serializeSegment({ ...segment, text: "x" }).length - 1;
}

const serializeLine = (line: Line): string => line.map(serializeSegment).join("");
const serialize = (lines: readonly Line[]): string => lines.map(serializeLine).join("\n");

// ---------------------------------------------------------------------------------------------
// Text: cleaning and truncation on grapheme boundaries

const ELLIPSIS = "…";
const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * `text` when `measure(text)` fits `limit`; otherwise its longest prefix of whole graphemes
 * followed by "…" that fits, or "" when not even "…" does.
 */
function truncate(text: string, limit: number, measure: (text: string) => number): string {
  if (measure(text) <= limit) return text;
  if (limit < ELLIPSIS.length) return "";
  let budget = limit - ELLIPSIS.length;
  let end = 0;
  for (const { segment, index } of graphemes.segment(text)) {
    const size = measure(segment);
    if (size > budget) break;
    budget -= size;
    end = index + segment.length;
  }
  return text.slice(0, end).trimEnd() + ELLIPSIS;
}

const visibleLength = (text: string): number => text.length;

/**
 * One line of displayable text: lone surrogates (which Telegram cannot encode) become U+FFFD,
 * control characters and runs of whitespace a single space; then capped at `cap` characters.
 */
function clean(text: string, cap: number): string {
  const tidy = text
    .replace(/[\uD800-\uDFFF]/gu, "\uFFFD")
    .replace(/[\p{Cc}\s]+/gu, " ")
    .trim();
  return truncate(tidy, cap, visibleLength);
}

// Readability caps, applied before fitting: the card is read on a phone, and the whole text is
// one tap away in the incident drill-down.
const CAP = {
  incidentId: 64,
  service: 80,
  title: 200,
  summary: 800,
  target: 160,
  note: 300,
  engine: 80,
  owner: 60,
  cause: 400,
  action: 160,
  downtime: 40,
  decision: 300,
  linkLabel: 60,
  historyText: 200,
} as const;
const MAX_VISIBLE_HISTORY = 15;
const MAX_LINKS = 8;
const MAX_HREF_LENGTH = 2048;

// ---------------------------------------------------------------------------------------------
// Times and numbers

interface Moment {
  /** Compares calendar days in the card's zone. */
  readonly dayKey: string;
  /** "Mar 29" */
  readonly day: string;
  /** "12:03" */
  readonly time: string;
  /** "UTC", "GMT+8" */
  readonly zone: string;
}

type Clock = (date: Date) => Moment;

function makeClock(timeZone: string, language: Language): Clock {
  return (date) =>
    Number.isNaN(date.getTime())
      ? { dayKey: "?", day: "?", time: "??:??", zone: "" }
      : momentIn(date, timeZone, language);
}

/** The time alone when on the same day as `reference`, else with the date. */
const when = (moment: Moment, reference: Moment): string =>
  moment.dayKey === reference.dayKey ? moment.time : `${moment.day} ${moment.time}`;

const withZone = (text: string, moment: Moment): string =>
  moment.zone === "" ? text : `${text} ${moment.zone}`;

const isCount = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value >= 0;

// ---------------------------------------------------------------------------------------------
// Layout

const SEPARATOR: Line = [plain("━━━━━━━━━━━━━━━━━━━")];

const SEVERITY_ICONS: Readonly<Record<Severity, string>> = { P0: "🚨", P1: "⚠️", P2: "ℹ️" };

/** Everything on the card, formatted; only the fields named in the shrink steps ever change. */
interface Draft {
  readonly header: Line;
  readonly title: string;
  readonly summary: string;
  readonly incident: readonly Line[];
  /** The analysis lines above the cause; undefined while there is no analysis. */
  readonly analysis: readonly Line[] | undefined;
  readonly cause: string;
  readonly action: readonly Line[];
  readonly links: Line | undefined;
  /** The history lines shown, oldest first. */
  readonly history: readonly string[];
  /** How many older history entries are not shown. */
  readonly earlierHistory: number;
}

function draftCard(card: IncidentCard, clock: Clock, t: Messages): Draft {
  const shownHistory = card.history.slice(-MAX_VISIBLE_HISTORY);
  return {
    header: headerLine(card, t),
    title: clean(card.title, CAP.title),
    summary: clean(card.summary ?? "", CAP.summary),
    incident: incidentLines(card, clock, t),
    analysis: card.analysis && analysisLines(card.analysis, t),
    cause: clean(card.analysis?.cause ?? "", CAP.cause),
    action: card.analysis
      ? actionLines(card.analysis, t)
      : [pendingAnalysisLine(card.status, card.analysisFailed, t)],
    links: linksLine(card.links),
    history: historyTexts(shownHistory, clock, latestDate(card)),
    earlierHistory: card.history.length - shownHistory.length,
  };
}

function composeLines(draft: Draft, t: Messages): Line[] {
  const sections: (readonly Line[])[] = [
    [draft.header, ...titleLines(draft)],
    draft.incident,
    draft.analysis ? [...draft.analysis, causeLine(draft.cause, t)] : [],
    draft.action,
    [...(draft.links ? [draft.links] : []), ...historyLines(draft, t)],
  ];
  return sections
    .filter((section) => section.length > 0)
    .flatMap((section, index) => (index === 0 ? section : [SEPARATOR, ...section]));
}

function headerLine(card: IncidentCard, t: Messages): Line {
  const service = clean(card.service, CAP.service) || t.card.unknownService;
  const severity = t.card.severity[card.severity];
  if (card.status === "resolved") {
    return [plain("✅ "), bold(t.card.resolvedHeader({ service })), plain(t.card.wasSeverity({ severity }))];
  }
  return [plain(`${SEVERITY_ICONS[card.severity]} `), bold(`${severity} | ${service}`)];
}

function titleLines({ title, summary }: Draft): Line[] {
  if (title === "") return summary === "" ? [] : [[plain(summary)]];
  return [summary === "" ? [bold(title)] : [bold(title), plain(` — ${summary}`)]];
}

function incidentLines(card: IncidentCard, clock: Clock, t: Messages): Line[] {
  const lines: Line[] = [
    [plain(`📋 ${clean(card.incidentId, CAP.incidentId)} · ${statusText(card, clock, t)}`)],
  ];
  if (card.takenBy) lines.push([plain(takerText(card, clock, t))]);
  if (card.target) lines.push([plain(`🎯 ${targetText(card.target)}`)]);
  for (const note of card.notes ?? []) lines.push([plain(`ℹ️ ${clean(note, CAP.note)}`)]);
  if (card.owner) {
    const slo = card.owner.slo === undefined ? "" : t.card.slo({ slo: clean(card.owner.slo, CAP.owner) });
    const team = clean(card.owner.team, CAP.owner) || t.common.unassigned;
    lines.push([plain(`${t.card.serviceOwner({ team })}${slo}`)]);
  }
  lines.push([plain(occurrencesText(card, clock, t))]);
  return lines;
}

function statusText(card: IncidentCard, clock: Clock, t: Messages): string {
  const source = t.card.via({ source: t.card.source[card.source] });
  if (card.status !== "resolved" || card.resolvedAt === undefined) {
    return `${t.card.status[card.status]} · ${source}`;
  }
  const resolved = clock(card.resolvedAt);
  const time = when(resolved, clock(card.lastSeenAt));
  return `${withZone(t.card.resolvedAt({ time }), resolved)} · ${source}`;
}

/** "👀 On it: @bob since 14:05 UTC (took over from @alice)"; while resolved, who had it. */
function takerText(card: IncidentCard, clock: Clock, t: Messages): string {
  const taker = card.takenBy;
  if (taker === undefined) return "";
  const at = clock(taker.at);
  const since = withZone(when(at, clock(latestDate(card))), at);
  const from = taker.from === undefined ? "" : t.card.takenOverFrom({ who: clean(taker.from, CAP.owner) });
  const who = clean(taker.by, CAP.owner);
  return card.status === "resolved"
    ? `${t.card.takenBy({ who, at: since })}${from}`
    : `${t.card.onIt({ who, since })}${from}`;
}

function targetText(target: CardTarget): string {
  const namespace = target.namespace === undefined ? "" : `${target.namespace}/`;
  return `${clean(target.kind, CAP.target)}: ${clean(namespace + target.name, CAP.target)}`;
}

function occurrencesText(card: IncidentCard, clock: Clock, t: Messages): string {
  const count = isCount(card.occurrences) ? Math.max(1, Math.round(card.occurrences)) : 1;
  const counted = t.card.occurrences({ count });
  const first = clock(card.firstSeenAt);
  const last = clock(card.lastSeenAt);
  if (first.dayKey === last.dayKey && first.time === last.time) {
    return withZone(`${counted} · ${last.time}`, last);
  }
  const span = t.card.firstLast({ first: when(first, last), last: when(last, first) });
  return withZone(`${counted} · ${span}`, last);
}

function analysisLines(analysis: CardAnalysis, t: Messages): Line[] {
  const engine = clean(analysis.engine, CAP.engine);
  const owner: Line = [
    plain(t.card.owner({ team: clean(analysis.ownerTeam, CAP.owner) || t.common.unassigned })),
  ];
  if (analysis.requestedBy !== undefined) {
    // a person asked for this action: no model, no confidence to show
    const who = clean(analysis.requestedBy, CAP.engine);
    return [[plain("🙋 "), bold(t.card.requested), plain(t.card.requestedBy({ who }))], owner];
  }
  return [
    [plain("🤖 "), bold(t.card.aiAnalysis), ...(engine === "" ? [] : [plain(` (${engine})`)])],
    owner,
    [plain(t.card.confidence({ value: confidenceText(analysis.confidence) }))],
  ];
}

function confidenceText(confidence: number): string {
  // Rounded down, so a 0.849 that the guardrail (≥ 0.85) refuses never shows as a green 85%.
  const percent = Number.isFinite(confidence)
    ? Math.min(100, Math.max(0, Math.floor(confidence * 100 + 1e-9)))
    : 0;
  const dot = percent >= 85 ? "🟢" : percent >= 60 ? "🟡" : "🔴";
  return `${dot} ${percent}%`;
}

const causeLine = (cause: string, t: Messages): Line => [
  plain(t.card.cause({ cause: cause || t.common.unknown })),
];

function actionLines(analysis: CardAnalysis, t: Messages): Line[] {
  const action = clean(analysis.suggestedAction, CAP.action) || t.common.none;
  const lines: Line[] = [[plain(t.card.suggested({ action }))]];
  const cannotRun = clean(analysis.cannotRun ?? "", CAP.decision);
  if (cannotRun !== "") lines.push([plain(t.card.cannotRun({ why: cannotRun }))]);
  const downtime = clean(analysis.estimatedDowntime ?? "", CAP.downtime);
  if (downtime !== "") lines.push([plain(t.card.downtime({ downtime }))]);
  const usage = usageText(analysis, t);
  if (usage !== undefined) lines.push([plain(usage)]);
  const decision = clean(analysis.decision ?? "", CAP.decision);
  if (decision !== "") lines.push([plain(`🧭 ${decision}`)]);
  return lines;
}

function usageText({ tokens, costUsd }: CardAnalysis, t: Messages): string | undefined {
  const cost = isCount(costUsd) ? `$${costUsd.toFixed(4)}` : undefined;
  if (isCount(tokens)) {
    return t.card.tokens({ tokens: `${formatCount(tokens)}${cost === undefined ? "" : ` / ${cost}`}` });
  }
  return cost === undefined ? undefined : t.card.cost({ cost });
}

function pendingAnalysisLine(status: IncidentStatus, failed: string | undefined, t: Messages): Line {
  if (failed !== undefined) return [plain(t.card.analysisFailed({ why: clean(failed, CAP.decision) }))];
  const settled = status === "resolved" || status === "silenced";
  return [plain(settled ? t.card.analysisNotRun : t.card.analysisPending)];
}

function linksLine(links: readonly CardLink[]): Line | undefined {
  const segments = links
    .flatMap((candidate) => {
      const href = httpHref(candidate.url);
      return href === undefined
        ? []
        : [link(clean(candidate.label, CAP.linkLabel) || new URL(href).host, href)];
    })
    .slice(0, MAX_LINKS)
    .flatMap((segment, index) => (index === 0 ? [segment] : [plain(" · "), segment]));
  return segments.length === 0 ? undefined : [plain("🔗 "), ...segments];
}

/** The normalized URL when it is http(s); anything else (javascript:, data:, junk) is dropped. */
function httpHref(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  const safe =
    (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.href.length <= MAX_HREF_LENGTH;
  return safe ? parsed.href : undefined;
}

/** The newest moment on the card; history on another day than this shows its date. */
function latestDate(card: IncidentCard): Date {
  const times = [card.lastSeenAt, card.resolvedAt, card.history.at(-1)?.at].map(
    (date) => date?.getTime() ?? NaN,
  );
  return new Date(Math.max(...times.filter((time) => !Number.isNaN(time))));
}

function historyTexts(entries: readonly CardHistoryEntry[], clock: Clock, latest: Date): string[] {
  const reference = clock(latest);
  return entries.map((entry) => `${when(clock(entry.at), reference)} ${clean(entry.text, CAP.historyText)}`);
}

const historyLine = (text: string): Line => [plain(`🕘 ${text}`)];
const earlierLine = (count: number, t: Messages): Line => [
  plain(`🕘 ${ELLIPSIS} ${t.card.earlier({ count })}`),
];

function historyLines(draft: Draft, t: Messages): Line[] {
  const earlier = draft.earlierHistory > 0 ? [earlierLine(draft.earlierHistory, t)] : [];
  return [...earlier, ...draft.history.map(historyLine)];
}

// ---------------------------------------------------------------------------------------------
// Fitting

/** Returns a draft `excess` characters shorter if the step can, else as short as it may. */
type ShrinkStep = (draft: Draft, excess: number, t: Messages) => Draft;

/** Hides the oldest shown history entries, keeping at least `keep`. */
const hideHistory =
  (keep: number): ShrinkStep =>
  (draft, excess, t) => {
    const lineCost = (line: Line): number => serializeLine(line).length + 1;
    const earlierCost = (count: number): number => (count === 0 ? 0 : lineCost(earlierLine(count, t)));
    let hidden = 0;
    let saved = 0;
    while (saved < excess && draft.history.length - hidden > keep) {
      const before = draft.earlierHistory + hidden;
      saved +=
        lineCost(historyLine(draft.history[hidden] ?? "")) + earlierCost(before) - earlierCost(before + 1);
      hidden++;
    }
    return { ...draft, history: draft.history.slice(hidden), earlierHistory: draft.earlierHistory + hidden };
  };

/** Truncates one text field, leaving it at least `floor` characters of HTML. */
const shortenText =
  (field: "title" | "summary" | "cause", floor: number): ShrinkStep =>
  (draft, excess) => {
    const size = htmlLength(draft[field]);
    if (size <= floor) return draft;
    return { ...draft, [field]: truncate(draft[field], Math.max(floor, size - excess), htmlLength) };
  };

// Oldest history, summary, cause, title: first down to floors that keep the card useful, then
// again down to almost nothing. The newest history entry (often "approved by @alice") goes last.
const SHRINK_STEPS: readonly ShrinkStep[] = [
  hideHistory(3),
  shortenText("summary", 200),
  shortenText("cause", 120),
  shortenText("title", 60),
  hideHistory(1),
  shortenText("summary", 0),
  shortenText("cause", 24),
  shortenText("title", 24),
  hideHistory(0),
];

function fitDraft(initial: Draft, maxLength: number, t: Messages): string {
  let draft = initial;
  let text = serialize(composeLines(draft, t));
  for (const step of SHRINK_STEPS) {
    if (text.length <= maxLength) return text;
    draft = step(draft, text.length - maxLength, t);
    text = serialize(composeLines(draft, t));
  }
  return text.length <= maxLength ? text : cutLines(composeLines(draft, t), maxLength);
}

/**
 * Last resort, when the fields that never shrink are too long for `maxLength` by themselves:
 * the whole lines that fit from the top, then "…".
 */
function cutLines(lines: readonly Line[], maxLength: number): string {
  const tail = `\n${ELLIPSIS}`;
  const kept: string[] = [];
  let size = -1;
  for (const line of lines) {
    const html = serializeLine(line);
    if (size + 1 + html.length + tail.length > maxLength) break;
    kept.push(html);
    size += 1 + html.length;
  }
  return kept.length > 0 ? kept.join("\n") + tail : serializeLine(cutLine(lines[0] ?? [], maxLength));
}

function cutLine(line: Line, maxLength: number): Line {
  const kept: Segment[] = [];
  let budget = maxLength;
  for (const segment of line) {
    const size = serializeSegment(segment).length;
    if (size <= budget) {
      kept.push(segment);
      budget -= size;
      continue;
    }
    const room = budget - markupLength(segment);
    if (room > 0) kept.push({ ...segment, text: truncate(segment.text, room, htmlLength) });
    else if (budget >= ELLIPSIS.length) kept.push(plain(ELLIPSIS));
    break;
  }
  return kept;
}

// The chat's language (BOT_LANGUAGE) and its message catalogue. One typed catalogue per language
// (`en.ts`, `zh-tw.ts`) rather than an i18n library: the texts are few, the type makes a missing
// key a compile error, and the functions keep each text's arguments named and checked.
//
// It lives in domain/ because every floor that writes for people needs it: the offline analyzer
// (ai/), the use cases' answers (handlers/), the queues' reminders (jobs/) and the bot (bot/).
import type { Decision, RuleName, Verdict } from "../decide.js";
import { clockTime } from "../time.js";
import { en, type Messages } from "./en.js";
import { zhTW } from "./zh-tw.js";

export type { Messages } from "./en.js";
export { formatCount } from "./en.js";

/** The languages the bot writes in; BOT_LANGUAGE names one. */
export const LANGUAGES = ["en", "zh-TW"] as const;
export type Language = (typeof LANGUAGES)[number];

/** English unless configured: see the README's settings table for why. */
export const DEFAULT_LANGUAGE: Language = "en";

export const CATALOGUES: Readonly<Record<Language, Messages>> = { en, "zh-TW": zhTW };

/** The catalogue of `language` (the default language when none is given). */
export function messagesFor(language: Language = DEFAULT_LANGUAGE): Messages {
  return CATALOGUES[language];
}

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/**
 * Telegram's `language_code` for a language: the two-letter ISO 639-1 code of the user's app
 * language ("zh" for every Chinese variant), which setMyCommands matches its per-language lists on.
 */
export function telegramLanguageCode(language: Language): "en" | "zh" {
  return language === "zh-TW" ? "zh" : "en";
}

/**
 * One text of a catalogue section as data: its key as `code`, beside the text's named arguments.
 * What the bot keeps where it must say something later, in whichever language the chat reads.
 */
type Saying<Section> = {
  [Code in keyof Section]: { code: Code } & (Section[Code] extends (args: infer Args) => string
    ? Args
    : unknown);
}[keyof Section];

/** Why an executor's guard refused, as data (the catalogue's `guardReason`). */
export type GuardSaying = Saying<Messages["guardReason"]>;
/** What a verification saw, as data (the catalogue's `verifyDetail`). */
export type VerifySaying = Saying<Messages["verifyDetail"]>;
/** Why an execute failed in an executor's own words, as data (the catalogue's `executeError`). */
export type ExecuteSaying = Saying<Messages["executeError"]>;
/** Why no analysis could be made, in the analyze job's own words, as data (the catalogue's `analysisError`). */
export type AnalysisSaying = Saying<Messages["analysisError"]>;
/** What /status says about a dependency in the bot's own words, as data (the catalogue's `statusDetail`). */
export type StatusSaying = Saying<Messages["statusDetail"]>;
/** Why Alertmanager's silences API did not do as asked, as data (the catalogue's `alertmanagerError`). */
export type AlertmanagerSaying = Saying<Messages["alertmanagerError"]>;

/** Why the target said no to an action, as data (the catalogue's `refusal`). */
export type RefusalSaying = Saying<Messages["refusal"]>;

/** The catalogue sections whose texts are kept as sayings. */
type SayingSection =
  | "guardReason"
  | "verifyDetail"
  | "executeError"
  | "analysisError"
  | "statusDetail"
  | "alertmanagerError"
  | "refusal";

/** A saying's English text: what the audit log, /health and the logs keep. */
export function englishOf(section: SayingSection, said: { code: string }): string {
  return sayingText(section, said, en) ?? said.code;
}

/**
 * A saying of `section` in `t`'s words; undefined when `said` is none of the section's (stored
 * before sayings were kept, or naming a text since removed), so the caller keeps its English.
 */
export function sayingText(
  section: SayingSection,
  said: unknown,
  t: Messages,
  /** BOT_TIMEZONE: the zone a saying's times are shown in; without it they stay ISO (the English kept). */
  timeZone?: string,
): string | undefined {
  if (typeof said !== "object" || said === null || !("code" in said)) return undefined;
  const code = String(said.code);
  const texts = t[section];
  if (!Object.hasOwn(texts, code)) return undefined;
  // a saying that quotes another (a guard's re-check refusing at execute time) says it in t's words too
  const nested = section === "executeError" && code === "rechecked" ? NESTED_GUARD : undefined;
  const inner =
    nested === undefined
      ? undefined
      : sayingText(nested.section, (said as Record<string, unknown>)[nested.from], t);
  const args = inner === undefined || nested === undefined ? said : { ...said, [nested.argument]: inner };
  // the code names its arguments (Saying); the catalogue's text for it takes exactly those
  return (texts[code as keyof typeof texts] as (args: object) => string)(inZone(args, t, timeZone));
}

/** The arguments of sayings that hold a time (ISO UTC, as kept). */
const TIME_ARGUMENTS = ["until", "since", "at", "cutoff"] as const;

/** A saying's times as the chat shows them (in `timeZone`, with the date when not today); ISO without a zone. */
function inZone(args: object, t: Messages, timeZone: string | undefined): object {
  if (timeZone === undefined) return args;
  const times = TIME_ARGUMENTS.flatMap((name) => {
    const value = (args as Record<string, unknown>)[name];
    if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return [];
    const at = new Date(value);
    return Number.isNaN(at.getTime())
      ? []
      : [[name, clockTime(at, timeZone, new Date(), t.language)] as const];
  });
  return times.length === 0 ? args : { ...args, ...Object.fromEntries(times) };
}

/** executeError.rechecked: its `reason` is said from its `guard`, a guardReason saying. */
const NESTED_GUARD = { argument: "reason", from: "guard", section: "guardReason" } as const;

/**
 * Which argument of a failure's text (`failure`, handlers/execute-action.ts FailureReason) quotes
 * an executor's words, and the section of its `said`: said in the chat's language in its place.
 */
const QUOTED_SAYING = {
  guard: { argument: "reason", section: "guardReason" },
  rollback_guard: { argument: "reason", section: "guardReason" },
  verify_failed: { argument: "detail", section: "verifyDetail" },
  not_recovered: { argument: "waiting", section: "verifyDetail" },
  execution_failed: { argument: "error", section: "executeError" },
} as const satisfies Partial<Record<keyof Messages["failure"], { argument: string; section: SayingSection }>>;

/**
 * A stored reason for a failed or refused action (handlers/execute-action.ts FailureReason,
 * RefusalReason) in `t`'s words, with the executor's words inside it from their `said` (or as
 * stored, in English, when kept before `said` was). Undefined when it is none of the catalogue's:
 * the caller keeps the recorded English.
 */
export function failureText(reason: unknown, t: Messages, timeZone?: string): string | undefined {
  if (typeof reason !== "object" || reason === null || !("code" in reason)) return undefined;
  const code = String(reason.code);
  // the code names its arguments (FailureReason, RefusalReason); the catalogue's text for it takes exactly those
  if (Object.hasOwn(t.failure, code)) {
    const quoted = Object.hasOwn(QUOTED_SAYING, code)
      ? QUOTED_SAYING[code as keyof typeof QUOTED_SAYING]
      : undefined;
    const said =
      quoted === undefined
        ? undefined
        : sayingText(quoted.section, (reason as { said?: unknown }).said, t, timeZone);
    const args =
      quoted === undefined || said === undefined
        ? { ...reason, ...cannotRunWhy(reason, t) }
        : { ...reason, [quoted.argument]: said };
    return (t.failure[code as keyof Messages["failure"]] as (args: object) => string)(args);
  }
  return sayingText("refusal", reason, t, timeZone);
}

/** A cannot_run reason whose `why` is the catalogue's own (its key kept as `missing`): `why` in t's words. */
function cannotRunWhy(reason: object, t: Messages): { why?: string } {
  const missing = (reason as { missing?: unknown }).missing;
  return typeof missing === "string" && Object.hasOwn(t.cannotRun, missing)
    ? { why: t.cannotRun[missing as keyof Messages["cannotRun"]] }
    : {};
}

/**
 * A guardrail verdict in the chat's language, from the figures decide() kept with it. A verdict
 * without them (recorded before they were kept, or added by a use case) keeps its English detail.
 */
export function verdictText(verdict: Verdict, t: Messages): string {
  if (verdict.params === undefined || !Object.hasOwn(t.verdict, verdict.rule)) return verdict.detail;
  // the rule names its params (RuleParams); the catalogue's text for it takes exactly those
  const text = t.verdict[verdict.rule as RuleName] as (args: Record<string, unknown>) => string;
  return text({ ...verdict.params, ok: verdict.ok });
}

/**
 * The guardrails' one-line verdict ("auto: …" runs by itself; the timeline shows it running) in
 * BOT_LANGUAGE, each failing rule said from the figures decide() kept; settings and names stay.
 */
export function decisionText(decision: Decision, t: Messages): string {
  const failing = (kind: "hard" | "soft") =>
    decision.verdicts
      .filter((verdict) => verdict.kind === kind && !verdict.ok)
      .map((verdict) => verdictText(verdict, t))
      .join(t.decision.joiner);
  switch (decision.mode) {
    case "nothing_to_run":
      return t.decision.nothingToRun;
    case "refused":
      return failing("hard") === "" ? decision.summary : t.decision.refused({ details: failing("hard") });
    case "approval":
      return failing("soft") === "" ? decision.summary : t.decision.approval({ details: failing("soft") });
    case "auto":
      return t.decision.auto({ details: autoWhy(decision, t) });
  }
}

/** Why it runs by itself, from the confidence, risk and hourly budget verdicts; decide()'s words when they lack figures. */
function autoWhy(decision: Decision, t: Messages): string {
  const params = (rule: string) => decision.verdicts.find((verdict) => verdict.rule === rule)?.params;
  const confidence = params("confidence");
  const risk = params("risk");
  const budget = params("hourly_budget");
  if (confidence === undefined || risk === undefined || budget === undefined) {
    return decision.summary.replace(/^auto: /, "");
  }
  return t.decision.autoWhy({
    confidence: String(confidence.confidence),
    min: Number(confidence.min),
    risk: String(risk.declared),
    // the summary counts the run it allows
    used: Number(budget.used) + 1,
    max: Number(budget.max),
  });
}

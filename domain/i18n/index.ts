// The chat's language (BOT_LANGUAGE) and its message catalogue. One typed catalogue per language
// (`en.ts`, `zh-tw.ts`) rather than an i18n library: the texts are few, the type makes a missing
// key a compile error, and the functions keep each text's arguments named and checked.
//
// It lives in domain/ because every floor that writes for people needs it: the offline analyzer
// (ai/), the use cases' answers (handlers/), the queues' reminders (jobs/) and the bot (bot/).
import type { RuleName, Verdict } from "../decide.js";
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
 * A guardrail verdict in the chat's language, from the figures decide() kept with it. A verdict
 * without them (recorded before they were kept, or added by a use case) keeps its English detail.
 */
export function verdictText(verdict: Verdict, t: Messages): string {
  if (verdict.params === undefined || !Object.hasOwn(t.verdict, verdict.rule)) return verdict.detail;
  // the rule names its params (RuleParams); the catalogue's text for it takes exactly those
  const text = t.verdict[verdict.rule as RuleName] as (args: Record<string, unknown>) => string;
  return text({ ...verdict.params, ok: verdict.ok });
}

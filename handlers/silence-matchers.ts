// What a silence matches and for how long, from the chat's words (`service=api 2h reason`) or from
// an incident's labels. Pure: no I/O; a problem is said in the catalogue's words (BOT_LANGUAGE).
import type { SilenceMatcher } from "../db/silences.js";
import { messagesFor, type Messages } from "../domain/i18n/index.js";

/** The longest silence the chat may create: a forgotten one must not hide a week-old outage. */
export const MAX_SILENCE_MS = 7 * 24 * 3_600_000;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 24 * 3_600_000 };

/** `30m`, `2h`, `1d` (also `1h30m`) → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d{1,4}[mhd])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d{1,4})([mhd])/g)) {
    total += Number(amount) * (UNIT_MS[unit ?? "m"] ?? 0);
  }
  return total > 0 ? total : undefined;
}

/** 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1_440);
  const hours = Math.floor((minutes % 1_440) / 60);
  const rest = minutes % 60;
  const parts = [days > 0 ? `${days}d` : "", hours > 0 ? `${hours}h` : "", rest > 0 ? `${rest}m` : ""];
  return parts.join("") || "0m";
}

const MATCHER = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$/;

/** `k=v`, `k!=v`, `k=~re`, `k!~re` → a matcher; undefined when the word is not one. */
export function parseMatcher(word: string): SilenceMatcher | undefined {
  const match = MATCHER.exec(word.trim());
  if (match === null) return undefined;
  const [, name = "", operator = "=", raw = ""] = match;
  const value = raw.replace(/^"(.*)"$/, "$1");
  const isRegex = operator.includes("~");
  if (isRegex) {
    try {
      new RegExp(value);
    } catch {
      return undefined;
    }
  }
  return { name, value, isRegex, isEqual: !operator.startsWith("!") };
}

export function formatMatcher(matcher: SilenceMatcher): string {
  const operator = `${matcher.isEqual ? "=" : "!"}${matcher.isRegex ? "~" : matcher.isEqual ? "" : "="}`;
  return `${matcher.name}${operator}${matcher.value}`;
}

export function formatMatchers(matchers: readonly SilenceMatcher[]): string {
  return matchers.map(formatMatcher).join(", ");
}

/** Alertmanager refuses a silence every matcher of which matches the empty string (it would mute all). */
export function matchersProblem(
  matchers: readonly SilenceMatcher[],
  t: Messages = messagesFor(),
): string | undefined {
  if (matchers.length === 0) return t.silences.problems.noMatcher;
  const selective = matchers.some((matcher) => {
    const empty = matcher.isRegex ? new RegExp(`^(?:${matcher.value})$`).test("") : matcher.value === "";
    return matcher.isEqual ? !empty : empty;
  });
  return selective ? undefined : t.silences.problems.matchesEverything;
}

export interface ParsedSilenceArgs {
  matchers: SilenceMatcher[];
  durationMs?: number;
  reason?: string;
  /** Words that are neither matchers nor a duration before the reason starts (none when parsing succeeded). */
  problem?: string;
}

/**
 * `service=awoooi-api env=~prod.* 2h deploy in progress` → matchers, duration, reason. Matchers come
 * first, then the duration, then the reason (the rest of the line).
 */
export function parseSilenceArgs(text: string, t: Messages = messagesFor()): ParsedSilenceArgs {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((word) => word !== "");
  const matchers: SilenceMatcher[] = [];
  let index = 0;
  for (; index < words.length; index++) {
    const matcher = parseMatcher(words[index] ?? "");
    if (matcher === undefined) break;
    matchers.push(matcher);
  }
  const next = words[index];
  const durationMs = next === undefined ? undefined : parseDuration(next);
  if (next !== undefined && durationMs === undefined) {
    return {
      matchers,
      problem: t.silences.problems.notMatcherOrDuration({ word: next }),
    };
  }
  const reason = words.slice(index + 1).join(" ");
  return {
    matchers,
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(reason === "" ? {} : { reason }),
  };
}

/** Labels that name what is broken, in the order a person would read them; never `severity`. */
const IDENTIFYING_LABELS = [
  "alertname",
  "namespace",
  "service",
  "deployment",
  "statefulset",
  "daemonset",
  "container",
  "job",
  "instance",
] as const;

/** Labels that change from one occurrence to the next or only grade it. */
const UNSTABLE_LABELS = new Set(["severity", "pod", "pod_name", "priority", "prometheus", "replica"]);

/**
 * The matchers that pick out this incident's alert: alertname plus the labels that identify the
 * workload (not `severity`, not the pod, whose name changes with every restart). Incidents from
 * sources without such labels match on every stable label they have, or on their service.
 */
export function incidentMatchers(
  labels: Readonly<Record<string, string>>,
  service: string | null,
): SilenceMatcher[] {
  const exact = (name: string, value: string): SilenceMatcher => ({
    name,
    value,
    isRegex: false,
    isEqual: true,
  });
  // Scraped from a pod, `instance` is the pod's address and changes with it like the pod name;
  // from a host exporter it names the host, and stays.
  const fromPod = (labels.pod ?? labels.pod_name ?? "") !== "";
  const identifying = IDENTIFYING_LABELS.flatMap((name) => {
    const value = labels[name];
    if (name === "instance" && fromPod) return [];
    return value === undefined || value === "" ? [] : [exact(name, value)];
  });
  if (identifying.some((matcher) => matcher.name !== "job" && matcher.name !== "instance"))
    return identifying;
  const stable = Object.entries(labels)
    .filter(([name, value]) => !UNSTABLE_LABELS.has(name) && value !== "")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => exact(name, value));
  if (stable.length > 0) return stable;
  return service === null ? [] : [exact("service", service)];
}

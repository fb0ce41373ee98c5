import { createHash } from "node:crypto";
import type { AlertSource, CardLink, CardTarget, Severity } from "./incident.js";

/** One alert from any source, in the shape the ingest use case works on. */
export interface NormalizedAlert {
  source: AlertSource;
  /** Identity of the alert across deliveries; incidents are keyed by (source, fingerprint). */
  fingerprint: string;
  status: "firing" | "resolved";
  title: string;
  severity: Severity;
  service?: string;
  summary?: string;
  target?: CardTarget;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: CardLink[];
  startsAt?: Date;
  endsAt?: Date;
  /** The alert as it arrived, kept in the alerts table (made storable: see `storable`). */
  raw: unknown;
  /**
   * Never pages: `severity: none / info` (Watchdog, InfoInhibitor, info alerts). Recorded in the
   * alerts table, no incident is opened.
   */
  informational?: boolean;
  /** How many alerts the sender left out of this group (Alertmanager's `truncatedAlerts`). */
  truncatedAlerts?: number;
  /** What normalization had to change to make the alert storable: "annotations.description cut at 4096 of 100000 characters". */
  cut?: string[];
  /** Why a resolution needs no action, and who said so ("archived in Sentry by Jane Doe"). */
  resolution?: string;
  /**
   * The sender says the problem is back (Sentry's `unresolved`): the latest incident of this
   * identity is reopened however long ago it resolved, instead of opening a new one.
   */
  reopen?: boolean;
}

/** Longest label or annotation value kept (the analysis context's limit); longer values are cut. */
export const VALUE_LIMIT = 4096;
/** Longest label name kept. */
export const KEY_LIMIT = 128;
/** Longest title kept. */
export const TITLE_LIMIT = 512;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `value` with each lone UTF-16 surrogate replaced by U+FFFD (String.prototype.toWellFormed, ES2024). */
function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, "\uFFFD");
}

/**
 * `value` as PostgreSQL can store it: NUL and lone UTF-16 surrogates become U+FFFD. `changed` says
 * whether anything was replaced, so the caller can mark it.
 */
export function storable(value: string): { text: string; changed: boolean } {
  const text = wellFormed(value.replaceAll("\u0000", "\uFFFD"));
  return { text, changed: text !== value };
}

/** `value` storable and at most `limit` characters, with a note in `cut` naming `field` when changed. */
export function fitText(value: string, limit: number, field: string, cut: string[]): string {
  const { text, changed } = storable(value);
  if (changed) cut.push(`${field}: unstorable characters replaced`);
  if (text.length <= limit) return text;
  cut.push(`${field} cut at ${limit} of ${text.length} characters`);
  // never split a surrogate pair at the edge
  return wellFormed(text.slice(0, limit));
}

/** A label or annotation set made storable, values cut at VALUE_LIMIT, names at KEY_LIMIT. */
export function fitRecord(
  record: Readonly<Record<string, string>>,
  name: string,
  cut: string[],
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    const fittedKey = fitText(key, KEY_LIMIT, `${name} name`, cut);
    result[fittedKey] = fitText(value, VALUE_LIMIT, `${name}.${fittedKey}`, cut);
  }
  return result;
}

/** Any JSON value with every string made storable (for the raw payload kept in the alerts table). */
export function storableJson(value: unknown): unknown {
  if (typeof value === "string") return storable(value).text;
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === "object") {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) result[storable(key).text] = storableJson(child);
    return result;
  }
  return value;
}

/** `severity: none` (Watchdog, InfoInhibitor) and `info` are notices, not pages. */
export function isInformationalSeverity(label: string | undefined): boolean {
  const word = (label ?? "").trim().toLowerCase();
  return word === "none" || word === "info" || word === "informational";
}

const SEVERITY_WORDS: Record<string, Severity> = {
  critical: "P0",
  crit: "P0",
  p0: "P0",
  page: "P0",
  emergency: "P0",
  fatal: "P0",
  high: "P1",
  error: "P1",
  major: "P1",
  p1: "P1",
};

/** critical → P0, high/error → P1, anything else (warning, medium, info, missing) → P2. */
export function severityFrom(label: string | undefined): Severity {
  return SEVERITY_WORDS[(label ?? "").trim().toLowerCase()] ?? "P2";
}

/** A stable hash of the sorted label set (Alertmanager's own fingerprint is preferred). */
export function labelsFingerprint(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((key) => [key, labels[key]]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 16);
}

export function httpLink(label: string, url: string | undefined): CardLink[] {
  if (url === undefined) return [];
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? [{ label, url }] : [];
  } catch {
    return [];
  }
}

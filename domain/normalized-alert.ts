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
  /** The alert as it arrived, kept verbatim in the alerts table. */
  raw: unknown;
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

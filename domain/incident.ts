// An incident: what it is about, how severe, where it stands. One incident stands for one alert
// identity (source + fingerprint) from its first firing until it resolves.

export const SEVERITIES = ["P0", "P1", "P2"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const INCIDENT_STATUSES = [
  "open",
  "analyzing",
  "awaiting_approval",
  "executing",
  "verifying",
  "resolved",
  "failed",
  "escalated",
  "silenced",
  "snoozed",
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const ALERT_SOURCES = ["alertmanager", "sentry", "signoz"] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** Where an incident comes from: an alert source, or a request made in the chat (`/rollback`). */
export const INCIDENT_SOURCES = [...ALERT_SOURCES, "chatops"] as const;
export type IncidentSource = (typeof INCIDENT_SOURCES)[number];

export interface CardTarget {
  /** "Pod", "Deployment", "Container", "Host", "Sentry issue", ... */
  kind: string;
  name: string;
  namespace?: string;
}

export interface CardLink {
  label: string;
  url: string;
}

export interface Incident {
  id: string;
  fingerprint: string;
  source: IncidentSource;
  severity: Severity;
  status: IncidentStatus;
  title: string;
  service: string | null;
  summary: string | null;
  target: CardTarget | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: CardLink[];
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  occurrences: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** The first decision anyone took on the card (approve, reject, snooze, silence). */
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  escalatedAt: Date | null;
  snoozedUntil: Date | null;
  snoozedBy: string | null;
  /** How many alerts the sender left out of the group this incident came in (Alertmanager's truncatedAlerts). */
  truncatedAlerts?: number;
  /** What normalization cut or replaced to make the alert storable. */
  cut?: string[];
  /** Why a resolution needs no action and who said so ("archived in Sentry by Jane"). */
  resolution?: string | null;
}

export interface IncidentEvent {
  id: number;
  at: Date;
  kind: string;
  actor: string;
  detail: Record<string, unknown>;
}

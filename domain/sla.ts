// The SLA clock of an incident (the escalation deadlines): nobody acknowledged it within its severity's
// response time → it escalates. The drill-down shows where the clock stands: how long until the
// escalation, or how long since it escalated or since someone acknowledged (took) it.
import type { Incident, Severity } from "./incident.js";

export type SlaClock =
  | { state: "resolved" }
  /** Someone acknowledged it (a decision, or "I'm on it"): no SLA escalation any more. */
  | { state: "acknowledged"; by: string; at: Date; sinceSeconds: number; escalatedAt: Date | null }
  | { state: "escalated"; at: Date; sinceSeconds: number }
  /** Snoozed: the escalation waits until the snooze is over. */
  | { state: "snoozed"; until: Date; dueAt: Date }
  /** Ticking: escalates at `dueAt`; `leftSeconds` is 0 when the deadline has passed (the job is due). */
  | { state: "running"; dueAt: Date; leftSeconds: number };

const seconds = (from: Date, to: Date): number =>
  Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/**
 * Where the clock stands at `now`. `startedAt` is when it started: when the incident opened, or
 * its latest reopening (each reopening books a deadline of its own).
 */
export function slaClock(
  incident: Pick<
    Incident,
    "severity" | "status" | "acknowledgedAt" | "acknowledgedBy" | "escalatedAt" | "snoozedUntil"
  >,
  startedAt: Date,
  afterSeconds: Readonly<Record<Severity, number>>,
  now: Date,
): SlaClock {
  if (incident.status === "resolved") return { state: "resolved" };
  if (incident.acknowledgedAt !== null) {
    return {
      state: "acknowledged",
      by: incident.acknowledgedBy ?? "someone",
      at: incident.acknowledgedAt,
      sinceSeconds: seconds(incident.acknowledgedAt, now),
      escalatedAt: incident.escalatedAt,
    };
  }
  if (incident.escalatedAt !== null) {
    return { state: "escalated", at: incident.escalatedAt, sinceSeconds: seconds(incident.escalatedAt, now) };
  }
  const dueAt = new Date(startedAt.getTime() + afterSeconds[incident.severity] * 1000);
  if (incident.snoozedUntil !== null && incident.snoozedUntil > now) {
    return { state: "snoozed", until: incident.snoozedUntil, dueAt };
  }
  return { state: "running", dueAt, leftSeconds: seconds(now, dueAt) };
}

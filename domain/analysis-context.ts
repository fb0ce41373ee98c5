// What an analysis sees about an incident, as data: the alert, pod logs and events, similar past
// incidents and learned playbooks, the Sentry issue and SigNoz trace ids. ai/context.ts builds it,
// bounded and redacted; the prompt, the offline analyzer and the guardrails read it.
import { z } from "zod";
import { SUGGESTED_ACTIONS } from "./actions.js";

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  count?: number;
  lastTimestamp?: string;
  involvedObject?: { kind: string; name: string };
}

const text = (max: number) => z.string().max(max);
const labelSet = z.record(z.string().max(128), z.string().max(4096));

export const KubeEventSchema = z.object({
  type: text(64),
  reason: text(128),
  message: text(4096),
  count: z.number().int().nonnegative().optional(),
  lastTimestamp: text(64).optional(),
  involvedObject: z.object({ kind: text(64), name: text(253) }).optional(),
});

export const PlaybookSchema = z.object({
  signature: text(512),
  action: z.enum(SUGGESTED_ACTIONS),
  successes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
});
/** A learned remedy: what worked (and how often) for incidents with this signature. */
export type Playbook = z.infer<typeof PlaybookSchema>;

export const SimilarIncidentSchema = z.object({
  id: text(64),
  title: text(512),
  action: text(64).optional(),
  outcome: text(64).optional(),
  summary: text(2048).optional(),
  at: text(64).optional(),
});
export type SimilarIncident = z.infer<typeof SimilarIncidentSchema>;

export const SentryIssueSchema = z.object({
  id: text(64),
  title: text(1024),
  culprit: text(1024).optional(),
  level: text(32).optional(),
  count: z.number().int().nonnegative().optional(),
  userCount: z.number().int().nonnegative().optional(),
  firstSeen: text(64).optional(),
  lastSeen: text(64).optional(),
  permalink: text(2048).optional(),
  stacktrace: text(16_384).optional(),
});
export type SentryIssueDetails = z.infer<typeof SentryIssueSchema>;

export const AnalysisContextSchema = z.object({
  // "chatops": an incident opened from the chat (`/rollback`), analysed again on request
  source: z.enum(["alertmanager", "sentry", "signoz", "chatops"]),
  /** The alert name (Alertmanager `alertname`, Sentry issue title, …). */
  title: text(512),
  severity: z.enum(["P0", "P1", "P2"]).optional(),
  status: z.enum(["firing", "resolved"]).default("firing"),
  summary: text(4096).optional(),
  labels: labelSet.default({}),
  annotations: labelSet.default({}),
  startsAt: text(64).optional(),
  podLogs: text(1_048_576).optional(),
  events: z.array(KubeEventSchema).default([]),
  similarIncidents: z.array(SimilarIncidentSchema).default([]),
  playbooks: z.array(PlaybookSchema).default([]),
  sentryIssue: SentryIssueSchema.optional(),
  traceIds: z.array(text(64)).default([]),
  /** Why some context is missing ("pod logs unavailable: …"), so a reader knows it was tried. */
  notes: z.array(text(512)).default([]),
});
export type AnalysisContext = z.infer<typeof AnalysisContextSchema>;

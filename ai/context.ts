// What an analysis sees about an incident: the alert, pod logs and events from Kubernetes, similar
// past incidents and learned playbooks, the Sentry issue and SigNoz trace ids. Everything is
// bounded in size, and logs/events are redacted as they are collected.
import {
  type AnalysisContext,
  type KubeEvent,
  type Playbook,
  type SentryIssueDetails,
  type SimilarIncident,
} from "../domain/analysis-context.js";
import { redactSecrets } from "./redact.js";
import { withDeadline, noAnswerWithin } from "../domain/deadline.js";
import type { KubeReader } from "../gateways/kube-gateway.js";

export interface ContextLimits {
  /** Pod logs keep their last this many bytes. */
  logBytes: number;
  logTailLines: number;
  maxEvents: number;
  maxSimilarIncidents: number;
  maxPlaybooks: number;
  maxTraceIds: number;
  maxLabels: number;
  maxLabelValue: number;
  maxAnnotationValue: number;
  /** A Kubernetes read slower than this is given up; the analysis goes on without it. */
  gatewayTimeoutMs: number;
}

export const DEFAULT_CONTEXT_LIMITS: Readonly<ContextLimits> = Object.freeze({
  logBytes: 8 * 1024,
  logTailLines: 200,
  maxEvents: 20,
  maxSimilarIncidents: 5,
  maxPlaybooks: 10,
  maxTraceIds: 10,
  maxLabels: 64,
  maxLabelValue: 512,
  maxAnnotationValue: 2048,
  gatewayTimeoutMs: 5_000,
});

/** The alert part of the context; `NormalizedAlert` (handlers/sources) fits it as is. */
export interface AlertInput {
  source: "alertmanager" | "sentry" | "signoz" | "chatops";
  title: string;
  severity?: "P0" | "P1" | "P2";
  status?: "firing" | "resolved";
  summary?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: Date | string;
}

export interface ContextInput {
  alert: AlertInput;
  similarIncidents?: readonly SimilarIncident[];
  playbooks?: readonly Playbook[];
  sentryIssue?: SentryIssueDetails;
  traceIds?: readonly string[];
}

export interface ContextDeps {
  kube?: KubeReader | undefined;
}

/**
 * Builds the bounded context for one incident. Never throws for a missing or failing
 * Kubernetes gateway: what could not be read is named in `notes`.
 */
export async function buildAnalysisContext(
  deps: ContextDeps,
  input: ContextInput,
  limits: Readonly<ContextLimits> = DEFAULT_CONTEXT_LIMITS,
): Promise<AnalysisContext> {
  const { alert } = input;
  const labels = boundRecord(alert.labels, limits.maxLabels, limits.maxLabelValue);
  const annotations = boundRecord(alert.annotations, limits.maxLabels, limits.maxAnnotationValue);
  const notes: string[] = [];
  const kube = await readKube(deps.kube, labels, limits, notes);
  const startsAt = alert.startsAt instanceof Date ? alert.startsAt.toISOString() : alert.startsAt;
  return {
    source: alert.source,
    title: truncateText(alert.title, 512),
    status: alert.status ?? "firing",
    labels,
    annotations,
    events: kube.events,
    similarIncidents: (input.similarIncidents ?? []).slice(0, limits.maxSimilarIncidents),
    playbooks: (input.playbooks ?? []).slice(0, limits.maxPlaybooks),
    traceIds: (input.traceIds ?? []).slice(0, limits.maxTraceIds),
    notes,
    ...(alert.severity === undefined ? {} : { severity: alert.severity }),
    ...(alert.summary === undefined ? {} : { summary: truncateText(alert.summary, 4096) }),
    ...(startsAt === undefined ? {} : { startsAt }),
    ...(kube.logs === undefined ? {} : { podLogs: kube.logs }),
    ...(input.sentryIssue === undefined ? {} : { sentryIssue: boundSentryIssue(input.sentryIssue) }),
  };
}

async function readKube(
  kube: KubeReader | undefined,
  labels: Record<string, string>,
  limits: Readonly<ContextLimits>,
  notes: string[],
): Promise<{ logs?: string; events: KubeEvent[] }> {
  const namespace = labels.namespace;
  const pod = labels.pod;
  const object = pod ?? labels.deployment ?? labels.statefulset;
  if (kube === undefined || namespace === undefined || object === undefined) return { events: [] };

  const crashing = /crashloop|backoff|oomkill/i.test(labels.alertname ?? "") || labels.reason !== undefined;
  const [logs, events] = await Promise.all([
    pod === undefined
      ? Promise.resolve(undefined)
      : bounded(
          () =>
            kube.podLogs(namespace, pod, {
              tailLines: limits.logTailLines,
              ...(crashing ? { previous: true } : {}),
              ...(labels.container === undefined ? {} : { container: labels.container }),
            }),
          limits.gatewayTimeoutMs,
        ).catch((error: unknown) => {
          notes.push(`pod logs unavailable: ${errorText(error)}`);
          return undefined;
        }),
    bounded(() => kube.events(namespace, object), limits.gatewayTimeoutMs).catch((error: unknown) => {
      notes.push(`events unavailable: ${errorText(error)}`);
      return [];
    }),
  ]);
  return {
    events: newestEvents(events, limits.maxEvents).map(boundEvent),
    ...(logs === undefined ? {} : { logs: tailBytes(redactSecrets(stripControl(logs)), limits.logBytes) }),
  };
}

function bounded<T>(read: () => Promise<T>, ms: number): Promise<T> {
  return withDeadline(ms, read, noAnswerWithin(ms));
}

function newestEvents(events: readonly KubeEvent[], max: number): KubeEvent[] {
  // Warnings first, then the most recent; a pod's last minutes matter more than its birth.
  return [...events]
    .sort(
      (a, b) =>
        Number(b.type === "Warning") - Number(a.type === "Warning") ||
        (b.lastTimestamp ?? "").localeCompare(a.lastTimestamp ?? ""),
    )
    .slice(0, max);
}

function boundEvent(event: KubeEvent): KubeEvent {
  return {
    ...event,
    type: truncateText(event.type, 64),
    reason: truncateText(event.reason, 128),
    message: truncateText(redactSecrets(stripControl(event.message)), 1024),
  };
}

function boundSentryIssue(issue: SentryIssueDetails): SentryIssueDetails {
  return issue.stacktrace === undefined
    ? issue
    : { ...issue, stacktrace: tailBytes(redactSecrets(issue.stacktrace), 4096) };
}

function boundRecord(
  record: Record<string, string>,
  maxKeys: number,
  maxValue: number,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record)
      .slice(0, maxKeys)
      .map(([key, value]) => [truncateText(key, 128), truncateText(value, maxValue)]),
  );
}

export function truncateText(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** The last `maxBytes` of `text` (UTF-8), starting at a line boundary, marked as truncated. */
export function tailBytes(value: string, maxBytes: number): string {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length <= maxBytes) return value;
  const tail = bytes.subarray(bytes.length - maxBytes).toString("utf8");
  const newline = tail.indexOf("\n");
  const clean =
    newline >= 0 && newline < tail.length - 1 ? tail.slice(newline + 1) : tail.replace(/^\uFFFD+/, "");
  return `…[${bytes.length - Buffer.byteLength(clean, "utf8")} earlier bytes truncated]\n${clean}`;
}

// ANSI colour codes and other control characters; newlines and tabs stay.
// eslint-disable-next-line no-control-regex
const CONTROL = /\u001B\[[0-9;?]*[A-Za-z]|[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

export function stripControl(value: string): string {
  return value.replace(CONTROL, "");
}

function errorText(error: unknown): string {
  return truncateText(error instanceof Error ? error.message : String(error), 200);
}

/** A context trimmed to a prompt budget, and what was left out. */
export interface FittedContext<T> {
  context: AnalysisContext;
  /** What `measure` made of the trimmed context (the prompt). */
  measured: T;
  tokens: number;
  /** "similar_past_incidents: 3 of 5 dropped", "pod_logs: 6144 of 8192 bytes dropped", … */
  dropped: string[];
  /** Even trimmed to the alert and its allowed targets, it is over the budget. */
  fits: boolean;
}

/**
 * The steps that make a context smaller, least useful first: past incidents and playbooks (hints,
 * not evidence), trace ids (links, not content), routine Normal events, then halves of the pod
 * logs and the stack trace (their newest part stays), long annotation values, and at last the
 * remaining events and logs. The alert itself and the allowed targets are never dropped.
 */
const TRIM_STEPS: readonly ((
  c: AnalysisContext,
) => { context: AnalysisContext; what: string } | undefined)[] = [
  (c) =>
    c.similarIncidents.length === 0
      ? undefined
      : {
          context: { ...c, similarIncidents: c.similarIncidents.slice(0, -1) },
          what: "similar_past_incidents",
        },
  (c) =>
    c.playbooks.length === 0
      ? undefined
      : { context: { ...c, playbooks: c.playbooks.slice(0, -1) }, what: "learned_playbooks" },
  (c) =>
    c.traceIds.length === 0
      ? undefined
      : { context: { ...c, traceIds: c.traceIds.slice(0, -1) }, what: "signoz_trace_ids" },
  (c) => {
    const index = c.events.findLastIndex((e) => e.type !== "Warning");
    return index < 0
      ? undefined
      : { context: { ...c, events: c.events.filter((_, i) => i !== index) }, what: "kubernetes_events" };
  },
  (c) => halveText(c, "podLogs", 1024),
  (c) => {
    const trace = c.sentryIssue?.stacktrace;
    if (c.sentryIssue === undefined || trace === undefined || Buffer.byteLength(trace) <= 512)
      return undefined;
    return {
      context: {
        ...c,
        sentryIssue: { ...c.sentryIssue, stacktrace: tailBytes(trace, Buffer.byteLength(trace) / 2) },
      },
      what: "sentry_stacktrace",
    };
  },
  (c) => {
    // the longest annotation values are halved, down to 256 characters
    const longest = Math.max(0, ...Object.values(c.annotations).map((v) => v.length));
    if (longest <= 256) return undefined;
    const max = Math.max(256, Math.floor(longest / 2));
    return {
      context: {
        ...c,
        annotations: Object.fromEntries(
          Object.entries(c.annotations).map(([k, v]) => [k, truncateText(v, max)]),
        ),
      },
      what: `annotations:${max}`,
    };
  },
  // the oldest events go first: newestEvents() put the newest warnings first
  (c) =>
    c.events.length === 0
      ? undefined
      : { context: { ...c, events: c.events.slice(0, -1) }, what: "kubernetes_events" },
  (c) => halveText(c, "podLogs", 0),
  (c) => {
    if (c.podLogs === undefined) return undefined;
    const { podLogs: _gone, ...rest } = c;
    return { context: rest, what: "pod_logs" };
  },
];

function halveText(
  c: AnalysisContext,
  field: "podLogs",
  floorBytes: number,
): { context: AnalysisContext; what: string } | undefined {
  const text = c[field];
  if (text === undefined) return undefined;
  const bytes = Buffer.byteLength(text);
  if (bytes <= Math.max(floorBytes, 256)) return undefined;
  return { context: { ...c, [field]: tailBytes(text, Math.floor(bytes / 2)) }, what: "pod_logs" };
}

/**
 * Trims `context` until `measure` says it is within `budgetTokens`, least useful context first
 * (`TRIM_STEPS`), and says what it dropped. `measure` builds the prompt and counts it.
 */
export function fitContext<T>(
  context: AnalysisContext,
  budgetTokens: number,
  measure: (context: AnalysisContext) => { value: T; tokens: number },
): FittedContext<T> {
  const before = {
    similar_past_incidents: context.similarIncidents.length,
    learned_playbooks: context.playbooks.length,
    signoz_trace_ids: context.traceIds.length,
    kubernetes_events: context.events.length,
  };
  const beforeBytes = {
    pod_logs: Buffer.byteLength(context.podLogs ?? ""),
    sentry_stacktrace: Buffer.byteLength(context.sentryIssue?.stacktrace ?? ""),
  };
  let current = context;
  let measured = measure(current);
  const touched = new Set<string>();
  for (const step of TRIM_STEPS) {
    while (measured.tokens > budgetTokens) {
      const next = step(current);
      if (next === undefined) break;
      current = next.context;
      touched.add(next.what);
      measured = measure(current);
    }
    if (measured.tokens <= budgetTokens) break;
  }
  const dropped: string[] = [];
  const counts: Record<keyof typeof before, number> = {
    similar_past_incidents: current.similarIncidents.length,
    learned_playbooks: current.playbooks.length,
    signoz_trace_ids: current.traceIds.length,
    kubernetes_events: current.events.length,
  };
  for (const key of Object.keys(before) as (keyof typeof before)[]) {
    if (touched.has(key)) dropped.push(`${key}: ${before[key] - counts[key]} of ${before[key]} dropped`);
  }
  const afterBytes = {
    pod_logs: Buffer.byteLength(current.podLogs ?? ""),
    sentry_stacktrace: Buffer.byteLength(current.sentryIssue?.stacktrace ?? ""),
  };
  for (const key of ["pod_logs", "sentry_stacktrace"] as const) {
    if (touched.has(key))
      dropped.push(`${key}: ${beforeBytes[key] - afterBytes[key]} of ${beforeBytes[key]} bytes dropped`);
  }
  const annotationCut = Math.min(
    ...[...touched].filter((w) => w.startsWith("annotations:")).map((w) => Number(w.split(":")[1])),
  );
  if (Number.isFinite(annotationCut)) dropped.push(`annotations: values cut to ${annotationCut} characters`);
  return {
    context: current,
    measured: measured.value,
    tokens: measured.tokens,
    dropped,
    fits: measured.tokens <= budgetTokens,
  };
}

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

// Sentry integration-platform webhooks: `issue` (created / resolved / unresolved / ignored /
// assigned), `event_alert` (an issue alert rule fired) and `error` (a new error event).
// https://docs.sentry.io/organization/integrations/integration-platform/webhooks/
import { z } from "zod";
import type { CardTarget } from "../../domain/incident.js";
import { httpLink, severityFrom, type NormalizedAlert } from "../../domain/normalized-alert.js";

const id = z
  .union([z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.number().int().nonnegative()])
  .transform(String);

const project = z.union([
  z.looseObject({ slug: z.string().optional(), name: z.string().optional(), id: z.unknown().optional() }),
  z.number(),
  z.string(),
]);

const IssueSchema = z.looseObject({
  id,
  title: z.string().max(4096),
  shortId: z.string().optional(),
  culprit: z.string().nullish(),
  level: z.string().optional(),
  status: z.string().optional(),
  web_url: z.string().nullish(),
  permalink: z.string().nullish(),
  project: project.optional(),
});

const tags = z
  .array(z.union([z.tuple([z.string(), z.string()]), z.looseObject({ key: z.string(), value: z.string() })]))
  .optional();

const EventSchema = z.looseObject({
  issue_id: id,
  title: z.string().max(4096),
  level: z.string().optional(),
  culprit: z.string().nullish(),
  web_url: z.string().nullish(),
  issue_url: z.string().nullish(),
  environment: z.string().nullish(),
  release: z.string().nullish(),
  project: project.optional(),
  tags,
  contexts: z
    .looseObject({ trace: z.looseObject({ trace_id: z.string().optional() }).optional() })
    .optional(),
});

export const SENTRY_RESOURCES = ["issue", "event_alert", "error"] as const;
export type SentryResource = (typeof SENTRY_RESOURCES)[number];

export const SentryIssuePayloadSchema = z.looseObject({
  action: z.string(),
  data: z.looseObject({ issue: IssueSchema }),
});
export const SentryEventAlertPayloadSchema = z.looseObject({
  action: z.string(),
  data: z.looseObject({ event: EventSchema, triggered_rule: z.string().optional() }),
});
export const SentryErrorPayloadSchema = z.looseObject({
  action: z.string(),
  data: z.looseObject({ error: EventSchema }),
});

export const SENTRY_SCHEMAS = {
  issue: SentryIssuePayloadSchema,
  event_alert: SentryEventAlertPayloadSchema,
  error: SentryErrorPayloadSchema,
} as const;

export type SentryPayload =
  | { resource: "issue"; body: z.infer<typeof SentryIssuePayloadSchema> }
  | { resource: "event_alert"; body: z.infer<typeof SentryEventAlertPayloadSchema> }
  | { resource: "error"; body: z.infer<typeof SentryErrorPayloadSchema> };

/** Issue actions that open or repeat an incident, and those that close it. */
const FIRING_ACTIONS = new Set(["created", "unresolved", "triggered"]);
const RESOLVING_ACTIONS = new Set(["resolved"]);

/** Whether the bot acts on this delivery at all (assignments, comments, … are acknowledged only). */
export function isActionable(payload: SentryPayload): boolean {
  return FIRING_ACTIONS.has(payload.body.action) || RESOLVING_ACTIONS.has(payload.body.action);
}

function projectSlug(value: z.infer<typeof project> | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "object") return value.slug ?? value.name;
  return String(value);
}

function tagMap(list: z.infer<typeof tags>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const tag of list ?? []) {
    const [key, value] = Array.isArray(tag) ? tag : [tag.key, tag.value];
    if (key.length <= 64) result[`tag_${key.replace(/[^A-Za-z0-9_]/g, "_")}`] = value.slice(0, 256);
  }
  return result;
}

function compact(record: Record<string, string | null | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(record))
    if (value !== undefined && value !== null) result[key] = value;
  return result;
}

export function normalizeSentry(
  payload: SentryPayload,
  options: { signozUrl?: string } = {},
): NormalizedAlert[] {
  if (!isActionable(payload)) return [];
  const status = RESOLVING_ACTIONS.has(payload.body.action) ? "resolved" : "firing";
  if (payload.resource === "issue") {
    const issue = payload.body.data.issue;
    const service = projectSlug(issue.project);
    return [
      build({
        fingerprint: issue.id,
        status,
        title: issue.title,
        level: issue.level,
        service,
        culprit: issue.culprit ?? undefined,
        url: issue.web_url ?? issue.permalink ?? undefined,
        labels: compact({
          sentry_issue_id: issue.id,
          short_id: issue.shortId,
          project: service,
          level: issue.level,
        }),
        raw: payload.body,
      }),
    ];
  }
  const event = payload.resource === "event_alert" ? payload.body.data.event : payload.body.data.error;
  const service = projectSlug(event.project);
  const traceId = event.contexts?.trace?.trace_id;
  const traceLinks =
    traceId !== undefined && options.signozUrl !== undefined
      ? httpLink(
          "SigNoz Trace",
          `${options.signozUrl.replace(/\/$/, "")}/trace/${encodeURIComponent(traceId)}`,
        )
      : [];
  return [
    build({
      fingerprint: event.issue_id,
      status,
      title: event.title,
      level: event.level,
      service,
      culprit: event.culprit ?? undefined,
      url: event.issue_url ?? event.web_url ?? undefined,
      labels: {
        ...tagMap(event.tags),
        ...compact({
          sentry_issue_id: event.issue_id,
          project: service,
          level: event.level,
          environment: event.environment,
          release: event.release,
          trace_id: traceId,
        }),
      },
      extraLinks: traceLinks,
      raw: payload.body,
    }),
  ];
}

function build(input: {
  fingerprint: string;
  status: "firing" | "resolved";
  title: string;
  level: string | undefined;
  service: string | undefined;
  culprit: string | undefined;
  url: string | undefined;
  labels: Record<string, string>;
  extraLinks?: NormalizedAlert["links"];
  raw: unknown;
}): NormalizedAlert {
  const target: CardTarget = { kind: "Sentry issue", name: input.labels.short_id ?? input.fingerprint };
  return {
    source: "sentry",
    fingerprint: input.fingerprint,
    status: input.status,
    title: input.title,
    severity: severityFrom(input.level ?? "error"),
    target,
    labels: input.labels,
    annotations: compact({ culprit: input.culprit }),
    links: [...(input.extraLinks ?? []), ...httpLink("Sentry Issue", input.url)],
    raw: input.raw,
    ...(input.service === undefined ? {} : { service: input.service }),
    ...(input.culprit === undefined ? {} : { summary: input.culprit }),
  };
}

// Sentry integration-platform webhooks
// (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/):
// - `issue`: created / unresolved open or reopen an incident; resolved resolves it; archived and
//   ignored (Sentry sends both when an issue is archived) close it as not needing action, naming who
//   did it; assigned is acknowledged only.
// - `event_alert` (an issue alert rule fired) and `error` (a new error event) open or repeat one.
// - `metric_alert`: critical / warning open or update one, resolved resolves it.
// Links are always the human page, stable across deliveries (an event's page becomes its issue's
// page); the API URLs Sentry also sends (`…/api/0/…`) need a token and are never shown. The
// service is the project slug; the severity comes from the level (fatal → P0, error → P1,
// warning → P2) or from the metric alert's action.
import { z } from "zod";
import type { CardTarget } from "../../domain/incident.js";
import {
  fitRecord,
  fitText,
  httpLink,
  severityFrom,
  storableJson,
  TITLE_LIMIT,
  VALUE_LIMIT,
  type NormalizedAlert,
} from "../../domain/normalized-alert.js";

const id = z
  .union([z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.number().int().nonnegative()])
  .transform(String);

const project = z.union([
  z.looseObject({ slug: z.string().optional(), name: z.string().optional(), id: z.unknown().optional() }),
  z.number(),
  z.string(),
]);

const text = z.string().max(1_000_000);

const IssueSchema = z.looseObject({
  id,
  title: text,
  shortId: z.string().max(256).optional(),
  culprit: text.nullish(),
  level: z.string().max(64).optional(),
  status: z.string().max(64).optional(),
  web_url: z.string().max(8192).nullish(),
  permalink: z.string().max(8192).nullish(),
  project: project.optional(),
});

const tags = z
  .array(z.union([z.tuple([z.string(), z.string()]), z.looseObject({ key: z.string(), value: z.string() })]))
  .optional();

const EventSchema = z.looseObject({
  issue_id: id,
  event_id: z.string().max(64).optional(),
  title: text,
  level: z.string().max(64).optional(),
  culprit: text.nullish(),
  url: z.string().max(8192).nullish(),
  web_url: z.string().max(8192).nullish(),
  issue_url: z.string().max(8192).nullish(),
  environment: z.string().max(1024).nullish(),
  release: z.string().max(1024).nullish(),
  project: project.optional(),
  tags,
  contexts: z
    .looseObject({ trace: z.looseObject({ trace_id: z.string().optional() }).optional() })
    .optional(),
});

const MetricAlertSchema = z.looseObject({
  id,
  identifier: id.optional(),
  title: text.optional(),
  projects: z.array(z.string().max(256)).optional(),
  alert_rule: z.looseObject({ id, name: text.optional(), projects: z.array(z.string()).optional() }),
});

const actor = z
  .looseObject({ type: z.string().optional(), name: z.string().max(1024).optional() })
  .optional();

export const SENTRY_RESOURCES = ["issue", "event_alert", "error", "metric_alert"] as const;
export type SentryResource = (typeof SENTRY_RESOURCES)[number];

export const SentryIssuePayloadSchema = z.looseObject({
  action: z.string(),
  actor,
  data: z.looseObject({ issue: IssueSchema }),
});
export const SentryEventAlertPayloadSchema = z.looseObject({
  action: z.string(),
  data: z.looseObject({ event: EventSchema, triggered_rule: z.string().max(1024).optional() }),
});
export const SentryErrorPayloadSchema = z.looseObject({
  action: z.string(),
  data: z.looseObject({ error: EventSchema }),
});
export const SentryMetricAlertPayloadSchema = z.looseObject({
  action: z.string(),
  actor,
  data: z.looseObject({
    metric_alert: MetricAlertSchema,
    description_text: text.optional(),
    description_title: text.optional(),
    web_url: z.string().max(8192).nullish(),
  }),
});

export const SENTRY_SCHEMAS = {
  issue: SentryIssuePayloadSchema,
  event_alert: SentryEventAlertPayloadSchema,
  error: SentryErrorPayloadSchema,
  metric_alert: SentryMetricAlertPayloadSchema,
} as const;

export type SentryPayload =
  | { resource: "issue"; body: z.infer<typeof SentryIssuePayloadSchema> }
  | { resource: "event_alert"; body: z.infer<typeof SentryEventAlertPayloadSchema> }
  | { resource: "error"; body: z.infer<typeof SentryErrorPayloadSchema> }
  | { resource: "metric_alert"; body: z.infer<typeof SentryMetricAlertPayloadSchema> };

/** What a delivery does to its incident. */
type Effect = "firing" | "resolved" | "closed" | "none";

const EFFECTS: Record<SentryResource, Record<string, Effect>> = {
  issue: {
    created: "firing",
    unresolved: "firing",
    resolved: "resolved",
    archived: "closed",
    ignored: "closed",
  },
  event_alert: { triggered: "firing" },
  error: { created: "firing" },
  metric_alert: { critical: "firing", warning: "firing", resolved: "resolved" },
};

function effectOf(payload: SentryPayload): Effect {
  return EFFECTS[payload.resource][payload.body.action] ?? "none";
}

/** Whether the bot acts on this delivery at all (assignments are acknowledged only). */
export function isActionable(payload: SentryPayload): boolean {
  return effectOf(payload) !== "none";
}

function projectSlug(value: z.infer<typeof project> | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "object") return value.slug ?? value.name;
  // a bare number is the project's id, which names nothing the registry knows
  return typeof value === "string" && !/^\d+$/.test(value) ? value : undefined;
}

/** The project slug in an event's API URL: `…/api/0/projects/<org>/<project>/events/<id>/`. */
function projectFromEventUrl(url: string | null | undefined): string | undefined {
  return url == null ? undefined : /\/projects\/[^/]+\/([^/]+)\/events\//.exec(url)?.[1];
}

/** A human Sentry URL, never an API one (those need a token). */
function humanUrl(url: string | null | undefined): string | undefined {
  if (url == null || url === "") return undefined;
  return /\/api\/0\//.test(url) ? undefined : url;
}

/** An event's page → its issue's page, so the link stays the same across deliveries. */
function issuePageOf(eventPage: string | undefined): string | undefined {
  return eventPage?.replace(/\/events\/[^/]+\/?$/, "/");
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

function closedBy(action: string, who: z.infer<typeof actor>): string {
  const verb = action === "ignored" ? "ignored" : "archived";
  const name = who?.type === "user" && who.name !== undefined ? ` by ${who.name}` : "";
  return `${verb} in Sentry${name}: needs no action`;
}

export function normalizeSentry(
  payload: SentryPayload,
  options: { signozUrl?: string } = {},
): NormalizedAlert[] {
  const effect = effectOf(payload);
  if (effect === "none") return [];
  const status = effect === "firing" ? "firing" : "resolved";
  const resolution =
    effect === "closed" && payload.resource === "issue"
      ? { resolution: closedBy(payload.body.action, payload.body.actor) }
      : {};
  if (payload.resource === "issue") {
    const issue = payload.body.data.issue;
    const service = projectSlug(issue.project);
    return [
      build({
        fingerprint: issue.id,
        status,
        title: issue.title,
        severity: severityFrom(issue.level ?? "error"),
        service,
        culprit: issue.culprit ?? undefined,
        target: { kind: "Sentry issue", name: issue.shortId ?? issue.id },
        links: httpLink("Sentry Issue", humanUrl(issue.web_url) ?? humanUrl(issue.permalink)),
        labels: compact({
          sentry_issue_id: issue.id,
          short_id: issue.shortId,
          project: service,
          level: issue.level,
        }),
        raw: payload.body,
        ...resolution,
        ...(payload.body.action === "unresolved" ? { reopen: true } : {}),
      }),
    ];
  }
  if (payload.resource === "metric_alert") {
    const data = payload.body.data;
    const alert = data.metric_alert;
    const rule = alert.alert_rule;
    const service = alert.projects?.[0] ?? rule.projects?.[0];
    const name = rule.name ?? alert.title ?? `metric alert ${rule.id}`;
    return [
      build({
        // one incident per Sentry metric-alert incident: critical, warning and resolved share it
        fingerprint: `metric_alert-${alert.id}`,
        status,
        title: name,
        // the action is the trigger's severity word; a resolution keeps the incident's
        severity: severityFrom(payload.body.action === "critical" ? "critical" : "warning"),
        service,
        culprit: data.description_text,
        target: { kind: "Sentry alert rule", name },
        links: httpLink("Sentry Alert", humanUrl(data.web_url)),
        labels: compact({
          sentry_alert_rule_id: rule.id,
          sentry_metric_alert_id: alert.id,
          project: service,
          alert_state: payload.body.action,
        }),
        raw: payload.body,
      }),
    ];
  }
  const event = payload.resource === "event_alert" ? payload.body.data.event : payload.body.data.error;
  const service = projectSlug(event.project) ?? projectFromEventUrl(event.url);
  const traceId = event.contexts?.trace?.trace_id;
  const traceLinks =
    traceId !== undefined && options.signozUrl !== undefined
      ? httpLink(
          "SigNoz Trace",
          `${options.signozUrl.replace(/\/$/, "")}/trace/${encodeURIComponent(traceId)}`,
        )
      : [];
  const rule = payload.resource === "event_alert" ? payload.body.data.triggered_rule : undefined;
  return [
    build({
      fingerprint: event.issue_id,
      status,
      title: event.title,
      severity: severityFrom(event.level ?? "error"),
      service,
      culprit: event.culprit ?? undefined,
      target: { kind: "Sentry issue", name: event.issue_id },
      links: [
        ...traceLinks,
        ...httpLink("Sentry Issue", issuePageOf(humanUrl(event.web_url)) ?? humanUrl(event.issue_url)),
      ],
      labels: {
        ...tagMap(event.tags),
        ...compact({
          sentry_issue_id: event.issue_id,
          project: service,
          level: event.level,
          environment: event.environment,
          release: event.release,
          trace_id: traceId,
          alert_rule: rule,
        }),
      },
      raw: payload.body,
    }),
  ];
}

function build(input: {
  fingerprint: string;
  status: "firing" | "resolved";
  title: string;
  severity: NormalizedAlert["severity"];
  service: string | undefined;
  culprit: string | undefined;
  target: CardTarget;
  links: NormalizedAlert["links"];
  labels: Record<string, string>;
  raw: unknown;
  resolution?: string;
  reopen?: boolean;
}): NormalizedAlert {
  const cut: string[] = [];
  const labels = fitRecord(input.labels, "labels", cut);
  const culprit =
    input.culprit === undefined ? undefined : fitText(input.culprit, VALUE_LIMIT, "culprit", cut);
  return {
    source: "sentry",
    fingerprint: input.fingerprint,
    status: input.status,
    title: fitText(input.title, TITLE_LIMIT, "title", cut),
    severity: input.severity,
    target: { ...input.target, name: fitText(input.target.name, TITLE_LIMIT, "target", cut) },
    labels,
    annotations: compact({ culprit }),
    links: input.links,
    raw: storableJson(input.raw),
    ...(cut.length === 0 ? {} : { cut }),
    ...(input.resolution === undefined ? {} : { resolution: input.resolution }),
    ...(input.reopen === true ? { reopen: true } : {}),
    ...(input.service === undefined ? {} : { service: fitText(input.service, 256, "service", cut) }),
    ...(culprit === undefined ? {} : { summary: culprit }),
  };
}

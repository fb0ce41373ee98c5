// The shape of the service registry file (the registry's role). This checks each value on its own;
// whatever needs the whole document (duplicates, references between entries, which actions a
// service may allow) is checked in semantic.ts.
import { z } from "zod";
import { BLACKLISTED_ACTIONS } from "../domain/actions.js";
import { SEVERITIES, type Severity } from "../domain/incident.js";

/** The `severity` label an alert rule sets (Alertmanager routes on it); an incident's severity is P0–P2. */
export const SEVERITY_LABELS = ["critical", "high", "medium"] as const;
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

/** P0/P1/P2 of the seed; the severity an incident of the service gets when its source gives none. */
export const TIERS = SEVERITIES;
export type Tier = Severity;

export const LAYERS = [
  "application",
  "infrastructure",
  "data",
  "ai",
  "cicd",
  "observability",
  "security",
] as const;
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
export const HOST_CHECKS = ["cpu", "memory", "disk", "etcd", "kubelet", "docker", "gpu"] as const;
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

/** Where an alert is evaluated. Only `prometheus` alerts become Prometheus rules. */
export const ALERT_SOURCES = ["prometheus", "sentry", "signoz"] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** What a template is instantiated for, and the `${…}` placeholders each scope fills in. */
export const TEMPLATE_SCOPES = ["host", "k8s", "docker"] as const;
export type TemplateScope = (typeof TEMPLATE_SCOPES)[number];
export const SCOPE_PLACEHOLDERS: Record<TemplateScope, readonly string[]> = {
  host: ["host", "address", "team"],
  k8s: ["service", "team", "namespace", "kind", "workload"],
  docker: ["service", "team", "host", "container"],
};

/** Rule labels the generator sets itself; an alert may not set them through `labels`. */
export const RESERVED_LABELS = ["severity", "service", "team", "namespace", "workload", "container", "host"];

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: "must be lowercase letters, digits and '-'" });
const dnsSubdomain = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: "must be a Kubernetes name (lowercase letters, digits, '-' and '.')",
  });
const containerName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, { error: "must be a Docker container name" });
const alertName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be a Prometheus alert name (letters, digits and _)" });
const labelName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be a Prometheus label name (letters, digits and _)" });
const jobName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, { error: "must be a Prometheus job name" });
export const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const duration = z.string().regex(DURATION, { error: "must be a Prometheus duration such as 30s, 5m or 1h" });
const text = z.string().trim().min(1, { error: "must not be empty" });
const port = z
  .number()
  .int({ error: "expected a whole number" })
  .min(1, { error: "must be a port from 1 to 65535" })
  .max(65535, { error: "must be a port from 1 to 65535" });
const percent = z
  .number()
  .gt(0, { error: "must be a percentage above 0" })
  .max(100, { error: "must be a percentage of at most 100" });
const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: "must be an http:// or https:// URL" });
const address = z
  .string()
  .regex(
    /^(\d{1,3}(\.\d{1,3}){3}|[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)$/,
    {
      error: "must be an IPv4 address or a host name",
    },
  );

/**
 * A remediation action name. Blacklisted actions are refused here; whether the name is a known
 * action is a semantic check, so a typo is reported as "unknown action", not as a format error.
 */
function checkActionName(value: string, ctx: z.RefinementCtx): void {
  if (!/^[A-Z][A-Z0-9_]*$/.test(value)) {
    ctx.addIssue({ code: "custom", message: "must be an action name in capitals, e.g. RESTART_POD" });
  } else if (BLACKLISTED_ACTIONS.includes(value)) {
    ctx.addIssue({
      code: "custom",
      message: `${value} is never allowed (guardrails forbid ${BLACKLISTED_ACTIONS.join(", ")})`,
    });
  }
}

const actionName = z.string().superRefine(checkActionName);

/** An alert's suggested repair: an action, or `none` when a human must act. */
const repair = z
  .string()
  .superRefine((value, ctx) => {
    if (value !== "none") checkActionName(value, ctx);
  })
  .default("none");

/** `> 3s`, `<= 0.1%`, `> 100ms`, `> 0.1`: how a page metric is compared with its limit. */
export const THRESHOLD = /^(<|<=|>|>=)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?$/;
const threshold = z
  .string()
  .regex(THRESHOLD, { error: "must be a comparison such as '> 3s', '> 0.1%' or '< 90%'" });

const HealthCheck = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("http"),
      path: z.string().startsWith("/", { error: "must start with /" }),
      port: port.optional(),
      scheme: z.enum(["http", "https"]).optional(),
    }),
    z.strictObject({ type: z.literal("tcp"), port }),
    z.strictObject({ type: z.literal("grpc"), port, service: text.optional() }),
    z.strictObject({
      type: z.literal("exec"),
      command: z.array(text).min(1, { error: "must name a command" }),
    }),
  ],
  { error: "expected type http, tcp, grpc or exec" },
);
export type HealthCheck = z.infer<typeof HealthCheck>;

const alertRefs = z.array(alertName).default([]);

const alertFields = {
  name: alertName,
  severity: z.enum(SEVERITY_LABELS),
  expr: text.optional(),
  for: duration.optional(),
  summary: text,
  description: text.optional(),
  auto_repair: repair,
  runbook_url: httpUrl.optional(),
  labels: z.record(labelName, z.string()).optional(),
};

function checkLabels(labels: Record<string, string> | undefined, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(labels ?? {})) {
    if (RESERVED_LABELS.includes(key)) {
      ctx.addIssue({
        code: "custom",
        path: ["labels", key],
        message: `label ${key} is set by the generator`,
      });
    }
  }
}

const Alert = z
  .strictObject({
    ...alertFields,
    source: z.enum(ALERT_SOURCES).default("prometheus"),
    // Text of the rule in Sentry or SigNoz; those alerts are not Prometheus rules.
    condition: text.optional(),
    /** Other names the seed uses for the same condition (e.g. PostgresDown for PostgreSQLDown). */
    aliases: z.array(alertName).default([]),
  })
  .superRefine((alert, ctx) => {
    checkLabels(alert.labels, ctx);
    if (alert.source === "prometheus") {
      if (alert.expr === undefined) ctx.addIssue({ code: "custom", path: ["expr"], message: "is required" });
      if (alert.condition !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["condition"],
          message: "is for sentry and signoz alerts; use expr",
        });
      }
      return;
    }
    if (alert.condition === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["condition"],
        message: `is required for ${alert.source} alerts`,
      });
    }
    for (const key of ["expr", "for"] as const) {
      if (alert[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `only prometheus alerts have ${key}` });
      }
    }
  });
export type Alert = z.infer<typeof Alert>;

const AlertTemplate = z
  .strictObject({ ...alertFields, expr: text, scope: z.enum(TEMPLATE_SCOPES) })
  .superRefine((template, ctx) => checkLabels(template.labels, ctx));
export type AlertTemplate = z.infer<typeof AlertTemplate>;

const AutoRepair = z.strictObject({ allowed_actions: z.array(actionName).default([]) });

const Host = z.strictObject({
  name: dnsLabel,
  address,
  role: text,
  checks: z.array(z.enum(HOST_CHECKS)).min(1, { error: "must list at least one check" }),
  alerts: alertRefs,
  owner_team: dnsLabel.optional(),
  auto_repair: AutoRepair.optional(),
});
export type Host = z.infer<typeof Host>;

const K8sWorkload = z
  .strictObject({
    namespace: dnsLabel,
    kind: z.enum(WORKLOAD_KINDS),
    name: dnsSubdomain,
    replicas: z
      .number()
      .int({ error: "expected a whole number" })
      .min(0, { error: "must be 0 or more" })
      .optional(),
    health_check: HealthCheck.optional(),
    alerts: alertRefs,
  })
  .superRefine((workload, ctx) => {
    if (workload.kind === "DaemonSet" && workload.replicas !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["replicas"],
        message: "a DaemonSet runs one pod per node; remove replicas",
      });
    }
    if (workload.kind !== "DaemonSet" && workload.replicas === undefined) {
      ctx.addIssue({ code: "custom", path: ["replicas"], message: `is required for a ${workload.kind}` });
    }
  });
export type K8sWorkload = z.infer<typeof K8sWorkload>;

const DockerContainer = z.strictObject({
  host: dnsLabel,
  name: containerName,
  image: text.optional(),
  ports: z.array(port).default([]),
  health_check: HealthCheck.optional(),
  alerts: alertRefs,
});
export type DockerContainer = z.infer<typeof DockerContainer>;

const Endpoint = z.strictObject({
  method: z.enum(HTTP_METHODS),
  path: z.string().startsWith("/", { error: "must start with /" }),
  expected_status: z
    .array(
      z
        .number()
        .int()
        .min(100, { error: "must be an HTTP status" })
        .max(599, { error: "must be an HTTP status" }),
    )
    .min(1, { error: "must list at least one status" }),
  slo_percent: percent,
  /** p95 latency the endpoint should stay under. */
  latency_target: duration.optional(),
  alerts: alertRefs,
});
export type Endpoint = z.infer<typeof Endpoint>;

const PageSlo = z.strictObject({
  /** A path, or `*` for every page of the site. */
  page: z.string().regex(/^(\/\S*|\*)$/, { error: "must be a path starting with / or *" }),
  metric: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: "must be a snake_case metric name" }),
  threshold,
  alerts: alertRefs,
});
export type PageSlo = z.infer<typeof PageSlo>;

const Link = z.strictObject({ title: text, url: httpUrl });

const Links = z.strictObject({
  dashboards: z.array(Link).default([]),
  runbooks: z.array(Link).default([]),
  sentry_project: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: "must be a Sentry project slug" })
    .optional(),
  signoz_service: text.optional(),
});
export type Links = z.infer<typeof Links>;

const SloTargets = z.strictObject({
  availability_percent: percent.optional(),
  latency_p95: duration.optional(),
  error_rate_percent: z.number().min(0).max(100).optional(),
});
export type SloTargets = z.infer<typeof SloTargets>;

const Service = z.strictObject({
  name: dnsLabel,
  description: text.optional(),
  layer: z.enum(LAYERS),
  owner_team: dnsLabel,
  tier: z.enum(TIERS),
  links: Links.prefault({}),
  slo: SloTargets.prefault({}),
  /** Prometheus scrape jobs that belong to the service (matched by `job` labels). */
  prometheus_jobs: z.array(jobName).default([]),
  k8s: z.array(K8sWorkload).default([]),
  docker: z.array(DockerContainer).default([]),
  endpoints: z.array(Endpoint).default([]),
  pages: z.array(PageSlo).default([]),
  alerts: z.array(Alert).default([]),
  auto_repair: AutoRepair,
});
export type ServiceEntry = z.infer<typeof Service>;

const RouteTiming = z.strictObject({
  group_wait: duration,
  group_interval: duration,
  repeat_interval: duration,
});
export type RouteTiming = z.infer<typeof RouteTiming>;

const AlertmanagerSettings = z.strictObject({
  receiver: z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "must be letters, digits, _ and -" }),
  /** Base URL of the bot; the webhook path (/api/v1/webhooks/alertmanager) is appended. */
  bot_url: httpUrl,
  password_file: z.string().startsWith("/", { error: "must be an absolute path" }),
  group_by: z.array(labelName).default(["alertname", "service"]),
  group_wait: duration.default("30s"),
  group_interval: duration.default("5m"),
  repeat_interval: duration.default("4h"),
  severity_routes: z.strictObject({ critical: RouteTiming, high: RouteTiming, medium: RouteTiming }),
  /**
   * Alerts that fire all the time by design (the bot's HEARTBEAT_ALERTS): routed to the bot every
   * minute, so that their silence is noticed within HEARTBEAT_TIMEOUT_SECONDS. Empty: no such route.
   */
  heartbeats: z.array(alertName).default(["Watchdog"]),
});
export type AlertmanagerSettings = z.infer<typeof AlertmanagerSettings>;

const Defaults = z.strictObject({
  runbook_base_url: httpUrl,
  /** Applied to every host; a host's own `alerts` add to these. */
  hosts: z.strictObject({ owner_team: dnsLabel, alerts: alertRefs, auto_repair: AutoRepair.prefault({}) }),
});

const Coverage = z.strictObject({
  /** Namespaces whose workloads are not expected in the registry (the cluster's own). */
  ignore_namespaces: z.array(dnsLabel).default([]),
  /** Container names not expected in the registry; `*` matches any run of characters. */
  ignore_containers: z.array(text).default([]),
  ignore_jobs: z.array(jobName).default([]),
});

export const RegistryFile = z.strictObject({
  version: z.literal(1, { error: "must be 1" }),
  defaults: Defaults,
  alertmanager: AlertmanagerSettings,
  coverage: Coverage.prefault({}),
  hosts: z.array(Host).default([]),
  alert_templates: z.array(AlertTemplate).default([]),
  services: z.array(Service).min(1, { error: "must list at least one service" }),
});
export type RegistryFile = z.infer<typeof RegistryFile>;

// Alertmanager webhook payload, version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
import { z } from "zod";
import type { CardTarget } from "../../domain/incident.js";
import {
  httpLink,
  labelsFingerprint,
  severityFrom,
  type NormalizedAlert,
} from "../../domain/normalized-alert.js";

const labelSet = z.record(z.string(), z.string());

const timestamp = z
  .string()
  .max(64)
  .refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
    error: "must be an RFC 3339 timestamp",
  });

export const AlertmanagerAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelSet.refine((labels) => Object.keys(labels).length > 0, { error: "must not be empty" }),
  annotations: labelSet.default({}),
  startsAt: timestamp.optional(),
  endsAt: timestamp.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(128).optional(),
});

export const AlertmanagerPayloadSchema = z.object({
  version: z.literal("4", { error: 'version must be "4"' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string(),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().default(""),
  alerts: z.array(AlertmanagerAlertSchema).min(1, { error: "must hold at least one alert" }).max(10_000),
});

export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayloadSchema>;
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;

const SERVICE_LABELS = ["service", "app", "app_kubernetes_io_name", "deployment", "container", "job"];

function target(labels: Record<string, string>): CardTarget | undefined {
  const namespace = labels.namespace;
  const within = namespace === undefined ? {} : { namespace };
  if (labels.pod !== undefined) return { kind: "Pod", name: labels.pod, ...within };
  if (labels.deployment !== undefined) return { kind: "Deployment", name: labels.deployment, ...within };
  if (labels.statefulset !== undefined) return { kind: "StatefulSet", name: labels.statefulset, ...within };
  if (labels.container !== undefined) return { kind: "Container", name: labels.container, ...within };
  if (labels.instance !== undefined) return { kind: "Instance", name: labels.instance };
  return undefined;
}

function date(value: string | undefined): Date | undefined {
  // Alertmanager sends the zero time for "not set".
  if (value === undefined || value.startsWith("0001-")) return undefined;
  return new Date(value);
}

export function normalizeAlertmanager(payload: AlertmanagerPayload): NormalizedAlert[] {
  return payload.alerts.map((alert) => {
    const labels = alert.labels;
    const annotations = alert.annotations;
    const service = SERVICE_LABELS.map((key) => labels[key]).find((value) => value !== undefined);
    const summary = annotations.summary ?? annotations.description;
    const startsAt = date(alert.startsAt);
    const endsAt = date(alert.endsAt);
    const found = target(labels);
    return {
      source: "alertmanager" as const,
      fingerprint: alert.fingerprint ?? labelsFingerprint(labels),
      status: alert.status,
      title: labels.alertname ?? "Alert",
      severity: severityFrom(labels.severity),
      labels,
      annotations,
      links: [
        ...httpLink("Prometheus", alert.generatorURL),
        ...httpLink("Runbook", annotations.runbook_url),
        ...httpLink("SigNoz Trace", annotations.signoz_url ?? annotations.trace_url),
        ...httpLink("Sentry Issue", annotations.sentry_url),
        ...httpLink("Dashboard", annotations.dashboard_url),
      ],
      raw: alert,
      ...(service === undefined ? {} : { service }),
      ...(summary === undefined ? {} : { summary }),
      ...(found === undefined ? {} : { target: found }),
      ...(startsAt === undefined ? {} : { startsAt }),
      ...(endsAt === undefined ? {} : { endsAt }),
    };
  });
}

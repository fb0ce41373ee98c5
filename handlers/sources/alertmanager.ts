// Alertmanager webhook payload, version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config), and Grafana-managed
// alerting's webhook contact point, version "1": the same envelope and alert objects plus `orgId`,
// `title`, `state`, `message` and, per alert, `values`, `valueString`, `silenceURL`,
// `dashboardURL`, `panelURL`, `imageURL` (https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/).
// What the alert is about comes from domain/subject.ts; over-long or unstorable text is cut and
// marked here, never refused.
import { z } from "zod";
import {
  fitRecord,
  fitText,
  httpLink,
  isInformationalSeverity,
  labelsFingerprint,
  severityFrom,
  storableJson,
  TITLE_LIMIT,
  type NormalizedAlert,
} from "../../domain/normalized-alert.js";
import { subjectOf } from "../../domain/subject.js";

const labelSet = z.record(z.string(), z.string());

/** String limits of the schema, shared with its fast path (alertmanager-fast.ts). */
export const URL_MAX = 8192;
export const TIMESTAMP_MAX = 64;
export const FINGERPRINT_MAX = 128;
export const VALUE_STRING_MAX = 65_536;

/** An RFC 3339 timestamp as far as the schema asks (its length aside). */
export function isTimestamp(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));
}

const timestamp = z
  .string()
  .max(TIMESTAMP_MAX)
  .refine(isTimestamp, { error: "must be an RFC 3339 timestamp" });

/** Grafana sends "" for a link it has not got. */
const optionalUrl = z.string().max(URL_MAX).optional();

export const AlertmanagerAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelSet.refine((labels) => Object.keys(labels).length > 0, { error: "must not be empty" }),
  annotations: labelSet.default({}),
  startsAt: timestamp.optional(),
  endsAt: timestamp.optional(),
  generatorURL: optionalUrl,
  fingerprint: z.string().max(FINGERPRINT_MAX).optional(),
  // Grafana-managed alerting (version "1") only
  silenceURL: optionalUrl,
  dashboardURL: optionalUrl,
  panelURL: optionalUrl,
  valueString: z.string().max(VALUE_STRING_MAX).optional(),
});

/** Most alerts one group may carry (Alertmanager itself has no limit; 3,000 after a node loss is real). */
export const MAX_GROUP_ALERTS = 100_000;

export const AlertmanagerPayloadSchema = z.object({
  // "4": Alertmanager; "1": Grafana-managed alerting's webhook contact point
  version: z.enum(["4", "1"], { error: 'version must be "4" (Alertmanager) or "1" (Grafana)' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string(),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().default(""),
  alerts: z
    .array(AlertmanagerAlertSchema)
    .min(1, { error: "must hold at least one alert" })
    .max(MAX_GROUP_ALERTS),
  // Grafana only
  orgId: z.number().int().optional(),
});

export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayloadSchema>;
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;

function date(value: string | undefined): Date | undefined {
  // Alertmanager sends the zero time for "not set".
  if (value === undefined || value.startsWith("0001-")) return undefined;
  return new Date(value);
}

/**
 * The labels of the first query in Grafana's `valueString` that has any:
 * "[ var='A' labels={instance=node_exporter:9100, job=node} value=2.4e+09 ], …". Grafana often names
 * the subject only there.
 */
export function valueStringLabels(valueString: string | undefined): Record<string, string> {
  if (valueString === undefined) return {};
  for (const match of valueString.matchAll(/labels=\{([^}]*)\}/g)) {
    const body = match[1]?.trim() ?? "";
    if (body === "") continue;
    const result: Record<string, string> = {};
    for (const pair of body.split(", ")) {
      const at = pair.indexOf("=");
      if (at > 0) result[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return result;
  }
  return {};
}

export function normalizeAlertmanager(payload: AlertmanagerPayload): NormalizedAlert[] {
  const grafana = payload.version === "1";
  return payload.alerts.map((alert) => {
    const cut: string[] = [];
    const labels = fitRecord(alert.labels, "labels", cut);
    const annotations = fitRecord(alert.annotations, "annotations", cut);
    const subject = subjectOf(grafana ? { ...valueStringLabels(alert.valueString), ...labels } : labels);
    const summary = annotations.summary ?? annotations.description;
    const startsAt = date(alert.startsAt);
    const endsAt = date(alert.endsAt);
    return {
      source: "alertmanager" as const,
      fingerprint: alert.fingerprint ?? labelsFingerprint(labels),
      status: alert.status,
      title: fitText(labels.alertname ?? "Alert", TITLE_LIMIT, "title", cut),
      severity: severityFrom(labels.severity),
      labels,
      annotations,
      links: [
        ...httpLink(grafana ? "Grafana rule" : "Prometheus", alert.generatorURL),
        ...httpLink("Runbook", annotations.runbook_url),
        ...httpLink("SigNoz Trace", annotations.signoz_url ?? annotations.trace_url),
        // a token-only API URL (…/api/0/…) opens nothing for a reader
        ...httpLink(
          "Sentry Issue",
          annotations.sentry_url?.includes("/api/0/") === true ? undefined : annotations.sentry_url,
        ),
        ...httpLink("Dashboard", alert.dashboardURL || annotations.dashboard_url),
        ...httpLink("Panel", alert.panelURL || undefined),
        ...httpLink("Silence", alert.silenceURL || undefined),
      ],
      raw: storableJson(alert),
      ...(isInformationalSeverity(labels.severity) ? { informational: true } : {}),
      ...(payload.truncatedAlerts > 0 ? { truncatedAlerts: payload.truncatedAlerts } : {}),
      ...(cut.length === 0 ? {} : { cut }),
      ...(subject.service === undefined ? {} : { service: subject.service }),
      ...(summary === undefined ? {} : { summary }),
      ...(subject.target === undefined ? {} : { target: subject.target }),
      ...(startsAt === undefined ? {} : { startsAt }),
      ...(endsAt === undefined ? {} : { endsAt }),
    };
  });
}

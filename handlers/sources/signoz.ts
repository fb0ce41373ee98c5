// SigNoz anomalies, as found by the ClickHouse poller (jobs/signoz-poller.ts): one alert per
// (service, kind), so a repeat of the same anomaly is deduplicated into the same incident.
import type { Severity } from "../../domain/incident.js";
import { httpLink, type NormalizedAlert } from "../../domain/normalized-alert.js";
import { SIGNOZ_WINDOW_MINUTES, type SignozAnomalyKind, type SignozAnomaly } from "../../domain/signoz.js";

const KINDS: Record<SignozAnomalyKind, { title: string; severity: Severity }> = {
  // No spans where there were many: the service may be down.
  traffic_drop: { title: "SigNozTrafficDrop", severity: "P0" },
  error_rate: { title: "SigNozErrorRate", severity: "P1" },
  latency: { title: "SigNozHighLatency", severity: "P2" },
};

export function formatMs(ms: number): string {
  if (Math.round(ms) < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, "")} s`;
}

function figures(anomaly: SignozAnomaly): string {
  const { stats, threshold } = anomaly;
  const window = `the last ${SIGNOZ_WINDOW_MINUTES} min`;
  switch (anomaly.kind) {
    case "error_rate":
      return `${stats.errors} errors in ${stats.spans} spans over ${window} (threshold ${threshold}); p99 ${formatMs(stats.p99LatencyMs)}`;
    case "latency":
      return `p99 ${formatMs(stats.p99LatencyMs)} over ${window} (threshold ${formatMs(threshold)}); average ${formatMs(stats.avgLatencyMs)} over ${stats.spans} spans`;
    case "traffic_drop": {
      const baseline = anomaly.baselineSpans ?? stats.previousSpans;
      const drop = baseline === 0 ? 0 : Math.max(0, Math.round((1 - stats.spans / baseline) * 100));
      return `${stats.spans} spans in ${window}, ${drop}% below the ${baseline} before the drop (alert at ${Math.round(threshold * 100)}%)`;
    }
  }
}

export function normalizeSignoz(
  anomalies: readonly SignozAnomaly[],
  options: { signozUrl?: string } = {},
): NormalizedAlert[] {
  return anomalies.map((anomaly) => {
    const { service, kind, stats } = anomaly;
    const { title, severity } = KINDS[kind];
    const summary = anomaly.status === "firing" ? figures(anomaly) : `back to normal: ${figures(anomaly)}`;
    const serviceUrl =
      options.signozUrl === undefined
        ? undefined
        : `${options.signozUrl.replace(/\/$/, "")}/services/${encodeURIComponent(service)}`;
    return {
      source: "signoz" as const,
      fingerprint: `${service}:${kind}`,
      status: anomaly.status,
      title,
      severity,
      service,
      summary,
      labels: { service, anomaly: kind, source: "signoz" },
      annotations: {
        summary,
        window_minutes: String(SIGNOZ_WINDOW_MINUTES),
        threshold: String(anomaly.threshold),
        spans: String(stats.spans),
        traces: String(stats.traces),
        errors: String(stats.errors),
        avg_latency_ms: String(Math.round(stats.avgLatencyMs)),
        p99_latency_ms: String(Math.round(stats.p99LatencyMs)),
        previous_spans: String(stats.previousSpans),
        ...(anomaly.baselineSpans === undefined ? {} : { baseline_spans: String(anomaly.baselineSpans) }),
      },
      links: httpLink("SigNoz Service", serviceUrl),
      raw: anomaly,
    };
  });
}

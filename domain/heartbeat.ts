// Heartbeats: alerts that fire all the time by design (Prometheus' Watchdog) to prove the
// alerting pipeline works. They never page; when one stops arriving for longer than the timeout,
// the dead-man's switch raises one P0 incident "alerting pipeline silent since …", resolved when
// the heartbeat returns.
import type { NormalizedAlert } from "./normalized-alert.js";

/** The one incident identity of a silent heartbeat, so its return resolves that incident. */
export function silentFingerprint(name: string): string {
  return `heartbeat-silent-${name}`;
}

export function silentPipelineAlert(input: {
  name: string;
  status: "firing" | "resolved";
  silentSince: Date;
  at: Date;
}): NormalizedAlert {
  const since = input.silentSince.toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    source: "alertmanager",
    fingerprint: silentFingerprint(input.name),
    status: input.status,
    title: `Alerting pipeline silent since ${since}`,
    severity: "P0",
    service: "alerting-pipeline",
    summary: `The ${input.name} heartbeat last arrived at ${since}: Prometheus, Alertmanager or their route to this bot is down, so no other alert can arrive either.`,
    target: { kind: "Heartbeat", name: input.name },
    labels: { alertname: "HeartbeatMissing", heartbeat: input.name, severity: "critical" },
    annotations: {},
    links: [],
    raw: { heartbeat: input.name, status: input.status, silentSince: since },
    ...(input.status === "resolved" ? { endsAt: input.at } : { startsAt: input.at }),
  };
}

// Use case (pure): per-service span figures from SigNoz, plus what was firing after the previous
// poll, in; the anomalies to report (firing, and resolved ones that are healthy again) and the new
// firing set out. The poller (jobs/signoz-poller.ts) does the I/O around it.
import { z } from "zod";
import {
  SIGNOZ_ANOMALY_KINDS,
  type SignozAnomaly,
  type SignozAnomalyKind,
  type SignozWindowStats,
  type ServiceWindowStats,
} from "../domain/signoz.js";

export interface SignozThresholds {
  /** More errors than this in the window is an anomaly (SIGNOZ_ANOMALY_THRESHOLD_ERROR_COUNT). */
  errorCount: number;
  /** A p99 latency above this (ms) is an anomaly; 2 s as the seed's SlowTransaction rule. */
  p99LatencyMs: number;
  /** Losing at least this fraction of the volume from one window to the next is a drop. */
  trafficDropRatio: number;
  /** Below this many spans in the window before, a drop is noise, not a signal. */
  minPreviousSpans: number;
}

export const DEFAULT_SIGNOZ_THRESHOLDS: Readonly<SignozThresholds> = Object.freeze({
  errorCount: 10,
  p99LatencyMs: 2_000,
  trafficDropRatio: 0.8,
  minPreviousSpans: 50,
});

/**
 * What was firing after a poll. A traffic drop keeps the volume it dropped from: one window
 * later both windows are low, so without the baseline a service that is still down would look
 * healthy and its incident would resolve.
 */
export const FiringEntrySchema = z.object({
  service: z.string().min(1),
  kind: z.enum(SIGNOZ_ANOMALY_KINDS),
  baselineSpans: z.number().int().nonnegative().optional(),
});
export type FiringEntry = z.infer<typeof FiringEntrySchema>;

export interface Detection {
  /** Firing anomalies (again, while they last: repeats are deduplicated downstream) and resolutions. */
  anomalies: SignozAnomaly[];
  /** To be handed back as `previous` on the next poll. */
  firing: FiringEntry[];
}

type Verdict =
  | { state: "anomalous"; threshold: number; baselineSpans?: number }
  | { state: "healthy"; threshold: number }
  /** No spans in the window: nothing says the service is better or worse. */
  | { state: "no_evidence" };

function judge(
  kind: SignozAnomalyKind,
  stats: SignozWindowStats,
  thresholds: SignozThresholds,
  previous: FiringEntry | undefined,
): Verdict {
  switch (kind) {
    case "error_rate": {
      const threshold = thresholds.errorCount;
      if (stats.errors > threshold) return { state: "anomalous", threshold };
      return stats.spans === 0 ? { state: "no_evidence" } : { state: "healthy", threshold };
    }
    case "latency": {
      const threshold = thresholds.p99LatencyMs;
      if (stats.spans === 0) return { state: "no_evidence" };
      return stats.p99LatencyMs > threshold
        ? { state: "anomalous", threshold }
        : { state: "healthy", threshold };
    }
    case "traffic_drop": {
      const threshold = thresholds.trafficDropRatio;
      const baseline =
        previous?.baselineSpans ??
        (stats.previousSpans >= thresholds.minPreviousSpans ? stats.previousSpans : undefined);
      if (baseline === undefined || baseline === 0) return { state: "healthy", threshold };
      const drop = (baseline - stats.spans) / baseline;
      return drop >= threshold
        ? { state: "anomalous", threshold, baselineSpans: baseline }
        : { state: "healthy", threshold };
    }
  }
}

const keyOf = (service: string, kind: SignozAnomalyKind): string => JSON.stringify([service, kind]);

const NO_SPANS: SignozWindowStats = {
  spans: 0,
  traces: 0,
  errors: 0,
  avgLatencyMs: 0,
  p99LatencyMs: 0,
  previousSpans: 0,
};

export function detectSignozAnomalies(
  stats: readonly ServiceWindowStats[],
  thresholds: Readonly<SignozThresholds>,
  previous: readonly FiringEntry[] = [],
): Detection {
  const wasFiring = new Map(previous.map((entry) => [keyOf(entry.service, entry.kind), entry]));
  // A service with no span in either window has no row at all; one that was firing is judged on
  // zero spans (a traffic drop goes on firing, the other kinds wait for evidence).
  const measured = new Set(stats.map((row) => row.service));
  const silent = [...new Set(previous.map((entry) => entry.service))]
    .filter((service) => !measured.has(service))
    .map((service) => ({ service, ...NO_SPANS }));
  const anomalies: SignozAnomaly[] = [];
  const firing: FiringEntry[] = [];
  for (const { service, ...window } of [...stats, ...silent]) {
    if (service === "") continue;
    for (const kind of SIGNOZ_ANOMALY_KINDS) {
      const before = wasFiring.get(keyOf(service, kind));
      const verdict = judge(kind, window, thresholds, before);
      if (verdict.state === "no_evidence") {
        if (before !== undefined) firing.push(before);
        continue;
      }
      if (verdict.state === "healthy" && before === undefined) continue;
      const baselineSpans = verdict.state === "anomalous" ? verdict.baselineSpans : before?.baselineSpans;
      const withBaseline = baselineSpans === undefined ? {} : { baselineSpans };
      const status = verdict.state === "anomalous" ? "firing" : "resolved";
      anomalies.push({ service, kind, status, threshold: verdict.threshold, stats: window, ...withBaseline });
      if (status === "firing") firing.push({ service, kind, ...withBaseline });
    }
  }
  return { anomalies, firing };
}

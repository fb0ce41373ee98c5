// SigNoz's vocabulary: the window the poller measures, the figures it reads per service, and the
// anomalies it reports (one alert per service and kind).
import { z } from "zod";

/** Length of the window the poller measures (and of the one before it, for traffic drops). */
export const SIGNOZ_WINDOW_MINUTES = 5;

export const SIGNOZ_ANOMALY_KINDS = ["error_rate", "latency", "traffic_drop"] as const;
export type SignozAnomalyKind = (typeof SIGNOZ_ANOMALY_KINDS)[number];

const count = z.number().int().nonnegative();
const millis = z.number().nonnegative().finite();

/** One service's spans in the last window, and its volume in the window before. */
export const SignozWindowStatsSchema = z.object({
  spans: count,
  traces: count,
  errors: count,
  avgLatencyMs: millis,
  p99LatencyMs: millis,
  previousSpans: count,
});
export type SignozWindowStats = z.infer<typeof SignozWindowStatsSchema>;

export const SignozAnomalySchema = z.object({
  service: z.string().min(1).max(256),
  kind: z.enum(SIGNOZ_ANOMALY_KINDS),
  status: z.enum(["firing", "resolved"]),
  /** What was crossed: an error count (error_rate), a p99 in ms (latency), a drop fraction (traffic_drop). */
  threshold: z.number().nonnegative().finite(),
  stats: SignozWindowStatsSchema,
  /** traffic_drop: the volume before the drop, against which recovery is measured. */
  baselineSpans: count.optional(),
});
export type SignozAnomaly = z.infer<typeof SignozAnomalySchema>;

export interface ServiceWindowStats extends SignozWindowStats {
  service: string;
}

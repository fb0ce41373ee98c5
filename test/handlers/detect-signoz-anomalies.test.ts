import { describe, expect, it } from "vitest";
import {
  DEFAULT_SIGNOZ_THRESHOLDS as thresholds,
  detectSignozAnomalies,
} from "../../handlers/detect-signoz-anomalies.js";
import { type ServiceWindowStats } from "../../domain/signoz.js";

const window = (service: string, overrides: Partial<ServiceWindowStats> = {}): ServiceWindowStats => ({
  service,
  spans: 100,
  traces: 100,
  errors: 0,
  avgLatencyMs: 20,
  p99LatencyMs: 80,
  previousSpans: 100,
  ...overrides,
});

const summary = (result: ReturnType<typeof detectSignozAnomalies>) =>
  result.anomalies.map(({ service, kind, status }) => `${service}:${kind}:${status}`);

describe("detectSignozAnomalies", () => {
  it("reports nothing for healthy services", () => {
    expect(detectSignozAnomalies([window("a"), window("b", { errors: 10 })], thresholds)).toEqual({
      anomalies: [],
      firing: [],
    });
  });

  it("counts a drop of exactly 80% from 50 spans, but not a drop from 49", () => {
    const result = detectSignozAnomalies(
      [window("big", { spans: 10, previousSpans: 50 }), window("small", { spans: 0, previousSpans: 49 })],
      thresholds,
    );
    expect(summary(result)).toEqual(["big:traffic_drop:firing"]);
    expect(result.firing).toEqual([{ service: "big", kind: "traffic_drop", baselineSpans: 50 }]);
  });

  it("keeps a traffic drop firing against the volume before the drop while the service stays quiet", () => {
    const previous = [{ service: "inventory", kind: "traffic_drop" as const, baselineSpans: 500 }];
    // five minutes later both windows are low: judged against the baseline, not the last window
    const still = detectSignozAnomalies(
      [window("inventory", { spans: 3, previousSpans: 10 })],
      thresholds,
      previous,
    );
    expect(summary(still)).toEqual(["inventory:traffic_drop:firing"]);
    // no span at all for ten minutes: no row, still down
    const silent = detectSignozAnomalies([], thresholds, previous);
    expect(summary(silent)).toEqual(["inventory:traffic_drop:firing"]);
    expect(silent.firing).toEqual(previous);
    // back above 20% of the baseline: resolved
    const back = detectSignozAnomalies(
      [window("inventory", { spans: 300, previousSpans: 3 })],
      thresholds,
      previous,
    );
    expect(summary(back)).toEqual(["inventory:traffic_drop:resolved"]);
    expect(back.anomalies[0]?.baselineSpans).toBe(500);
    expect(back.firing).toEqual([]);
  });

  it("neither re-fires nor resolves errors or latency of a service with no spans", () => {
    const previous = [
      { service: "api", kind: "error_rate" as const },
      { service: "api", kind: "latency" as const },
    ];
    const result = detectSignozAnomalies(
      [window("api", { spans: 0, previousSpans: 30 })],
      thresholds,
      previous,
    );
    expect(result).toEqual({ anomalies: [], firing: previous });
  });

  it("resolves errors and latency once spans show them healthy", () => {
    const previous = [
      { service: "api", kind: "error_rate" as const },
      { service: "api", kind: "latency" as const },
    ];
    const result = detectSignozAnomalies([window("api")], thresholds, previous);
    expect(summary(result)).toEqual(["api:error_rate:resolved", "api:latency:resolved"]);
    expect(result.firing).toEqual([]);
  });

  it("keeps apart services whose names contain the separator", () => {
    const previous = [{ service: "a:error_rate", kind: "latency" as const }];
    const result = detectSignozAnomalies(
      [window("a", { errors: 11 }), window("a:error_rate")],
      thresholds,
      previous,
    );
    expect(summary(result)).toEqual(["a:error_rate:firing", "a:error_rate:latency:resolved"]);
  });
});

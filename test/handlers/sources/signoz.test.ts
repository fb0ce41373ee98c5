import { describe, expect, it } from "vitest";
import { formatMs, normalizeSignoz } from "../../../handlers/sources/signoz.js";
import { type SignozAnomaly } from "../../../domain/signoz.js";

const stats = {
  spans: 100,
  traces: 90,
  errors: 25,
  avgLatencyMs: 41.6,
  p99LatencyMs: 480,
  previousSpans: 120,
};

const anomaly = (overrides: Partial<SignozAnomaly> = {}): SignozAnomaly => ({
  service: "payments",
  kind: "error_rate",
  status: "firing",
  threshold: 10,
  stats,
  ...overrides,
});

describe("normalizeSignoz", () => {
  it("makes one alert per anomaly, keyed by service and kind", () => {
    const [alert] = normalizeSignoz([anomaly()]);
    expect(alert).toEqual({
      source: "signoz",
      fingerprint: "payments:error_rate",
      status: "firing",
      title: "SigNozErrorRate",
      severity: "P1",
      service: "payments",
      summary: "25 errors in 100 spans over the last 5 min (threshold 10); p99 480 ms",
      labels: { service: "payments", anomaly: "error_rate", source: "signoz" },
      annotations: {
        summary: "25 errors in 100 spans over the last 5 min (threshold 10); p99 480 ms",
        window_minutes: "5",
        threshold: "10",
        spans: "100",
        traces: "90",
        errors: "25",
        avg_latency_ms: "42",
        p99_latency_ms: "480",
        previous_spans: "120",
      },
      links: [],
      raw: anomaly(),
    });
  });

  it("ranks a traffic drop P0, an error burst P1 and slow responses P2", () => {
    const alerts = normalizeSignoz([
      anomaly({
        kind: "traffic_drop",
        threshold: 0.8,
        stats: { ...stats, spans: 10, previousSpans: 500 },
        baselineSpans: 500,
      }),
      anomaly({ kind: "error_rate" }),
      anomaly({ kind: "latency", threshold: 2_000, stats: { ...stats, p99LatencyMs: 3_250 } }),
    ]);
    expect(alerts.map((alert) => [alert.title, alert.severity])).toEqual([
      ["SigNozTrafficDrop", "P0"],
      ["SigNozErrorRate", "P1"],
      ["SigNozHighLatency", "P2"],
    ]);
    expect(alerts[0]?.summary).toBe(
      "10 spans in the last 5 min, 98% below the 500 before the drop (alert at 80%)",
    );
    expect(alerts[0]?.annotations.baseline_spans).toBe("500");
    expect(alerts[2]?.summary).toBe(
      "p99 3.25 s over the last 5 min (threshold 2 s); average 42 ms over 100 spans",
    );
  });

  it("links the service page of a public SigNoz, escaping the service name", () => {
    const [alert] = normalizeSignoz([anomaly({ service: "orders api/v2" })], {
      signozUrl: "https://signoz.example.com/",
    });
    expect(alert?.links).toEqual([
      { label: "SigNoz Service", url: "https://signoz.example.com/services/orders%20api%2Fv2" },
    ]);
  });

  it("turns a recovered anomaly into a resolution of the same fingerprint", () => {
    const [alert] = normalizeSignoz([anomaly({ status: "resolved", stats: { ...stats, errors: 0 } })]);
    expect(alert).toMatchObject({ status: "resolved", fingerprint: "payments:error_rate" });
    expect(alert?.summary).toMatch(/^back to normal: 0 errors/);
  });
});

describe("formatMs", () => {
  it.each([
    [12.4, "12 ms"],
    [999, "999 ms"],
    [2_000, "2 s"],
    [2_500, "2.5 s"],
    [3_250, "3.25 s"],
    [20_000, "20 s"],
    [125_400, "125.4 s"],
  ])("%d ms reads %s", (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});

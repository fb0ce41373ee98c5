// The analyzer that always answers: rules for the common alerts, learned playbooks, honest confidence.
import { describe, expect, it } from "vitest";
import { AnalysisSchema, validateModelOutput } from "../../domain/analysis.js";
import { AnalysisContextSchema, type AnalysisContext, type Playbook } from "../../domain/analysis-context.js";
import { evaluateOffline, formatReport, loadScenarios } from "../../ai/eval.js";
import { analyzeOffline } from "../../ai/offline-analyzer.js";
import { OFFLINE_RULES } from "../../ai/offline-rules.js";
import { playbookSignatures } from "../../domain/playbooks.js";
import { scopeFromContext } from "../../domain/scope.js";

function alert(
  alertname: string,
  labels: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): AnalysisContext {
  return AnalysisContextSchema.parse({
    source: "alertmanager",
    title: alertname,
    labels: { alertname, ...labels },
    ...extra,
  });
}

const k8s = { namespace: "awoooi-prod", deployment: "awoooi-api", pod: "awoooi-api-7d9f8b6c5-x2k4q" };
const CJK = /[\u4e00-\u9fff]/;

describe("built-in rules (seed section 2 and table 3.2)", () => {
  it.each([
    ["NodeDown", "NOTIFY_ONLY", "CRITICAL", { node: "mon1" }],
    ["PostgreSQLDown", "RESTART_CONTAINER", "LOW", { container: "postgres" }],
    ["RedisDown", "RESTART_CONTAINER", "LOW", { container: "redis-stack" }],
    ["AWOOOIAPIDown", "RESTART_POD", "LOW", k8s],
    ["OpenClawDown", "RESTART_CONTAINER", "LOW", { container: "openclaw" }],
    ["PodCrashLoopBackOff", "ROLLBACK", "MEDIUM", k8s],
    ["HighCPUUsage", "SCALE_UP", "LOW", k8s],
    ["HighMemoryUsage", "NOTIFY_ONLY", "MEDIUM", k8s],
    ["HighErrorRate", "RESTART_POD", "LOW", k8s],
    ["OllamaSlowInference", "SWITCH_MODEL", "LOW", { model: "qwen2.5:14b" }],
    ["DiskSpaceLow", "CLEANUP_LOGS", "LOW", { instance: "192.168.0.110:9100" }],
    ["CertificateExpiringSoon", "RENEW_CERT", "LOW", { cn: "awoooi.example.com" }],
    ["RedisMemoryHigh", "CLEAR_CACHE", "MEDIUM", { container: "redis-stack" }],
    ["PostgreSQLTableBloat", "VACUUM_DB", "MEDIUM", { schemaname: "public", relname: "incidents" }],
    ["PodOOMKilled", "DELETE_POD", "LOW", k8s],
    ["PodStuckTerminating", "DELETE_POD", "LOW", k8s],
    ["GeminiRateLimit", "FALLBACK_AI", "LOW", { provider: "gemini" }],
  ] as const)("%s → %s (risk %s)", (name, action, risk, labels) => {
    const analysis = analyzeOffline(alert(name, labels), [], "zh-TW");
    expect(analysis).toMatchObject({
      suggested_action: action,
      risk_level: risk,
      engine: "offline",
      provider: "offline",
    });
    expect(analysis.confidence).toBeLessThanOrEqual(0.75);
    expect(analysis.reasoning).toMatch(CJK);
    expect(analysis.cost_usd).toBe(0);
  });

  it("writes cause and reasoning in BOT_LANGUAGE: English by default, Traditional Chinese for zh-TW", () => {
    const context = alert("PodCrashLoopBackOff", k8s);
    const english = analyzeOffline(context);
    expect(english.cause).toBe("The pod is in CrashLoopBackOff");
    expect(`${english.cause}\n${english.reasoning}`).not.toMatch(CJK);
    const chinese = analyzeOffline(context, [], "zh-TW");
    expect(chinese.cause).toBe("Pod 持續 CrashLoopBackOff");
    expect(chinese.reasoning).toMatch(CJK);
    // the same proposal in either language
    expect({ ...chinese, cause: "", reasoning: "" }).toEqual({ ...english, cause: "", reasoning: "" });
  });

  it("carries every rule's cause and reasoning in both languages, the English free of Chinese", () => {
    for (const rule of OFFLINE_RULES) {
      for (const text of [rule.cause, rule.reasoning]) {
        expect(text.en.trim(), rule.id).not.toBe("");
        expect(text.en, rule.id).not.toMatch(CJK);
        expect(text["zh-TW"], rule.id).toMatch(CJK);
      }
    }
  });

  it("targets what the alert names", () => {
    expect(analyzeOffline(alert("PodOOMKilled", k8s)).target).toEqual({
      kind: "Pod",
      namespace: "awoooi-prod",
      name: "awoooi-api-7d9f8b6c5-x2k4q",
    });
    expect(analyzeOffline(alert("PostgreSQLDown", { container: "postgres" })).target).toEqual({
      kind: "Container",
      name: "postgres",
    });
  });

  it("asks a human when the alert names nothing the action could act on", () => {
    const analysis = analyzeOffline(alert("HighCPUUsage", { instance: "192.168.0.120:9100" }));
    expect(analysis.suggested_action).toBe("NOTIFY_ONLY");
    expect(analysis.confidence).toBeLessThanOrEqual(0.4);
    expect(analysis.reasoning).toContain("SCALE_UP");
  });

  it("proposes NOTIFY_ONLY with low confidence for an unknown alert", () => {
    const analysis = analyzeOffline(alert("SomethingNobodyWrote", k8s));
    expect(analysis).toMatchObject({ suggested_action: "NOTIFY_ONLY", target: { kind: "Pod" } });
    expect(analysis.confidence).toBeLessThanOrEqual(0.3);
  });

  it("proposes nothing for a resolved alert", () => {
    expect(analyzeOffline(alert("HighCPUUsage", k8s, { status: "resolved" })).suggested_action).toBe("NONE");
  });

  it("keeps a Sentry error for a human", () => {
    const sentry = AnalysisContextSchema.parse({
      source: "sentry",
      title: "KeyError: 'tenant_id'",
      labels: { project: "awoooi-api" },
      annotations: { culprit: "app.api in list" },
    });
    expect(analyzeOffline(sentry)).toMatchObject({
      suggested_action: "NOTIFY_ONLY",
      target: { kind: "Service", name: "awoooi-api" },
    });
  });

  it("is deterministic", () => {
    const context = alert("HighErrorRate", k8s);
    expect(analyzeOffline(context)).toEqual(analyzeOffline(context));
  });
});

describe("learned playbooks", () => {
  const context = alert("HighMemoryUsage", k8s);
  const [specific, general] = playbookSignatures(context);
  const playbook = (patch: Partial<Playbook>): Playbook => ({
    signature: specific ?? "",
    action: "RESTART_POD",
    successes: 1,
    failures: 0,
    ...patch,
  });

  it("signs an incident from most to least specific", () => {
    expect([specific, general]).toEqual([
      "alertmanager:HighMemoryUsage:awoooi-prod:awoooi-api",
      "alertmanager:HighMemoryUsage",
    ]);
  });

  it("prefers a matching playbook to the rule, with confidence from its record", () => {
    expect(analyzeOffline(context, [playbook({ successes: 1 })])).toMatchObject({
      suggested_action: "RESTART_POD",
      confidence: 0.67,
      model: "playbook",
    });
    expect(analyzeOffline(context, [playbook({ successes: 8, failures: 1 })]).confidence).toBe(0.82);
  });

  it("caps a playbook's confidence", () => {
    expect(analyzeOffline(context, [playbook({ successes: 500 })]).confidence).toBe(0.9);
  });

  it("ignores playbooks of other incidents and those that fail more than they work", () => {
    expect(analyzeOffline(context, [playbook({ signature: "alertmanager:Other" })]).model).not.toBe(
      "playbook",
    );
    expect(analyzeOffline(context, [playbook({ successes: 2, failures: 3 })]).model).not.toBe("playbook");
  });

  it("prefers the more specific signature", () => {
    const result = analyzeOffline(context, [
      playbook({ signature: general ?? "", action: "SCALE_UP", successes: 50 }),
      playbook({ action: "RESTART_POD", successes: 3 }),
    ]);
    expect(result.suggested_action).toBe("RESTART_POD");
  });

  it("skips a playbook whose action has no target in this incident", () => {
    const result = analyzeOffline(context, [playbook({ action: "VACUUM_DB", successes: 9 })]);
    expect(result.model).toBe("rules:high-memory");
  });

  it("asks a human when the rule's action has mostly failed here before", () => {
    const errors = alert("HighErrorRate", k8s);
    const signature = playbookSignatures(errors)[0] ?? "";
    const failing = [{ signature, action: "RESTART_POD" as const, successes: 1, failures: 4 }];
    const result = analyzeOffline(errors, failing, "zh-TW");
    expect(result.suggested_action).toBe("NOTIFY_ONLY");
    expect(result.reasoning).toContain("失敗 4 次");
    expect(analyzeOffline(errors, failing).reasoning).toContain("1 successes and 4 failures");
  });
});

describe("robustness", () => {
  it("never throws and always returns a valid analysis", () => {
    const odd = [
      alert("", {}),
      alert("x".repeat(500), { namespace: "NOT A NAMESPACE", pod: "$(reboot)", container: "; rm -rf /" }),
      alert("HighErrorRate", { team: "back\u0000end\nteam", ...k8s }),
      {
        ...alert("HighCPUUsage", k8s),
        playbooks: [
          {
            signature: "alertmanager:HighCPUUsage",
            action: "RESTART_POD" as const,
            successes: Number.NaN,
            failures: 0,
          },
        ],
      },
    ];
    for (const context of odd) {
      const analysis = analyzeOffline(context);
      expect(AnalysisSchema.safeParse(analysis).success).toBe(true);
    }
    const broken = { ...alert("HighCPUUsage", k8s), labels: null } as unknown as AnalysisContext;
    expect(analyzeOffline(broken)).toMatchObject({ suggested_action: "NOTIFY_ONLY", confidence: 0 });
  });

  it("targets only the incident's own resources, as a model must", async () => {
    for (const { file, scenario } of await loadScenarios()) {
      const analysis = analyzeOffline(scenario.context);
      const { provider: _p, model: _m, tokens: _t, cost_usd: _c, engine: _e, ...output } = analysis;
      const verdict = validateModelOutput(output, scopeFromContext(scenario.context));
      expect(verdict.ok, `${file}: ${verdict.ok ? "" : verdict.problems.join("; ")}`).toBe(true);
    }
  });
});

describe("labelled scenarios", () => {
  it("has at least 20 and the offline analyzer gets at least 90% right", async () => {
    const report = await evaluateOffline();
    expect(report.total).toBeGreaterThanOrEqual(20);
    expect(report.accuracy, formatReport(report)).toBeGreaterThanOrEqual(0.9);
  });
});

// The 🧭 line's verdicts in the chat's language (verdictText, domain/i18n/): in English each rule's
// text is decide()'s own `detail`, letter for letter, so the audit log and an English card agree;
// in Traditional Chinese every rule decide() can fail or pass is said in Chinese, with its figures.
import { describe, expect, it } from "vitest";
import type { Analysis } from "../../domain/analysis.js";
import { decide, type DecisionInput, type RolloutFacts, type Verdict } from "../../domain/decide.js";
import { messagesFor, verdictText } from "../../domain/i18n/index.js";

const INCIDENT = {
  source: "alertmanager",
  title: "AWOOOIAPIDown",
  labels: { alertname: "AWOOOIAPIDown", namespace: "awoooi-prod", deployment: "awoooi-api" },
  annotations: {},
};

const ANALYSIS: Analysis = {
  suggested_action: "RESTART_POD",
  target: { kind: "Deployment", namespace: "awoooi-prod", name: "awoooi-api" },
  confidence: 0.92,
  risk_level: "LOW",
  blast_radius: { affected_pods: 2, estimated_downtime_seconds: 0 },
  owner_team: "backend",
  cause: "probe failing",
  reasoning: "probe failing, restart",
  provider: "ollama",
  model: "qwen2.5:7b",
  tokens: { input: 1000, output: 90 },
  cost_usd: 0,
  engine: "llm",
};

const ROLLOUT: RolloutFacts = {
  strategy: "RollingUpdate",
  progressDeadlineSeconds: 600,
  progressDeadlineExceeded: false,
  autoscaler: "none",
};

function input(
  overrides: Partial<Omit<DecisionInput, "analysis">> & { analysis?: Partial<Analysis> },
): DecisionInput {
  return {
    incident: INCIDENT,
    registryAllows: ["RESTART_POD", "DELETE_POD", "SCALE_UP", "ROLLBACK"],
    policy: {
      enabled: true,
      maxPerHour: 5,
      maxPerResourcePerHour: 3,
      minConfidence: 0.85,
      maxAffectedPods: 3,
      minHealthyReplicas: 1,
      allowedNamespaces: ["awoooi-prod", "monitoring"],
      autoMaxRisk: "LOW",
    },
    counters: { lastHour: 2, resourceLastHour: 0, cooldownSeconds: 0 },
    ...overrides,
    analysis: { ...ANALYSIS, ...overrides.analysis },
  };
}

const pod = { kind: "Pod" as const, namespace: "awoooi-prod", name: "awoooi-api-7d4b8c9f5-abc12" };
const podInput = { pod: "awoooi-api-7d4b8c9f5-abc12" };

/** Inputs that between them make every rule pass and fail, each way its detail can read. */
const CASES: DecisionInput[] = [
  input({}),
  input({
    policy: { ...input({}).policy, enabled: false, allowedNamespaces: ["monitoring"], autoMaxRisk: "LOW" },
    analysis: {
      confidence: 0.5,
      risk_level: "MEDIUM",
      blast_radius: { affected_pods: 9, estimated_downtime_seconds: 0 },
    },
    counters: { lastHour: 5, resourceLastHour: 3, cooldownSeconds: 420 },
    registryAllows: ["SCALE_UP"],
  }),
  input({ registryAllows: undefined }),
  input({ analysis: { suggested_action: "DROP_DATABASE" as Analysis["suggested_action"] } }),
  input({ analysis: { suggested_action: "NOTIFY_ONLY" } }),
  input({ analysis: { target: { kind: "Deployment", namespace: "awoooi-prod", name: "awoooi-web" } } }),
  input({
    incident: { ...INCIDENT, labels: { ...INCIDENT.labels, ...podInput } },
    analysis: { suggested_action: "DELETE_POD", target: pod },
  }),
  input({
    incident: { ...INCIDENT, labels: { ...INCIDENT.labels, ...podInput } },
    analysis: { suggested_action: "DELETE_POD", target: pod },
    healthyReplicas: 1,
    targetPodReady: false,
  }),
  input({
    incident: { ...INCIDENT, labels: { ...INCIDENT.labels, ...podInput } },
    analysis: { suggested_action: "DELETE_POD", target: pod },
    healthyReplicas: 1,
  }),
  input({
    rollout: { ...ROLLOUT, strategy: "Recreate", progressDeadlineExceeded: true },
    workloadReplicas: 4,
  }),
  input({ analysis: { suggested_action: "SCALE_UP" }, rollout: ROLLOUT }),
  input({ analysis: { suggested_action: "SCALE_UP" }, rollout: { ...ROLLOUT, autoscaler: "unknown" } }),
  input({
    analysis: { suggested_action: "SCALE_UP" },
    rollout: { ...ROLLOUT, autoscaler: { name: "api", minReplicas: 2, maxReplicas: 8 } },
  }),
];

/** The verdicts the analysis use case adds after decide(), as handlers/analyze-incident.ts words them. */
const ADDED: Verdict[] = [
  {
    rule: "executor_configured",
    kind: "soft",
    ok: false,
    detail: "RESTART_POD has no target configured here",
    params: { action: "RESTART_POD" },
  },
  {
    rule: "budget_reserved",
    kind: "soft",
    ok: false,
    detail: "cooling off after a failed repair: 300s left",
    params: {
      spent: "cooldown",
      used: 0,
      max: 3,
      seconds: 300,
      resource: "Deployment/awoooi-prod/awoooi-api",
    },
  },
  {
    rule: "budget_reserved",
    kind: "soft",
    ok: false,
    detail: "hourly budget spent meanwhile: 5/5 this hour",
    params: { spent: "hourly", used: 5, max: 5, seconds: 0, resource: "Deployment/awoooi-prod/awoooi-api" },
  },
  {
    rule: "budget_reserved",
    kind: "soft",
    ok: false,
    detail: "budget of Deployment/awoooi-prod/awoooi-api spent meanwhile: 3/3 this hour",
    params: { spent: "resource", used: 3, max: 3, seconds: 0, resource: "Deployment/awoooi-prod/awoooi-api" },
  },
];

const verdicts: Verdict[] = [...CASES.flatMap((given) => decide(given).verdicts), ...ADDED];

describe("verdictText", () => {
  it("covers every rule failing, and every rule that records a pass passing", () => {
    const seen = new Set(verdicts.map((verdict) => `${verdict.rule} ${verdict.ok}`));
    // these are recorded only when they fail
    const failOnly = [
      "remediation_proposed",
      "rollout_strategy",
      "rollout_progressing",
      "executor_configured",
      "budget_reserved",
    ];
    for (const rule of Object.keys(messagesFor("en").verdict)) {
      expect(seen.has(`${rule} false`), `${rule} failing`).toBe(true);
      if (!failOnly.includes(rule)) expect(seen.has(`${rule} true`), `${rule} passing`).toBe(true);
    }
  });

  it("says in English exactly what decide() recorded", () => {
    const en = messagesFor("en");
    for (const verdict of verdicts) expect(verdictText(verdict, en)).toBe(verdict.detail);
  });

  it("says every verdict in Traditional Chinese, with the figures and names the English shows", () => {
    const zh = messagesFor("zh-TW");
    for (const verdict of verdicts) {
      const text = verdictText(verdict, zh);
      expect(text, verdict.detail).toMatch(/[\u4e00-\u9fff]/);
      // the words of the English detail that are figures, names or settings, not English
      const kept = verdict.detail.match(/[\w./=-]*[\d_/][\w./=-]*/g) ?? [];
      for (const word of kept) expect(text, verdict.detail).toContain(word.replace(/s$/, ""));
    }
  });

  it("keeps the English detail of a verdict recorded without figures, or of a rule it cannot say", () => {
    const old: Verdict = { rule: "risk", kind: "soft", ok: false, detail: "risk MEDIUM above LOW" };
    expect(verdictText(old, messagesFor("zh-TW"))).toBe("risk MEDIUM above LOW");
    const added: Verdict = {
      rule: "escalated",
      kind: "soft",
      ok: false,
      detail: "a rule the catalogue does not know",
      params: {},
    };
    expect(verdictText(added, messagesFor("zh-TW"))).toBe("a rule the catalogue does not know");
  });
});

// Given / when / then for every guardrail of the guardrails, domain/decide.ts, hostile analyses included.
import { describe, expect, it } from "vitest";
import type { Analysis } from "../../domain/analysis.js";
import { decide, type DecisionInput, type DecisionMode, type GuardrailPolicy } from "../../domain/decide.js";

const POLICY: GuardrailPolicy = {
  enabled: true,
  maxPerHour: 5,
  maxPerResourcePerHour: 3,
  minConfidence: 0.85,
  maxAffectedPods: 3,
  minHealthyReplicas: 1,
  allowedNamespaces: ["awoooi-prod", "monitoring"],
  autoMaxRisk: "LOW",
};

const INCIDENT = {
  source: "alertmanager",
  title: "AWOOOIAPIDown",
  labels: {
    alertname: "AWOOOIAPIDown",
    namespace: "awoooi-prod",
    deployment: "awoooi-api",
    pod: "awoooi-api-7d4b8c9f5-abc12",
  },
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
  reasoning: "健康檢查失敗，滾動重啟。",
  provider: "ollama",
  model: "qwen2.5:7b",
  tokens: { input: 1000, output: 90 },
  cost_usd: 0,
  engine: "llm",
};

function given(overrides: {
  analysis?: Partial<Analysis> | Record<string, unknown>;
  incident?: Partial<typeof INCIDENT>;
  policy?: Partial<GuardrailPolicy>;
  counters?: Partial<DecisionInput["counters"]>;
  registryAllows?: readonly string[] | undefined;
  healthyReplicas?: number;
  workloadReplicas?: number;
}): DecisionInput {
  return {
    // hostile overrides (unlisted actions) get past the types here, as they would past a broken validator
    analysis: { ...ANALYSIS, ...overrides.analysis },
    incident: { ...INCIDENT, ...overrides.incident },
    policy: { ...POLICY, ...overrides.policy },
    counters: { lastHour: 2, resourceLastHour: 0, cooldownSeconds: 0, ...overrides.counters },
    registryAllows:
      "registryAllows" in overrides ? overrides.registryAllows : ["RESTART_POD", "DELETE_POD", "SCALE_UP"],
    ...(overrides.healthyReplicas === undefined ? {} : { healthyReplicas: overrides.healthyReplicas }),
    ...(overrides.workloadReplicas === undefined ? {} : { workloadReplicas: overrides.workloadReplicas }),
  };
}

const pod = { kind: "Pod", namespace: "awoooi-prod", name: "awoooi-api-7d4b8c9f5-abc12" };

const TABLE: [string, Parameters<typeof given>[0], DecisionMode, string | undefined][] = [
  ["everything within the guardrails", {}, "auto", undefined],
  ["AUTO_REPAIR_ENABLED=false", { policy: { enabled: false } }, "approval", "auto_repair_enabled"],
  [
    "risk MEDIUM",
    { analysis: { suggested_action: "ROLLBACK", risk_level: "MEDIUM" }, registryAllows: ["ROLLBACK"] },
    "approval",
    "risk",
  ],
  [
    "confidence 0.99 with CRITICAL risk",
    { analysis: { confidence: 0.99, risk_level: "CRITICAL" } },
    "approval",
    "risk",
  ],
  ["confidence below 0.85", { analysis: { confidence: 0.849 } }, "approval", "confidence"],
  [
    "more than 3 pods affected",
    { analysis: { blast_radius: { affected_pods: 4, estimated_downtime_seconds: 0 } } },
    "approval",
    "max_affected_pods",
  ],
  [
    "hostile: a rollout restart of 10 replicas declared as 2 pods",
    { workloadReplicas: 10 },
    "approval",
    "max_affected_pods",
  ],
  ["the hourly budget spent (by any process)", { counters: { lastHour: 5 } }, "approval", "hourly_budget"],
  [
    "3 repairs of this resource this hour",
    { counters: { resourceLastHour: 3 } },
    "approval",
    "resource_budget",
  ],
  [
    "an active cool-off after a failed repair",
    { counters: { cooldownSeconds: 420 } },
    "approval",
    "cooldown",
  ],
  ["an action the registry does not allow", { registryAllows: ["SCALE_UP"] }, "approval", "registry_allows"],
  ["a service missing from the registry", { registryAllows: undefined }, "approval", "registry_allows"],
  [
    "deleting the last healthy replica",
    { analysis: { suggested_action: "DELETE_POD", target: pod }, healthyReplicas: 1 },
    "refused",
    "min_healthy_replicas",
  ],
  [
    "deleting a pod with healthy replicas unknown",
    { analysis: { suggested_action: "DELETE_POD", target: pod } },
    "approval",
    "min_healthy_replicas",
  ],
  [
    "deleting one of three healthy pods",
    { analysis: { suggested_action: "DELETE_POD", target: pod }, healthyReplicas: 3 },
    "auto",
    undefined,
  ],
  [
    "hostile: a blacklisted action",
    { analysis: { suggested_action: "DROP_DATABASE" } },
    "refused",
    "not_blacklisted",
  ],
  [
    "hostile: DELETE_NAMESPACE at 0.99",
    { analysis: { suggested_action: "DELETE_NAMESPACE", confidence: 0.99 } },
    "refused",
    "not_blacklisted",
  ],
  [
    "hostile: a foreign namespace",
    { analysis: { target: { kind: "Deployment", namespace: "kube-system", name: "coredns" } } },
    "refused",
    "target_in_incident",
  ],
  [
    "hostile: a target not in the incident",
    { analysis: { target: { kind: "Deployment", namespace: "awoooi-prod", name: "awoooi-web" } } },
    "refused",
    "target_in_incident",
  ],
  [
    "hostile: a pod of another deployment whose name extends the incident's",
    {
      analysis: {
        suggested_action: "DELETE_POD",
        target: { kind: "Pod", namespace: "awoooi-prod", name: "awoooi-api-worker-7d4b8c9f5-abc12" },
      },
      healthyReplicas: 3,
    },
    "refused",
    "target_in_incident",
  ],
  [
    "an incident outside the allowed namespaces",
    {
      incident: { labels: { ...INCIDENT.labels, namespace: "default" } },
      analysis: { target: { kind: "Deployment", namespace: "default", name: "awoooi-api" } },
    },
    "refused",
    "namespace_allowed",
  ],
  [
    "nothing to run (NOTIFY_ONLY)",
    { analysis: { suggested_action: "NOTIFY_ONLY" } },
    "nothing_to_run",
    "remediation_proposed",
  ],
];

describe("decide", () => {
  it.each(TABLE)("given %s, decides %s… naming the rule", (_given, overrides, mode, rule) => {
    const decision = decide(given(overrides));
    expect(decision.mode).toBe(mode);
    const failed = decision.verdicts.filter((verdict) => !verdict.ok).map((verdict) => verdict.rule);
    if (rule === undefined) expect(failed).toEqual([]);
    else expect(failed).toContain(rule);
  });

  it("says why it runs by itself, in one line for the card", () => {
    expect(decide(given({})).summary).toBe("auto: confidence 0.92 ≥ 0.85, risk LOW, 3/5 this hour");
  });

  it("says what needs a human", () => {
    const decision = decide(
      given({
        analysis: { suggested_action: "ROLLBACK", risk_level: "MEDIUM" },
        registryAllows: ["ROLLBACK"],
      }),
    );
    expect(decision.summary).toBe("needs approval: risk MEDIUM above LOW");
  });

  it("counts a pod's repairs and cool-off against its deployment: pod names change with each replacement", () => {
    const deletePod = given({
      analysis: { suggested_action: "DELETE_POD", target: pod },
      healthyReplicas: 3,
    });
    const replacement = given({
      analysis: {
        suggested_action: "DELETE_POD",
        target: { ...pod, name: "awoooi-api-7d4b8c9f5-zz9k1" },
      },
      healthyReplicas: 3,
    });
    expect(decide(deletePod).resourceKey).toBe("Deployment/awoooi-prod/awoooi-api");
    expect(decide(replacement).resourceKey).toBe(decide(deletePod).resourceKey);
    expect(decide(given({})).resourceKey).toBe("Deployment/awoooi-prod/awoooi-api");
  });

  it("records every rule's verdict, not only the failing ones", () => {
    const rules = decide(given({})).verdicts.map((verdict) => verdict.rule);
    expect(rules).toEqual([
      "not_blacklisted",
      "target_in_incident",
      "namespace_allowed",
      "auto_repair_enabled",
      "registry_allows",
      "risk",
      "confidence",
      "max_affected_pods",
      "hourly_budget",
      "resource_budget",
      "cooldown",
    ]);
  });
});

// Every numeric guardrail on both sides of its edge: `>=` written as `>` (or the reverse) is a bug
// one alert away, and only a value exactly at the limit tells them apart.
describe("every threshold at its exact boundary", () => {
  const deletePod = (healthyReplicas: number) =>
    given({
      analysis: {
        suggested_action: "DELETE_POD",
        target: pod,
        blast_radius: { affected_pods: 1, estimated_downtime_seconds: 0 },
      },
      healthyReplicas,
    });
  const BOUNDARIES: [string, DecisionInput, DecisionMode, string | undefined][] = [
    [
      "confidence exactly at the minimum (0.85) runs by itself",
      given({ analysis: { confidence: 0.85 } }),
      "auto",
      undefined,
    ],
    ["confidence just below (0.8499)", given({ analysis: { confidence: 0.8499 } }), "approval", "confidence"],
    ["the hour's last repair (4 of 5 used)", given({ counters: { lastHour: 4 } }), "auto", undefined],
    ["the hour's budget spent (5 of 5)", given({ counters: { lastHour: 5 } }), "approval", "hourly_budget"],
    [
      "the resource's last repair (2 of 3 used)",
      given({ counters: { resourceLastHour: 2 } }),
      "auto",
      undefined,
    ],
    [
      "the resource's budget spent (3 of 3)",
      given({ counters: { resourceLastHour: 3 } }),
      "approval",
      "resource_budget",
    ],
    ["no cool-off left (0 s)", given({ counters: { cooldownSeconds: 0 } }), "auto", undefined],
    ["one second of cool-off left", given({ counters: { cooldownSeconds: 1 } }), "approval", "cooldown"],
    [
      "exactly the most pods allowed (3)",
      given({ analysis: { blast_radius: { affected_pods: 3, estimated_downtime_seconds: 0 } } }),
      "auto",
      undefined,
    ],
    [
      "one pod more than allowed (4)",
      given({ analysis: { blast_radius: { affected_pods: 4, estimated_downtime_seconds: 0 } } }),
      "approval",
      "max_affected_pods",
    ],
    ["a rollout of exactly 3 replicas", given({ workloadReplicas: 3 }), "auto", undefined],
    ["a rollout of 4 replicas", given({ workloadReplicas: 4 }), "approval", "max_affected_pods"],
    ["DELETE_POD leaving exactly the minimum healthy (2 ready, 1 left)", deletePod(2), "auto", undefined],
    [
      "DELETE_POD leaving fewer than the minimum (1 ready, 0 left)",
      deletePod(1),
      "refused",
      "min_healthy_replicas",
    ],
    [
      "risk exactly at the automatic maximum (LOW)",
      given({ analysis: { risk_level: "LOW" } }),
      "auto",
      undefined,
    ],
  ];
  it.each(BOUNDARIES)("%s", (_name, input, mode, rule) => {
    const decision = decide(input);
    expect(decision.mode).toBe(mode);
    const failed = decision.verdicts.filter((verdict) => !verdict.ok).map((verdict) => verdict.rule);
    expect(failed).toEqual(rule === undefined ? [] : [rule]);
  });
});

describe("what the cluster says of the rollout", () => {
  const ROLLING = {
    strategy: "RollingUpdate" as const,
    progressDeadlineSeconds: 600,
    progressDeadlineExceeded: false,
    autoscaler: "none" as const,
  };
  const withRollout = (
    rollout: Partial<NonNullable<DecisionInput["rollout"]>>,
    analysis: Partial<Analysis> = {},
  ): DecisionInput => ({ ...given({ analysis }), rollout: { ...ROLLING, ...rollout } });

  it("runs a rolling restart by itself when nothing stands against it", () => {
    expect(decide(withRollout({})).mode).toBe("auto");
  });

  it("never restarts a Recreate Deployment automatically: downtime expected and risk raised", () => {
    const decision = decide(withRollout({ strategy: "Recreate" }));
    expect(decision.mode).toBe("approval");
    expect(decision.summary).toBe(
      "needs approval: strategy Recreate: every pod stops before new ones start, downtime expected; risk MEDIUM (raised from LOW: Recreate) above LOW",
    );
    expect(decision.downtime).toBe("every pod stops first (Recreate)");
    // even where MEDIUM may run by itself, Recreate still waits for a person
    expect(
      decide({ ...withRollout({ strategy: "Recreate" }), policy: { ...POLICY, autoMaxRisk: "CRITICAL" } })
        .mode,
    ).toBe("approval");
    const rollback = decide(
      withRollout({ strategy: "Recreate" }, { suggested_action: "ROLLBACK", risk_level: "MEDIUM" }),
    );
    expect(rollback.verdicts.find((v) => v.rule === "risk")?.detail).toBe(
      "risk CRITICAL (raised from MEDIUM: Recreate) above LOW",
    );
    // a scale replaces no pod: Recreate does not matter to it
    const scale = decide(withRollout({ strategy: "Recreate" }, { suggested_action: "SCALE_UP" }));
    expect(scale.verdicts.some((v) => v.rule === "rollout_strategy")).toBe(false);
    expect(scale.downtime).toBeUndefined();
  });

  it("refuses SCALE_* of a Deployment an autoscaler owns, saying which", () => {
    const decision = decide(
      withRollout(
        { autoscaler: { name: "awoooi-api", minReplicas: 2, maxReplicas: 6 } },
        { suggested_action: "SCALE_UP" },
      ),
    );
    expect(decision.mode).toBe("refused");
    expect(decision.summary).toBe(
      "refused: HorizontalPodAutoscaler awoooi-api owns the replicas (2–6): a manual scale would be undone",
    );
    const unknown = decide(withRollout({ autoscaler: "unknown" }, { suggested_action: "SCALE_UP" }));
    expect(unknown.mode).toBe("approval");
    expect(unknown.summary).toContain("whether an autoscaler owns the replicas is unknown");
  });

  it("takes the automatic restart away when the last rollout exceeded its progress deadline", () => {
    const decision = decide(withRollout({ progressDeadlineExceeded: true, progressDeadlineSeconds: 300 }));
    expect(decision.mode).toBe("approval");
    expect(decision.summary).toBe(
      "needs approval: the last rollout exceeded its progress deadline (300s): a restart starts another on the same template",
    );
  });
});

describe("removing a pod that is not ready", () => {
  it("costs no healthy replica, so a lost node's pod may go while one healthy replica stays", () => {
    const input = given({
      analysis: { suggested_action: "DELETE_POD", target: pod },
      registryAllows: ["DELETE_POD"],
      healthyReplicas: 1,
    });
    expect(decide(input).mode).toBe("refused");
    const unready = decide({ ...input, targetPodReady: false });
    expect(unready.mode).toBe("auto");
    expect(unready.verdicts.find((v) => v.rule === "min_healthy_replicas")?.detail).toBe(
      "1 healthy replica(s) would remain (the pod is not ready), at least 1 must",
    );
  });
});

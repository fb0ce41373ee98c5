// The decision engine (the guardrails, domain/decide.ts): may this analysis run by itself, does it need a human, or
// must it not run at all? A pure function of the analysis, the incident, the registry's word on
// the service, the policy and the shared counters; every rule's verdict is recorded.
import { BLACKLISTED_ACTIONS, higherRisk, REMEDIATION_ACTIONS, type RiskLevel } from "./actions.js";
import type { Analysis } from "./analysis.js";
import { AnalysisContextSchema } from "./analysis-context.js";
import { deploymentOfPod, scopeFromContext, targetProblem } from "./scope.js";

export interface GuardrailPolicy {
  /** AUTO_REPAIR_ENABLED: false sends everything to a human. */
  enabled: boolean;
  maxPerHour: number;
  maxPerResourcePerHour: number;
  minConfidence: number;
  maxAffectedPods: number;
  minHealthyReplicas: number;
  allowedNamespaces: readonly string[];
  /** Only this risk (and lower) may run without a human. */
  autoMaxRisk: RiskLevel;
}

export interface RepairCounters {
  /** Automatic repairs in the last hour, across every process. */
  lastHour: number;
  /** Automatic repairs of this resource in the last hour. */
  resourceLastHour: number;
  /** Seconds left of the cool-off after a failed repair of this resource (0 when none). */
  cooldownSeconds: number;
}

/** What the cluster says of the target Deployment's roll-out, beyond its replica count. */
export interface RolloutFacts {
  /** `spec.strategy.type`: Recreate stops every pod before any new one starts. */
  strategy: "RollingUpdate" | "Recreate";
  progressDeadlineSeconds: number;
  /** The last rollout stalled: Progressing False, ProgressDeadlineExceeded. */
  progressDeadlineExceeded: boolean;
  /** The HorizontalPodAutoscaler owning the replica count; "none", or "unknown" when it could not be read. */
  autoscaler: { name: string; minReplicas: number; maxReplicas: number } | "none" | "unknown";
}

export interface DecisionInput {
  analysis: Analysis;
  incident: {
    source: string;
    title: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  /** The repairs the service registry allows for the incident's service; undefined when unregistered. */
  registryAllows: readonly string[] | undefined;
  policy: GuardrailPolicy;
  counters: RepairCounters;
  /** Ready replicas of the target workload, when known. */
  healthyReplicas?: number;
  /** Whether the target pod itself is ready, when known: taking an unready one away costs no healthy replica. */
  targetPodReady?: boolean;
  /** Replicas of the target Deployment now, when known: a rollout restart or undo replaces each one. */
  workloadReplicas?: number;
  /** The target Deployment's strategy, progress deadline and autoscaler, when known. */
  rollout?: RolloutFacts;
}

/** A hard rule stops the action outright; a soft one only takes away the automatic run. */
export type RuleKind = "hard" | "soft";

/**
 * The names and figures each rule's `detail` is made of, so the card can say it in the chat's
 * language; `detail` stays the English the audit log and the API keep. Flat values only: a
 * message catalogue's text takes them as they are.
 */
export interface RuleParams {
  not_blacklisted: { action: string };
  remediation_proposed: { action: string };
  /** `problem` is the scope's own (English) reason, empty when the target is the incident's. */
  target_in_incident: { resource: string; problem: string };
  /** `allowed` is ALLOWED_NAMESPACES as one comma-separated list. */
  namespace_allowed: { namespace: string; allowed: string };
  /** `known` false: the ready replica count could not be read (`left` is then 0). */
  min_healthy_replicas: { known: boolean; left: number; min: number; unready: boolean };
  rollout_strategy: { strategy: string };
  /** `owner` "hpa" names the autoscaler; "none" and "unknown" leave `name`, `min`, `max` empty. */
  hpa_owned: { owner: "none" | "unknown" | "hpa"; name: string; min: number; max: number };
  rollout_progressing: { seconds: number };
  auto_repair_enabled: { setting: string };
  /** `registered` false: the service is not in the registry at all. */
  registry_allows: { registered: boolean; action: string };
  /** `declared` is the analysis' risk; `risk` the one judged (raised by a Recreate rollout). */
  risk: { risk: RiskLevel; declared: RiskLevel; max: RiskLevel };
  /** `confidence` as the card shows it, two decimals. */
  confidence: { confidence: string; min: number };
  max_affected_pods: { pods: number; max: number };
  hourly_budget: { used: number; max: number };
  resource_budget: { used: number; max: number; resource: string };
  cooldown: { seconds: number };
  /** Added by the analysis use case: the action has no executor here. */
  executor_configured: { action: string };
  /** Added by the analysis use case: the budget was spent between reading and reserving it. */
  budget_reserved: {
    spent: "cooldown" | "hourly" | "resource";
    used: number;
    max: number;
    seconds: number;
    resource: string;
  };
}

export type RuleName = keyof RuleParams;

export interface Verdict {
  rule: string;
  kind: RuleKind;
  ok: boolean;
  detail: string;
  /** The figures of `detail` (see RuleParams); absent on verdicts recorded before they were kept. */
  params?: Readonly<Record<string, string | number | boolean>>;
}

export type DecisionMode = "auto" | "approval" | "refused" | "nothing_to_run";

export interface Decision {
  mode: DecisionMode;
  /** One line for the card: "auto: confidence 0.92 ≥ 0.85, risk LOW, 2/5 this hour". */
  summary: string;
  verdicts: Verdict[];
  /** Key of the target in the shared counters. */
  resourceKey: string;
  /** The cluster's word on downtime where it overrides the analysis' estimate (a Recreate rollout). */
  downtime?: string;
}

const RISK_ORDER: Record<RiskLevel, number> = { LOW: 0, MEDIUM: 1, CRITICAL: 2 };
/** Actions that take a healthy pod away (a rollout restart surges first, so it does not). */
const REMOVES_A_POD = new Set(["DELETE_POD", "SCALE_DOWN"]);
const NAMESPACED_TARGETS = new Set(["Deployment", "StatefulSet", "Pod"]);
/** Actions that replace every pod of the workload, whatever the analysis declares. */
const REPLACES_EVERY_POD = new Set(["RESTART_POD", "ROLLBACK"]);
/** Actions that set the replica count an autoscaler owns. */
const SETS_REPLICAS = new Set(["SCALE_UP", "SCALE_DOWN"]);

export function resourceKey(analysis: Analysis): string {
  const { kind, namespace, name } = analysis.target;
  // A pod's replacement has a new name: its budget and cool-off are its deployment's.
  const owner = kind === "Pod" ? deploymentOfPod(name) : undefined;
  if (owner !== undefined) return `Deployment/${namespace ?? "-"}/${owner}`;
  return `${kind}/${namespace ?? "-"}/${name}`;
}

/** Labels as the analysis context takes them: keys up to 128 characters, values up to 4096. */
function bounded(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key.slice(0, 128), value.slice(0, 4096)]),
  );
}

export function decide(input: DecisionInput): Decision {
  const { analysis, policy, counters } = input;
  const action = analysis.suggested_action;
  const key = resourceKey(analysis);
  // Checked before anything else: an analysis that got past validation with one of these is hostile.
  if (BLACKLISTED_ACTIONS.includes(action)) {
    return {
      mode: "refused",
      summary: `refused: ${action} is blacklisted`,
      verdicts: [
        {
          rule: "not_blacklisted",
          kind: "hard",
          ok: false,
          detail: `${action} is blacklisted`,
          params: { action } satisfies RuleParams["not_blacklisted"],
        },
      ],
      resourceKey: key,
    };
  }
  if (!(REMEDIATION_ACTIONS as readonly string[]).includes(action)) {
    return {
      mode: "nothing_to_run",
      summary: "nothing to run: a human should look",
      verdicts: [
        {
          rule: "remediation_proposed",
          kind: "hard",
          ok: false,
          detail: `${action} is not a remediation`,
          params: { action } satisfies RuleParams["remediation_proposed"],
        },
      ],
      resourceKey: key,
    };
  }

  const verdicts: Verdict[] = [];
  const check = <R extends RuleName>(
    rule: R,
    kind: RuleKind,
    ok: boolean,
    detail: string,
    params: RuleParams[R],
  ) => verdicts.push({ rule, kind, ok, detail, params });

  check("not_blacklisted", "hard", true, `${action} is not blacklisted`, { action });

  const scope = scopeFromContext(
    AnalysisContextSchema.parse({
      source: input.incident.source,
      title: input.incident.title.slice(0, 512),
      // the scope reads names from labels; a value past the context's limits names nothing anyway
      labels: bounded(input.incident.labels),
      annotations: bounded(input.incident.annotations),
    }),
  );
  const foreign = targetProblem(analysis.target, scope);
  check(
    "target_in_incident",
    "hard",
    foreign === undefined,
    foreign ?? `${key} is the incident's own resource`,
    { resource: key, problem: foreign ?? "" },
  );

  const namespace = analysis.target.namespace;
  if (NAMESPACED_TARGETS.has(analysis.target.kind)) {
    const allowed = namespace !== undefined && policy.allowedNamespaces.includes(namespace);
    check(
      "namespace_allowed",
      "hard",
      allowed,
      allowed
        ? `namespace ${namespace} is allowed`
        : `namespace ${String(namespace)} is not in ${policy.allowedNamespaces.join(", ")}`,
      { namespace: String(namespace), allowed: policy.allowedNamespaces.join(", ") },
    );
  }

  if (REMOVES_A_POD.has(action)) {
    // a pod that is not ready (a lost node's, a crash-looping one) takes no healthy replica with it
    const unready = action === "DELETE_POD" && input.targetPodReady === false;
    const left = input.healthyReplicas === undefined ? undefined : input.healthyReplicas - (unready ? 0 : 1);
    if (left === undefined) {
      check("min_healthy_replicas", "soft", false, "healthy replicas unknown", {
        known: false,
        left: 0,
        min: policy.minHealthyReplicas,
        unready,
      });
    } else {
      check(
        "min_healthy_replicas",
        "hard",
        left >= policy.minHealthyReplicas,
        `${left} healthy replica(s) would remain${unready ? " (the pod is not ready)" : ""}, at least ${policy.minHealthyReplicas} must`,
        { known: true, left, min: policy.minHealthyReplicas, unready },
      );
    }
  }

  const rollout = input.rollout;
  // A Recreate rollout kills every pod before starting new ones: an outage, however short.
  const recreate = rollout?.strategy === "Recreate" && REPLACES_EVERY_POD.has(action);
  if (recreate) {
    check(
      "rollout_strategy",
      "soft",
      false,
      "strategy Recreate: every pod stops before new ones start, downtime expected",
      { strategy: "Recreate" },
    );
  }
  if (SETS_REPLICAS.has(action) && rollout !== undefined) {
    const hpa = rollout.autoscaler;
    if (hpa === "unknown") {
      check("hpa_owned", "soft", false, "whether an autoscaler owns the replicas is unknown", {
        owner: "unknown",
        name: "",
        min: 0,
        max: 0,
      });
    } else {
      check(
        "hpa_owned",
        "hard",
        hpa === "none",
        hpa === "none"
          ? "no HorizontalPodAutoscaler owns the replicas"
          : `HorizontalPodAutoscaler ${hpa.name} owns the replicas (${hpa.minReplicas}–${hpa.maxReplicas}): a manual scale would be undone`,
        hpa === "none"
          ? { owner: "none", name: "", min: 0, max: 0 }
          : { owner: "hpa", name: hpa.name, min: hpa.minReplicas, max: hpa.maxReplicas },
      );
    }
  }
  if (action === "RESTART_POD" && rollout?.progressDeadlineExceeded === true) {
    check(
      "rollout_progressing",
      "soft",
      false,
      `the last rollout exceeded its progress deadline (${rollout.progressDeadlineSeconds}s): a restart starts another on the same template`,
      { seconds: rollout.progressDeadlineSeconds },
    );
  }

  check(
    "auto_repair_enabled",
    "soft",
    policy.enabled,
    policy.enabled ? "AUTO_REPAIR_ENABLED" : "AUTO_REPAIR_ENABLED=false",
    { setting: "AUTO_REPAIR_ENABLED" },
  );
  if (input.registryAllows === undefined) {
    check("registry_allows", "soft", false, "the service is not in the registry", {
      registered: false,
      action,
    });
  } else {
    const allowed = input.registryAllows.includes(action);
    check(
      "registry_allows",
      "soft",
      allowed,
      allowed ? `the registry allows ${action}` : `the registry does not allow ${action} for this service`,
      { registered: true, action },
    );
  }
  // An outage the model did not count raises the risk one level.
  const risk = recreate
    ? higherRisk(analysis.risk_level, analysis.risk_level === "LOW" ? "MEDIUM" : "CRITICAL")
    : analysis.risk_level;
  const raised = risk === analysis.risk_level ? "" : ` (raised from ${analysis.risk_level}: Recreate)`;
  const riskOk = RISK_ORDER[risk] <= RISK_ORDER[policy.autoMaxRisk];
  check("risk", "soft", riskOk, `risk ${risk}${raised}${riskOk ? "" : ` above ${policy.autoMaxRisk}`}`, {
    risk,
    declared: analysis.risk_level,
    max: policy.autoMaxRisk,
  });
  const confidenceOk = analysis.confidence >= policy.minConfidence;
  check(
    "confidence",
    "soft",
    confidenceOk,
    `confidence ${analysis.confidence.toFixed(2)} ${confidenceOk ? "≥" : "<"} ${policy.minConfidence}`,
    { confidence: analysis.confidence.toFixed(2), min: policy.minConfidence },
  );
  // The model's own count is a claim; the cluster's replica count is not.
  const declared = analysis.blast_radius.affected_pods;
  const pods =
    REPLACES_EVERY_POD.has(action) && input.workloadReplicas !== undefined
      ? Math.max(declared, input.workloadReplicas)
      : declared;
  check(
    "max_affected_pods",
    "soft",
    pods <= policy.maxAffectedPods,
    `${pods} pod(s) affected, at most ${policy.maxAffectedPods}`,
    { pods, max: policy.maxAffectedPods },
  );
  check(
    "hourly_budget",
    "soft",
    counters.lastHour < policy.maxPerHour,
    `${counters.lastHour}/${policy.maxPerHour} this hour`,
    { used: counters.lastHour, max: policy.maxPerHour },
  );
  check(
    "resource_budget",
    "soft",
    counters.resourceLastHour < policy.maxPerResourcePerHour,
    `${counters.resourceLastHour}/${policy.maxPerResourcePerHour} on ${key} this hour`,
    { used: counters.resourceLastHour, max: policy.maxPerResourcePerHour, resource: key },
  );
  check(
    "cooldown",
    "soft",
    counters.cooldownSeconds <= 0,
    counters.cooldownSeconds <= 0
      ? "no cool-off"
      : `cooling off after a failed repair: ${counters.cooldownSeconds}s left`,
    { seconds: Math.max(0, counters.cooldownSeconds) },
  );

  const hard = verdicts.filter((verdict) => verdict.kind === "hard" && !verdict.ok);
  const soft = verdicts.filter((verdict) => verdict.kind === "soft" && !verdict.ok);
  const downtime = recreate ? { downtime: "every pod stops first (Recreate)" } : {};
  if (hard.length > 0) {
    return {
      mode: "refused",
      summary: `refused: ${hard.map((v) => v.detail).join("; ")}`,
      verdicts,
      resourceKey: key,
      ...downtime,
    };
  }
  if (soft.length > 0) {
    return {
      mode: "approval",
      summary: `needs approval: ${soft.map((v) => v.detail).join("; ")}`,
      verdicts,
      resourceKey: key,
      ...downtime,
    };
  }
  return {
    mode: "auto",
    summary: `auto: confidence ${analysis.confidence.toFixed(2)} ≥ ${policy.minConfidence}, risk ${analysis.risk_level}, ${counters.lastHour + 1}/${policy.maxPerHour} this hour`,
    verdicts,
    resourceKey: key,
  };
}

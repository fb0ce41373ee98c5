// The remediation actions an analysis may propose (the action list, domain/actions.ts), their risk, and the kind of
// resource each one acts on. Anything outside this list is never proposed, whatever a model says.

export const REMEDIATION_ACTIONS = [
  "RESTART_POD",
  "DELETE_POD",
  "SCALE_UP",
  "SCALE_DOWN",
  "ROLLBACK",
  "RESTART_CONTAINER",
  "CLEAR_CACHE",
  "VACUUM_DB",
  "RENEW_CERT",
  "CLEANUP_LOGS",
  "SWITCH_MODEL",
  "FALLBACK_AI",
] as const;

export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** "A human must look": NONE when nothing needs doing, NOTIFY_ONLY when someone must decide. */
export const HUMAN_ACTIONS = ["NONE", "NOTIFY_ONLY"] as const;

export const SUGGESTED_ACTIONS = [...REMEDIATION_ACTIONS, ...HUMAN_ACTIONS] as const;
export type SuggestedAction = (typeof SUGGESTED_ACTIONS)[number];

/** Named by the seed's guardrails (3.3); listed so tests and messages can name them. */
export const BLACKLISTED_ACTIONS = ["DROP_DATABASE", "DELETE_NAMESPACE", "FORCE_DELETE_PVC", "DELETE_SECRET"];

export const RISK_LEVELS = ["LOW", "MEDIUM", "CRITICAL"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const TARGET_KINDS = [
  "Deployment",
  "StatefulSet",
  "Pod",
  "Container",
  "Redis",
  "PostgresTable",
  "Host",
  "Model",
  "Certificate",
  "AiProvider",
  "Service",
  "Alert",
] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Kubernetes kinds: these live in a namespace, which the target must then name. */
export const NAMESPACED_KINDS: ReadonlySet<TargetKind> = new Set(["Deployment", "StatefulSet", "Pod"]);

/** Risk of each action as in the seed's table 3.2; a proposal is never rated below it. */
export const ACTION_RISK: Record<SuggestedAction, RiskLevel> = {
  RESTART_POD: "LOW",
  DELETE_POD: "LOW",
  SCALE_UP: "LOW",
  SCALE_DOWN: "MEDIUM",
  ROLLBACK: "MEDIUM",
  RESTART_CONTAINER: "LOW",
  CLEAR_CACHE: "MEDIUM",
  VACUUM_DB: "MEDIUM",
  RENEW_CERT: "LOW",
  CLEANUP_LOGS: "LOW",
  SWITCH_MODEL: "LOW",
  FALLBACK_AI: "LOW",
  NONE: "LOW",
  NOTIFY_ONLY: "LOW",
};

/** What each action acts on; a proposal whose target is of another kind is rejected. */
export const ACTION_TARGET_KINDS: Record<SuggestedAction, readonly TargetKind[]> = {
  RESTART_POD: ["Deployment", "StatefulSet"],
  DELETE_POD: ["Pod"],
  SCALE_UP: ["Deployment", "StatefulSet"],
  SCALE_DOWN: ["Deployment", "StatefulSet"],
  ROLLBACK: ["Deployment"],
  RESTART_CONTAINER: ["Container"],
  CLEAR_CACHE: ["Redis"],
  VACUUM_DB: ["PostgresTable"],
  RENEW_CERT: ["Certificate"],
  CLEANUP_LOGS: ["Host"],
  SWITCH_MODEL: ["Model"],
  FALLBACK_AI: ["AiProvider"],
  NONE: TARGET_KINDS,
  NOTIFY_ONLY: TARGET_KINDS,
};

const RISK_ORDER: Record<RiskLevel, number> = { LOW: 0, MEDIUM: 1, CRITICAL: 2 };

export function higherRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return RISK_ORDER[a] >= RISK_ORDER[b] ? a : b;
}

export function isSuggestedAction(value: string): value is SuggestedAction {
  return (SUGGESTED_ACTIONS as readonly string[]).includes(value);
}

// Remediation actions as the registry sees them. The list lives with the analysis (ai/actions.ts)
// so that what a model may propose and what a service may allow never drift apart.
import { ACTION_TARGET_KINDS, REMEDIATION_ACTIONS, type TargetKind } from "../domain/actions.js";
import type { WorkloadKind } from "./schema.js";

export { BLACKLISTED_ACTIONS, REMEDIATION_ACTIONS } from "../domain/actions.js";

export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** The kinds of registry entry an action can act on. */
export type ResourceKind = WorkloadKind | "Container" | "Host";

export function isRemediationAction(value: string): value is RemediationAction {
  return (REMEDIATION_ACTIONS as readonly string[]).includes(value);
}

const AS_RESOURCE: Partial<Record<TargetKind, readonly ResourceKind[]>> = {
  Deployment: ["Deployment"],
  StatefulSet: ["StatefulSet"],
  Pod: ["Deployment", "StatefulSet", "DaemonSet"],
  Container: ["Container"],
  Host: ["Host"],
};

/**
 * The registry entries `action` can act on, or undefined when its target is something the
 * registry does not list (a Redis database, a table, a model, a certificate, an AI provider).
 */
export function resourceKinds(action: RemediationAction): ReadonlySet<ResourceKind> | undefined {
  const kinds = ACTION_TARGET_KINDS[action].flatMap((kind) => AS_RESOURCE[kind] ?? []);
  return kinds.length === 0 ? undefined : new Set(kinds);
}

/** False only when the action certainly cannot act on any of `available`. */
export function canActOn(action: RemediationAction, available: ReadonlySet<ResourceKind>): boolean {
  const kinds = resourceKinds(action);
  return kinds === undefined || [...kinds].some((kind) => available.has(kind));
}

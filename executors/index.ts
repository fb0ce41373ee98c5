// Every executor, registered in one place. Two executors claiming one action name is a
// programming error caught at start-up. An action with no executor here cannot run at all.
import type { RemediationAction } from "../ai/actions.js";
import type { Analysis } from "../ai/analysis.js";
import type { Executor } from "./executor.js";
import { KUBERNETES_EXECUTORS } from "./kubernetes.js";
import { restartContainer } from "./restart-container.js";

// Each executor has its own params and deps; the registry only needs their common shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExecutor = Executor<any, any>;

export function registerExecutors(
  executors: readonly AnyExecutor[],
): ReadonlyMap<RemediationAction, AnyExecutor> {
  const byName = new Map<RemediationAction, AnyExecutor>();
  for (const executor of executors) {
    if (byName.has(executor.name)) throw new Error(`two executors claim ${executor.name}`);
    byName.set(executor.name, executor);
  }
  return byName;
}

/** The executors built so far (CLEAR_CACHE, VACUUM_DB, RENEW_CERT, CLEANUP_LOGS, SWITCH_MODEL and FALLBACK_AI are not yet). */
export const EXECUTORS = registerExecutors([restartContainer, ...KUBERNETES_EXECUTORS]);

/** The typed params of each action, from the analysis' target; never from free text. */
const PARAMS_FROM_TARGET: Partial<
  Record<RemediationAction, (target: Analysis["target"]) => Record<string, unknown>>
> = {
  RESTART_CONTAINER: (target) => ({ container: target.name }),
  RESTART_POD: (target) => ({ namespace: target.namespace, deployment: target.name }),
  DELETE_POD: (target) => ({ namespace: target.namespace, pod: target.name }),
  SCALE_UP: (target) => ({ namespace: target.namespace, deployment: target.name }),
  SCALE_DOWN: (target) => ({ namespace: target.namespace, deployment: target.name }),
  ROLLBACK: (target) => ({ namespace: target.namespace, deployment: target.name }),
};

/** What could run for this analysis, or undefined when no executor exists for it yet. */
export function proposalFor(
  analysis: Analysis,
  executors: ReadonlyMap<RemediationAction, AnyExecutor> = EXECUTORS,
): { action: RemediationAction; params: Record<string, unknown> } | undefined {
  const action = analysis.suggested_action as RemediationAction;
  const executor = executors.get(action);
  const toParams = PARAMS_FROM_TARGET[action];
  if (executor === undefined || toParams === undefined) return undefined;
  const params = executor.params.safeParse(toParams(analysis.target));
  return params.success ? { action, params: params.data as Record<string, unknown> } : undefined;
}

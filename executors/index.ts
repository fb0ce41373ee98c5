// Every executor, registered in one place. Two executors claiming one action name is a
// programming error caught at start-up. An action with no executor here cannot run at all.
import type { RemediationAction } from "../domain/actions.js";
import type { Analysis } from "../domain/analysis.js";
import { cleanupLogs } from "./cleanup-logs.js";
import { clearCache } from "./clear-cache.js";
import type { Executor } from "./executor.js";
import { fallbackAi } from "./fallback-ai.js";
import { KUBERNETES_EXECUTORS } from "./kubernetes.js";
import { renewCert } from "./renew-cert.js";
import { restartContainer } from "./restart-container.js";
import { switchModel } from "./switch-model.js";
import { vacuumDb } from "./vacuum-db.js";

/**
 * What the list knows of an executor without its clients: its name, help text and params schema
 * (enough to turn an analysis into a proposal). To run one, bind it (executor.ts `bindExecutor`).
 */
export type ExecutorInfo = Pick<Executor<unknown, never>, "name" | "description" | "params">;

export function registerExecutors(
  executors: readonly ExecutorInfo[],
): ReadonlyMap<RemediationAction, ExecutorInfo> {
  const byName = new Map<RemediationAction, ExecutorInfo>();
  for (const executor of executors) {
    if (byName.has(executor.name)) throw new Error(`two executors claim ${executor.name}`);
    byName.set(executor.name, executor);
  }
  return byName;
}

/**
 * One executor for every action of the action list (domain/actions.ts). The blacklisted ones (DROP_DATABASE, …) are not
 * `RemediationAction`s, so no executor can claim them and no params can be built for them.
 */
export const EXECUTORS = registerExecutors([
  restartContainer,
  ...KUBERNETES_EXECUTORS,
  clearCache,
  vacuumDb,
  renewCert,
  cleanupLogs,
  switchModel,
  fallbackAi,
]);

/**
 * The typed params of each action, from the analysis' target; never from free text. The names
 * only pick a configured target (executors/targets.ts); guards refuse any other.
 */
const PARAMS_FROM_TARGET: Partial<
  Record<RemediationAction, (target: Analysis["target"]) => Record<string, unknown> | undefined>
> = {
  RESTART_CONTAINER: (target) => ({ container: target.name }),
  // The Kubernetes executors act on Deployments only: a StatefulSet's name is no Deployment's
  RESTART_POD: (target) => deploymentParams(target),
  DELETE_POD: (target) => ({ namespace: target.namespace, pod: target.name }),
  SCALE_UP: (target) => deploymentParams(target),
  SCALE_DOWN: (target) => deploymentParams(target),
  ROLLBACK: (target) => deploymentParams(target),
  // Redis: a `clear_cache` name or alias (alerts say `redis-sessions` or `10.0.0.5:6379`)
  CLEAR_CACHE: (target) => ({ target: target.name }),
  // PostgresTable: `schema.table` or `table`; the database is the one listing it
  VACUUM_DB: (target) => ({ table: target.name }),
  // Certificate: a `renew_cert` name or alias (often the domain)
  RENEW_CERT: (target) => ({ certificate: target.name }),
  // Host: the node the disk alert is about; the directories are the configured ones
  CLEANUP_LOGS: (target) => ({ host: target.name }),
  // Model: the model the slow-inference alert names
  SWITCH_MODEL: (target) => ({ model: target.name }),
  // AiProvider: ollama, gemini or claude
  FALLBACK_AI: (target) => ({ provider: target.name }),
};

function deploymentParams(target: Analysis["target"]): Record<string, unknown> | undefined {
  return target.kind === "Deployment" ? { namespace: target.namespace, deployment: target.name } : undefined;
}

/** What could run for this analysis, or undefined when no executor exists for it yet. */
export function proposalFor(
  analysis: Analysis,
  executors: ReadonlyMap<RemediationAction, ExecutorInfo> = EXECUTORS,
): { action: RemediationAction; params: Record<string, unknown> } | undefined {
  const action = analysis.suggested_action as RemediationAction;
  const executor = executors.get(action);
  const toParams = PARAMS_FROM_TARGET[action];
  const raw = toParams?.(analysis.target);
  if (executor === undefined || raw === undefined) return undefined;
  const params = executor.params.safeParse(raw);
  return params.success ? { action, params: params.data as Record<string, unknown> } : undefined;
}

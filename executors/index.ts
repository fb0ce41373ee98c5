// Every executor, registered in one place. Two executors claiming one action name is a
// programming error caught at start-up. An action with no executor here cannot run at all.
import type { RemediationAction } from "../ai/actions.js";
import type { Executor } from "./executor.js";
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

/** The executors built so far (issue 5 adds the Kubernetes, Redis, PostgreSQL and file ones). */
export const EXECUTORS = registerExecutors([restartContainer]);

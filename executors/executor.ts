// The shape of every remediation executor (one file per action; the list is in executors/index.ts).
// An executor is handed typed params, never a string from a model: a string is not a command.
import type { z } from "zod";
import type { RemediationAction } from "../domain/actions.js";

/** One call an executor makes (or, in dry run, would make) to an outside API. */
export interface PlannedCall {
  /** "kubernetes", "docker", "redis", "postgres", "filesystem", "process", "chain" */
  api: string;
  /** e.g. "AppsV1Api.patchNamespacedDeployment", "Container.restart" */
  method: string;
  args: Record<string, unknown>;
}

export type GuardVerdict = { ok: true } | { ok: false; rule: string; reason: string };

export interface ExecutionResult {
  /** False in dry run, or when there was nothing to change. */
  changed: boolean;
  calls: PlannedCall[];
  /** What verify needs to compare against (e.g. the container's previous start time). */
  before: Record<string, unknown>;
  detail?: Record<string, unknown>;
}

export type VerifyResult =
  | { outcome: "recovered"; detail: string }
  | { outcome: "pending"; detail: string }
  | { outcome: "failed"; detail: string };

export interface ExecutionContext {
  dryRun: boolean;
  signal?: AbortSignal;
}

export interface Executor<Params, Deps> {
  name: RemediationAction;
  /** One line for people (help text, cards). */
  description: string;
  params: z.ZodType<Params>;
  /** Preflight against the live system (e.g. the deployment exists and keeps a healthy replica). */
  guard(deps: Deps, params: Params): Promise<GuardVerdict>;
  /** Exactly the calls execute would make, for dry run and the audit log. */
  plan(params: Params): PlannedCall[];
  execute(deps: Deps, params: Params, context: ExecutionContext): Promise<ExecutionResult>;
  /** Has the target recovered since `result`? Called until recovered or a deadline passes. */
  verify(deps: Deps, params: Params, result: ExecutionResult): Promise<VerifyResult>;
}

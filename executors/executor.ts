// The shape of every remediation executor (one file per action; the list is in executors/index.ts).
// An executor is handed typed params, never a string from a model: a string is not a command.
// What it says for people (a guard's refusal, what a verification saw, a failure in its own words)
// comes from the message catalogue through `refusal`, `verdict` and `ExecutionFailure`, kept as
// data beside the English, so each chat reads it in its language.
import type { z } from "zod";
import type { RemediationAction } from "../domain/actions.js";
import {
  messagesFor,
  type ExecuteSaying,
  type GuardSaying,
  type VerifySaying,
} from "../domain/i18n/index.js";

/** The words the audit log keeps, whatever the chat's language. */
const english = messagesFor("en");

/** One call an executor makes (or, in dry run, would make) to an outside API. */
export interface PlannedCall {
  /** "kubernetes", "docker", "redis", "postgres", "filesystem", "process", "chain" */
  api: string;
  /** e.g. "AppsV1Api.patchNamespacedDeployment", "Container.restart" */
  method: string;
  args: Record<string, unknown>;
}

/**
 * A refusal keeps its reason twice: `reason` in English (the audit log, the escalation) and `said`,
 * the same words as data, which the card says in BOT_LANGUAGE. Both come from the catalogue
 * through `refusal`, so an executor writes no sentence of its own and the two cannot drift.
 */
export type GuardVerdict = { ok: true } | { ok: false; rule: string; reason: string; said: GuardSaying };

/** The guard's refusal under `rule`, in the catalogue's words (domain/i18n `guardReason`). */
export function refusal(rule: string, said: GuardSaying): GuardVerdict & { ok: false } {
  // the code names its arguments (GuardSaying); the catalogue's text for it takes exactly those
  const text = english.guardReason[said.code] as (args: object) => string;
  return { ok: false, rule, reason: text(said), said };
}

/**
 * An execute that failed for a reason the executor words itself (a command that exited non-zero):
 * the message in English, `said` for the card in BOT_LANGUAGE. Any other error's message is quoted.
 */
export class ExecutionFailure extends Error {
  override readonly name = "ExecutionFailure";

  constructor(readonly said: ExecuteSaying) {
    super((english.executeError[said.code] as (args: object) => string)(said));
  }

  /** The guard, asked again as execute begins, refused what it allowed before: said in its words. */
  static rechecked(action: string, refused: GuardVerdict & { ok: false }): ExecutionFailure {
    return new ExecutionFailure({ code: "rechecked", action, reason: refused.reason, guard: refused.said });
  }
}

export interface ExecutionResult {
  /** False in dry run, or when there was nothing to change. */
  changed: boolean;
  calls: PlannedCall[];
  /** What verify needs to compare against (e.g. the container's previous start time). */
  before: Record<string, unknown>;
  detail?: Record<string, unknown>;
  /**
   * The target declined the change for now, by its own rule (a PodDisruptionBudget of
   * `deployment`; `detail` in the API server's words): nothing changed and nothing failed. The
   * action ends saying so, once: no retry, no escalation.
   */
  notNow?: { deployment: string; detail: string };
}

/** What a verification saw: `detail` in English and `said` as data, like a GuardVerdict's reason. */
export interface VerifyResult {
  outcome: "recovered" | "pending" | "failed";
  detail: string;
  said: VerifySaying;
}

/** A verification's verdict in the catalogue's words (domain/i18n `verifyDetail`). */
export function verdict(outcome: VerifyResult["outcome"], said: VerifySaying): VerifyResult {
  const text = english.verifyDetail[said.code] as (args: object) => string;
  return { outcome, detail: text(said), said };
}

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

/** One action ready to run: an executor with its outside clients and its params, both checked. */
export interface PreparedAction {
  guard(): Promise<GuardVerdict>;
  plan(): PlannedCall[];
  execute(context: ExecutionContext): Promise<ExecutionResult>;
  verify(result: ExecutionResult): Promise<VerifyResult>;
}

/**
 * An executor with its outside clients bound (`bindExecutor`): what the execute use case runs.
 * Params arrive as stored (JSON); the executor's own schema checks them before anything runs.
 */
export interface BoundExecutor {
  readonly name: RemediationAction;
  readonly description: string;
  prepare(params: unknown): { ok: true; action: PreparedAction } | { ok: false; problem: string };
}

/** Binds `executor` to its clients; the types make sure they are the ones it needs. */
export function bindExecutor<Params, Deps>(executor: Executor<Params, Deps>, deps: Deps): BoundExecutor {
  return {
    name: executor.name,
    description: executor.description,
    prepare(raw) {
      const parsed = executor.params.safeParse(raw);
      if (!parsed.success) return { ok: false, problem: parsed.error.message };
      const params = parsed.data;
      return {
        ok: true,
        action: {
          guard: () => executor.guard(deps, params),
          plan: () => executor.plan(params),
          execute: (context) => executor.execute(deps, params, context),
          verify: (result) => executor.verify(deps, params, result),
        },
      };
    },
  };
}

/** The bound executors by action; two claiming one action is a wiring bug, caught at start-up. */
export function bindExecutors(
  bound: readonly BoundExecutor[],
): ReadonlyMap<RemediationAction, BoundExecutor> {
  const byName = new Map<RemediationAction, BoundExecutor>();
  for (const executor of bound) {
    if (byName.has(executor.name)) throw new Error(`two executors claim ${executor.name}`);
    byName.set(executor.name, executor);
  }
  return byName;
}

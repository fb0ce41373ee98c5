// Use cases: run an approved action through its executor (guard, then execute or dry run, within
// a deadline), and verify recovery afterwards: the executor's own check, the incident's alert
// resolving, and an HTTP probe where the registry defines one. Success resolves the incident and
// teaches the playbook; failure fails and escalates it, starts a cool-off, teaches the playbook,
// and (when enabled) rolls a rollout that never completed back. A string from a model never
// gets here: params were validated by the executor's schema when the action was proposed, and
// again now.
import { audit, getAction, transitionAction, type PendingAction } from "../db/actions.js";
import { addEvent, getIncident, markResolved, setIncidentStatus } from "../db/incidents.js";
import { writeTogether, type Queryable } from "../db/pool.js";
import { type Incident } from "../domain/incident.js";
import { learnFromOutcome } from "../db/playbooks.js";
import {
  type ExecutionResult,
  type VerifyResult,
  type BoundExecutor,
  ExecutionFailure,
  verdict,
} from "../executors/executor.js";
import type { RemediationAction } from "../domain/actions.js";
import { withDeadline } from "../domain/deadline.js";
import type { ProbeResult } from "../gateways/http-probe.js";
import { getAnalysis } from "../db/analyses.js";
import { resourceKey } from "../domain/decide.js";
import type { RepairCountersStore } from "../kv/repair-counters.js";
import { KubeError } from "../gateways/kube-errors.js";
import {
  englishOf,
  messagesFor,
  type ExecuteSaying,
  type GuardSaying,
  type Messages,
  type RefusalSaying,
  type VerifySaying,
} from "../domain/i18n/index.js";

export interface ExecuteDeps {
  db: Queryable;
  /** The executors whose outside clients (Docker, Kubernetes, …) are configured here, bound to them. */
  executors: ReadonlyMap<RemediationAction, BoundExecutor>;
  dryRun: boolean;
  /** After a failed repair, no automatic repair of the resource for a while. */
  startCooldown: (action: PendingAction) => Promise<void>;
  /** Guard plus execute longer than this is aborted (through the executor's signal) and fails. */
  executionTimeoutMs: number;
  /** Asks a human after a repair failed (the escalate queue). */
  escalate: (incidentId: string, detail: string) => Promise<unknown>;
  /** The HTTP probe of the incident's service; undefined when the registry defines none. */
  probe?: (incident: Incident) => Promise<ProbeResult | undefined>;
  /** AUTO_REPAIR_AUTO_ROLLBACK: undo a rollout that did not complete before the verify deadline. */
  autoRollback: boolean;
  /** Why an action has no executor here ("KUBECONFIG is not set"), for the refusal's wording. */
  cannotRun?: (action: string) => string | undefined;
}

export type ExecuteOutcome = "verifying" | "failed" | "dry_run" | "skipped";

/**
 * Actions that start a new Deployment revision; one whose rollout never completes may be undone.
 * A scale changes no template: undoing after it would roll the previous release back instead.
 */
const ROLLOUT_ACTIONS: ReadonlySet<string> = new Set(["RESTART_POD"]);

class ExecutionTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`}`);
  }
}

/**
 * The bot's own words for why an action failed, kept beside the English `error` so the card's
 * history can say them in BOT_LANGUAGE (domain/i18n `failure`); an executor's or the cluster's own
 * message inside them (`problem`, `error`) is quoted as it came. Where the words inside are an
 * executor's guard or verification (`reason`, `waiting`, `detail`), they are kept as data too,
 * in `said` (domain/i18n `failureText`): the English argument stays for the audit log and for cards of
 * events recorded before `said` was kept.
 */
export type FailureReason =
  | { code: "timeout"; ms: number }
  | { code: "execution_failed"; error: string; said?: ExecuteSaying }
  | { code: "params_refused"; problem: string }
  | { code: "guard"; rule: string; reason: string; said: GuardSaying }
  | { code: "no_verifier" }
  | { code: "verify_params_refused"; problem: string }
  | { code: "verify_failed"; detail: string; said: VerifySaying }
  | { code: "not_recovered"; waiting: string; said: VerifySaying }
  | { code: "abandoned" }
  /** `missing`: `why` is the catalogue's cannotRun text of that key (said in the chat's language). */
  | { code: "cannot_run"; action: string; why: string; missing?: keyof Messages["cannotRun"] }
  | { code: "rollback_impossible" }
  | { code: "rollback_refused"; problem: string }
  | { code: "rollback_guard"; rule: string; reason: string; said: GuardSaying }
  | { code: "rollback_failed"; error: string }
  | RefusalReason;

/** The failure in the audit log's words (English, whatever the chat's language). */
function failureWords(reason: FailureReason): string {
  const words = messagesFor("en").failure;
  if (!Object.hasOwn(words, reason.code)) return refusalWords(reason as RefusalReason);
  // the code names its arguments (FailureReason); the catalogue's text for it takes exactly those
  return (words[reason.code as keyof typeof words] as (args: object) => string)(reason);
}

/**
 * Why the target said no, kept beside the English `error` like FailureReason (the catalogue's
 * `refusal`): the API server's 403, with the verb and resource when it named them ("" namespace at
 * the cluster scope), or a PodDisruptionBudget. `verifying`: the refusal came while checking recovery.
 */
export type RefusalReason = RefusalSaying;

/** The refusal in the audit log's words (English, whatever the chat's language). */
const refusalWords = (reason: RefusalReason): string => englishOf("refusal", reason);

interface FailOptions {
  /** The executor ran (or tried to): the playbook learns the failure. */
  learn: boolean;
  /** Runs once the action is failed (exactly once); what it did joins the escalation. */
  after?: () => Promise<Afterwards>;
}

/**
 * What ran after the failure (an automatic rollback): its line in English for the audit log and
 * the escalation's detail, and as data (`then`, beside the failure's `reason` on the timeline) for
 * the escalation message to say in BOT_LANGUAGE (domain/i18n `escalation`).
 */
interface Afterwards {
  line: string;
  then: { code: "rolled_back"; revision: string } | FailureReason;
}

/** Fails the action for `reason`: the card says it in BOT_LANGUAGE, the rest in its English words. */
async function fail(
  deps: ExecuteDeps,
  action: PendingAction,
  reason: FailureReason,
  options: FailOptions = { learn: false },
): Promise<"failed" | "skipped"> {
  const why = failureWords(reason);
  // One UPDATE: of two verify jobs reaching the deadline, one fails the action and escalates.
  const failed = await transitionAction(deps.db, { id: action.id }, ["executing", "verifying"], "failed", {
    result: { ...(action.result ?? {}), error: why },
  });
  if (failed === undefined) return "skipped";
  // the rollback runs between the claim above and the records below, which a card sync (one
  // snapshot) sees all together or not at all: never FAILED without what failed and what followed
  const afterwards = await options.after?.();
  await writeTogether(deps.db, async (db) => {
    await setIncidentStatus(
      db,
      action.incidentId,
      ["open", "analyzing", "awaiting_approval", "executing", "verifying"],
      "failed",
    );
    await addEvent(
      db,
      action.incidentId,
      "execution_failed",
      {
        action: action.action,
        error: why,
        reason,
        ...(afterwards === undefined ? {} : { then: afterwards.then }),
      },
      "system",
    );
    await audit(db, {
      incidentId: action.incidentId,
      actor: "system",
      what: action.action,
      outcome: "failed",
      detail: {
        actionId: action.id,
        error: why,
        ...(afterwards === undefined ? {} : { then: afterwards.line }),
      },
    });
    if (options.learn) {
      await learnFromOutcome(db, {
        incidentId: action.incidentId,
        action: action.action,
        outcome: "failure",
        actionId: action.id,
        params: action.params,
        detail: why,
      });
    }
  });
  // after the records: a cool-off that cannot start (Redis, say) must not leave the incident
  // unfailed, since a retry of this job meets the action already failed and stops there
  await deps.startCooldown(action);
  const detail = messagesFor("en").escalation.failed({
    action: action.action,
    error: why,
    then: afterwards?.line ?? "",
  });
  await deps.escalate(action.incidentId, detail.slice(0, 1024));
  return "failed";
}

/**
 * An action this installation has no executor for (a setting is missing): nothing ran, so it is
 * not a failed repair: no escalation, no cool-off, no lesson for the playbooks. The incident goes
 * back to waiting for a person, and the card and the audit log say why.
 */
async function cannotRunHere(
  deps: ExecuteDeps,
  action: PendingAction,
  why: string,
  reason: FailureReason,
): Promise<"failed" | "skipped"> {
  const refused = await transitionAction(deps.db, { id: action.id }, ["executing"], "failed", {
    result: { ...(action.result ?? {}), error: why, configuration: true },
  });
  if (refused === undefined) return "skipped";
  await setIncidentStatus(deps.db, action.incidentId, ["executing", "awaiting_approval"], "open");
  await addEvent(
    deps.db,
    action.incidentId,
    "execution_failed",
    { action: action.action, error: why, reason },
    "system",
  );
  await audit(deps.db, {
    incidentId: action.incidentId,
    actor: "system",
    what: action.action,
    outcome: "cannot_run",
    detail: { actionId: action.id, error: why },
  });
  return "failed";
}

/**
 * The target refused: the cluster's RBAC forbids the call (a 403 naming verb and resource), or a
 * PodDisruptionBudget allows no disruption now. Nothing changed, so it is not a failed repair:
 * no escalation, no lesson for the playbooks, and the job is not retried (a retry would meet the
 * same refusal). A budget starts the resource's cool-off, so automatic repair does not knock
 * again and again; the incident goes back to waiting for a person, and the card and the audit
 * log say why.
 */
async function refusedByTarget(
  deps: ExecuteDeps,
  action: PendingAction,
  refusal: { kind: "forbidden" | "not_now"; reason: RefusalReason; detail?: Record<string, unknown> },
): Promise<"failed" | "skipped"> {
  const why = refusalWords(refusal.reason);
  const ended = await transitionAction(deps.db, { id: action.id }, ["executing"], "failed", {
    result: { ...(action.result ?? {}), error: why, [refusal.kind]: true },
  });
  if (ended === undefined) return "skipped";
  await setIncidentStatus(deps.db, action.incidentId, ["executing", "awaiting_approval"], "open");
  await addEvent(
    deps.db,
    action.incidentId,
    "execution_refused",
    { action: action.action, error: why, refusal: refusal.kind, reason: refusal.reason },
    "system",
  );
  await audit(deps.db, {
    incidentId: action.incidentId,
    actor: "system",
    what: action.action,
    outcome: refusal.kind,
    detail: { actionId: action.id, error: why, ...(refusal.detail ?? {}) },
  });
  if (refusal.kind === "not_now") await deps.startCooldown(action);
  return "failed";
}

/** A 403 from the API server, naming the verb and the resource when its message does. */
function forbiddenRefusal(action: string, error: unknown, verifying = false) {
  if (!(error instanceof KubeError) || error.code !== "forbidden") return undefined;
  const named = error.forbidden;
  const reason: RefusalReason =
    named === undefined
      ? { code: "forbidden_unnamed", action, verifying, message: error.message }
      : { code: "forbidden", action, verifying, ...named, namespace: named.namespace ?? "" };
  return {
    kind: "forbidden" as const,
    reason,
    detail: named === undefined ? {} : { forbidden: { ...named } },
  };
}

export async function executeAction(deps: ExecuteDeps, actionId: number): Promise<ExecuteOutcome> {
  // One execution per approved action: only the worker that moves it to "executing" runs it.
  const action = await transitionAction(deps.db, { id: actionId }, ["approved"], "executing");
  if (action === undefined) return "skipped";
  const executor = deps.executors.get(action.action as RemediationAction);
  const failed = async (reason: FailureReason, learn = false) => {
    const outcome = await fail(deps, action, reason, { learn });
    return outcome === "failed" ? "failed" : "skipped";
  };
  if (executor === undefined) {
    const why = deps.cannotRun?.(action.action);
    // nobody said why: the catalogue's own words, kept by key so the card says them in BOT_LANGUAGE
    const reason: FailureReason =
      why === undefined
        ? {
            code: "cannot_run",
            action: action.action,
            why: messagesFor("en").cannotRun.noExecutor,
            missing: "noExecutor",
          }
        : { code: "cannot_run", action: action.action, why };
    return cannotRunHere(deps, action, failureWords(reason), reason);
  }
  const prepared = executor.prepare(action.params);
  if (!prepared.ok) {
    return failed({ code: "params_refused", problem: prepared.problem });
  }
  const run = prepared.action;
  await setIncidentStatus(
    deps.db,
    action.incidentId,
    ["open", "analyzing", "awaiting_approval"],
    "executing",
  );

  let result: ExecutionResult;
  try {
    const ran = await withDeadline(
      deps.executionTimeoutMs,
      async (signal) => {
        const guard = await run.guard();
        if (!guard.ok) return { refused: guard };
        return { result: await run.execute({ dryRun: deps.dryRun, signal }) };
      },
      () => new ExecutionTimeout(deps.executionTimeoutMs),
    );
    if ("refused" in ran) {
      const { rule, reason, said } = ran.refused;
      return failed({ code: "guard", rule, reason, said });
    }
    result = ran.result;
  } catch (error) {
    if (error instanceof ExecutionTimeout) {
      return failed({ code: "timeout", ms: error.ms }, true);
    }
    const forbidden = forbiddenRefusal(action.action, error);
    if (forbidden !== undefined) return refusedByTarget(deps, action, forbidden);
    const message = (error as Error).message;
    // the executor's own words (ExecutionFailure) are kept as data too; anyone else's are quoted
    const said = error instanceof ExecutionFailure ? { said: error.said } : {};
    return failed({ code: "execution_failed", error: message, ...said }, true);
  }
  if (result.notNow !== undefined) {
    return refusedByTarget(deps, action, {
      kind: "not_now",
      reason: { code: "disruption_budget", action: action.action, ...result.notNow },
      detail: { calls: result.calls },
    });
  }
  await audit(deps.db, {
    incidentId: action.incidentId,
    actor: "system",
    what: action.action,
    outcome: deps.dryRun ? "dry_run" : "executed",
    detail: { actionId: action.id, params: action.params, calls: result.calls },
  });
  if (deps.dryRun) {
    await transitionAction(deps.db, { id: action.id }, ["executing"], "succeeded", {
      result: { dryRun: true, calls: result.calls },
    });
    // nothing changed: the incident is as open as it was
    await setIncidentStatus(deps.db, action.incidentId, ["executing"], "open");
    await addEvent(deps.db, action.incidentId, "dry_run", { action: action.action, calls: result.calls });
    return "dry_run";
  }
  await transitionAction(deps.db, { id: action.id }, ["executing"], "verifying", { result: { ...result } });
  await setIncidentStatus(deps.db, action.incidentId, ["executing"], "verifying");
  await addEvent(deps.db, action.incidentId, "executed", { action: action.action, calls: result.calls });
  return "verifying";
}

/**
 * An execution whose worker vanished (killed mid-call, lock lost): the action may have changed
 * something, so it is never run again by itself; it fails and escalates, and a person decides.
 */
export async function abandonExecution(deps: ExecuteDeps, actionId: number): Promise<"failed" | "skipped"> {
  const action = await getAction(deps.db, actionId);
  if (action?.status !== "executing") return "skipped";
  return fail(deps, action, { code: "abandoned" });
}

export type VerifyOutcome = "recovered" | "pending" | "failed" | "skipped";

/** One look at the target; "pending" asks the caller to look again until its deadline. */
export async function verifyAction(
  deps: ExecuteDeps,
  actionId: number,
  deadlinePassed: boolean,
): Promise<VerifyOutcome> {
  const action = await getAction(deps.db, actionId);
  if (action?.status !== "verifying" || action.result === null) return "skipped";
  const prepared = deps.executors.get(action.action as RemediationAction)?.prepare(action.params);
  if (prepared === undefined) return fail(deps, action, { code: "no_verifier" });
  if (!prepared.ok) return fail(deps, action, { code: "verify_params_refused", problem: prepared.problem });
  let seen: VerifyResult;
  try {
    seen = await prepared.action.verify(action.result as unknown as ExecutionResult);
  } catch (error) {
    const forbidden = forbiddenRefusal(action.action, error, true);
    // a 403 will not pass by itself; any other flaky read is not a verdict, the deadline decides
    if (forbidden !== undefined) return fail(deps, action, forbidden.reason);
    seen = verdict("pending", { code: "target_unreadable", error: (error as Error).message });
  }
  if (seen.outcome === "failed") {
    // a rollout the Deployment itself gave up on (progress deadline) is undone like one that ran out of time
    const rollout = ROLLOUT_ACTIONS.has(action.action) && deps.autoRollback;
    return fail(
      deps,
      action,
      { code: "verify_failed", detail: seen.detail, said: seen.said },
      { learn: true, ...(rollout ? { after: () => rollBack(deps, action) } : {}) },
    );
  }

  const incident = await getIncident(deps.db, action.incidentId);
  const alertResolved = incident?.status === "resolved";
  const evidence: Evidence[] = [];
  if (seen.outcome === "recovered") evidence.push(seen);
  if (alertResolved) evidence.push(verdict("recovered", { code: "alert_resolved" }));
  let waitingFor: Evidence | undefined = seen.outcome === "pending" && !alertResolved ? seen : undefined;
  if (evidence.length > 0 && incident !== undefined && deps.probe !== undefined) {
    const probe = await deps.probe(incident);
    if (probe?.ok === true) evidence.push(probe);
    else if (probe !== undefined) waitingFor = probe;
  }

  if (waitingFor === undefined) return recovered(deps, action, evidence, alertResolved);
  if (!deadlinePassed) return "pending";
  const rolloutIncomplete = seen.outcome === "pending" && ROLLOUT_ACTIONS.has(action.action);
  return fail(
    deps,
    action,
    { code: "not_recovered", waiting: waitingFor.detail, said: waitingFor.said },
    {
      learn: true,
      ...(deps.autoRollback && rolloutIncomplete ? { after: () => rollBack(deps, action) } : {}),
    },
  );
}

/** One piece of what a verification saw (the executor's check, the alert, the probe), in both forms. */
type Evidence = Pick<VerifyResult, "detail" | "said">;

async function recovered(
  deps: ExecuteDeps,
  action: PendingAction,
  evidence: readonly Evidence[],
  alreadyResolved: boolean,
): Promise<VerifyOutcome> {
  const detail = evidence.map((piece) => piece.detail).join("; ");
  // `said`: the card says the evidence in BOT_LANGUAGE; `detail` is its English, as audited
  const said = evidence.map((piece) => piece.said);
  // One transaction: a card drawn in between (another change's sync) showed the incident resolved
  // without the evidence until the next edit, and a person reading it then saw no verification.
  return writeTogether(deps.db, async (db) => {
    const done = await transitionAction(db, { id: action.id }, ["verifying"], "succeeded");
    if (done === undefined) return "skipped";
    if (!alreadyResolved) await markResolved(db, action.incidentId, new Date());
    await addEvent(db, action.incidentId, "verified", { action: action.action, detail, said });
    await audit(db, {
      incidentId: action.incidentId,
      actor: "system",
      what: `verify ${action.action}`,
      outcome: "recovered",
      detail: { actionId: action.id, detail },
    });
    await learnFromOutcome(db, {
      incidentId: action.incidentId,
      action: action.action,
      outcome: "success",
      actionId: action.id,
      params: action.params,
      detail,
    });
    return "recovered";
  });
}

/** `rollout undo` of the deployment a failed rollout left half-done; audited and on the timeline. */
async function rollBack(deps: ExecuteDeps, action: PendingAction): Promise<Afterwards> {
  const executor = deps.executors.get("ROLLBACK");
  const target = { namespace: action.params.namespace, deployment: action.params.deployment };
  const record = async (ok: boolean, detail: Record<string, unknown>, then: Afterwards["then"]) => {
    const line =
      then.code === "rolled_back" ? messagesFor("en").escalation.rolledBack(then) : failureWords(then);
    const reason = then.code === "rolled_back" ? undefined : then;
    await addEvent(
      deps.db,
      action.incidentId,
      ok ? "rolled_back" : "rollback_failed",
      { ...target, ...detail, ...(ok ? {} : { error: line }), ...(reason === undefined ? {} : { reason }) },
      "system",
    );
    await audit(deps.db, {
      incidentId: action.incidentId,
      actor: "system",
      what: "ROLLBACK (automatic, after a failed rollout)",
      outcome: ok ? "executed" : "failed",
      detail: { actionId: action.id, params: target, ...detail },
    });
    return { line, then };
  };
  if (executor === undefined) return record(false, {}, { code: "rollback_impossible" });
  const prepared = executor.prepare(target);
  if (!prepared.ok) return record(false, {}, { code: "rollback_refused", problem: prepared.problem });
  const run = prepared.action;
  try {
    return await withDeadline(
      deps.executionTimeoutMs,
      async (signal) => {
        const guard = await run.guard();
        if (!guard.ok) {
          return record(
            false,
            {},
            {
              code: "rollback_guard",
              rule: guard.rule,
              reason: guard.reason,
              said: guard.said,
            },
          );
        }
        const result = await run.execute({ dryRun: deps.dryRun, signal });
        const to = result.detail?.toRevision;
        return record(
          true,
          { calls: result.calls, ...(result.detail ?? {}) },
          { code: "rolled_back", revision: typeof to === "number" ? String(to) : "" },
        );
      },
      () => new ExecutionTimeout(deps.executionTimeoutMs),
    );
  } catch (error) {
    const message = (error as Error).message;
    return record(false, {}, { code: "rollback_failed", error: message });
  }
}

/**
 * `startCooldown` as the guardrails count it: on the resource the analysis named (a pod's
 * deployment), for `seconds`. A proposal with no analysis behind it (a person's request) starts none.
 */
export function cooldownOnFailure(
  db: Queryable,
  counters: Pick<RepairCountersStore, "startCooldown">,
  seconds: number,
): ExecuteDeps["startCooldown"] {
  return async (action) => {
    const stored = await getAnalysis(db, action.analysisId);
    if (stored !== undefined) await counters.startCooldown(resourceKey(stored.analysis), seconds);
  };
}

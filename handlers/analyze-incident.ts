// Use case: analyse one incident (LLM chain, else the offline analyzer, both seeing the learned
// playbooks), store the analysis with its tokens and cost, and move the incident on: an action the
// guardrails allow runs by itself once a slot of the shared budget is reserved; any other
// remediation waits for a human.
import type { Analysis } from "../domain/analysis.js";
import type { Attempt } from "../domain/llm.js";
import { ZodError } from "zod";
import { messagesFor, type AnalysisSaying, type Language } from "../domain/i18n/index.js";
import type { AnalysisChain } from "../ai/chain.js";
import { buildAnalysisContext, type ContextDeps } from "../ai/context.js";
import { type SentryIssueDetails } from "../domain/analysis-context.js";
import { deploymentOfPod } from "../domain/scope.js";
import { insertAnalysis, similarIncidents, type StoredAnalysis, analysisOfJob } from "../db/analyses.js";
import { addEvent, getIncident, setIncidentStatus, lockIncident } from "../db/incidents.js";
import { type Incident } from "../domain/incident.js";
import { inTransaction, type Pool } from "../db/pool.js";
import { audit, insertApprovedAction, proposeAction } from "../db/actions.js";
import { incidentSignatures, playbooksFor } from "../db/playbooks.js";
import {
  decide,
  resourceKey,
  type Decision,
  type GuardrailPolicy,
  type RolloutFacts,
  type RuleParams,
} from "../domain/decide.js";
import { proposalFor } from "../executors/index.js";
import type { RepairCountersStore, Reservation } from "../kv/repair-counters.js";
import type { RemediationAction } from "../domain/actions.js";
import { analyzeOffline } from "../ai/offline-analyzer.js";

/** Who approves what the guardrails let run by itself (audit actor, `decided_by`). */
export const GUARDRAILS_ACTOR = "guardrails";

/** A Deployment as the cluster reports it now. */
export interface WorkloadState {
  replicas: number;
  readyReplicas: number;
  /** Strategy, progress deadline and autoscaler, when the cluster told them. */
  rollout?: RolloutFacts;
  /** Whether the pod asked about is ready (undefined when none was asked about or it is gone). */
  podReady?: boolean;
}

export interface AnalyzeDeps {
  pool: Pool;
  chain: Pick<AnalysisChain, "analyze">;
  context?: ContextDeps;
  /** The guardrails: policy, shared counters, and what the registry allows the service. */
  guardrails: {
    policy: GuardrailPolicy;
    counters: Pick<RepairCountersStore, "read" | "reserve">;
    registryAllows: (incident: Incident) => readonly string[] | undefined;
  };
  /** Replicas of a Deployment now (KUBECONFIG): what a rollout restart or undo really affects. */
  workload?: (namespace: string, deployment: string, pod?: string) => Promise<WorkloadState>;
  /** Whether the action's executor has its target configured here (KUBECONFIG, DOCKER_HOST, …). */
  canExecute?: (action: RemediationAction) => boolean;
  /** Queues an automatically approved action; the job id is the action's, as for a human approval. */
  enqueueExecution: (actionId: number) => Promise<unknown>;
  /** BOT_LANGUAGE: the language of the offline analysis when the models are skipped; default English. */
  language?: Language;
}

export type AnalyzeResult =
  | { outcome: "analyzed"; stored: StoredAnalysis; changed: true; autoActionId?: number }
  /** Even the offline analyzer could not answer: the incident says so and waits for a person. */
  | { outcome: "failed"; reason: string }
  | { outcome: "missing" }
  | { outcome: "closed"; status: string };

function sentryIssue(incident: Incident): SentryIssueDetails | undefined {
  if (incident.source !== "sentry") return undefined;
  const link = incident.links.find((candidate) => candidate.label === "Sentry Issue");
  return {
    id: incident.labels.sentry_issue_id ?? incident.fingerprint,
    title: incident.title,
    ...(incident.summary === null ? {} : { culprit: incident.summary }),
    ...(incident.labels.level === undefined ? {} : { level: incident.labels.level }),
    ...(link === undefined ? {} : { permalink: link.url }),
  };
}

/** The decision once the shared budget had its say: an "auto" whose slot was taken meanwhile waits for a human. */
function afterReservation(decision: Decision, reservation: Reservation, policy: GuardrailPolicy): Decision {
  if (reservation.reserved) return decision;
  const { counters } = reservation;
  const detail =
    counters.cooldownSeconds > 0
      ? `cooling off after a failed repair: ${counters.cooldownSeconds}s left`
      : counters.lastHour >= policy.maxPerHour
        ? `hourly budget spent meanwhile: ${counters.lastHour}/${policy.maxPerHour} this hour`
        : `budget of ${decision.resourceKey} spent meanwhile: ${counters.resourceLastHour}/${policy.maxPerResourcePerHour} this hour`;
  const spent =
    counters.cooldownSeconds > 0
      ? "cooldown"
      : counters.lastHour >= policy.maxPerHour
        ? "hourly"
        : "resource";
  const params: RuleParams["budget_reserved"] = {
    spent,
    used: spent === "hourly" ? counters.lastHour : counters.resourceLastHour,
    max: spent === "hourly" ? policy.maxPerHour : policy.maxPerResourcePerHour,
    seconds: counters.cooldownSeconds,
    resource: decision.resourceKey,
  };
  return {
    ...decision,
    mode: "approval",
    summary: `needs approval: ${detail}`,
    verdicts: [...decision.verdicts, { rule: "budget_reserved", kind: "soft", ok: false, detail, params }],
  };
}

/**
 * What the cluster says of the target's Deployment (a pod's own, for a pod): its replicas, and
 * how many are ready. Undefined when there is no cluster or it does not answer: then the
 * analysis' count stands, and a removal of a pod waits for a human.
 */
async function workloadState(deps: AnalyzeDeps, analysis: Analysis): Promise<WorkloadState | undefined> {
  const { kind, namespace, name } = analysis.target;
  if (deps.workload === undefined || namespace === undefined) return undefined;
  const deployment = kind === "Deployment" ? name : kind === "Pod" ? deploymentOfPod(name) : undefined;
  if (deployment === undefined) return undefined;
  return deps.workload(namespace, deployment, kind === "Pod" ? name : undefined).catch(() => undefined);
}

export async function analyzeIncident(
  deps: AnalyzeDeps,
  input: {
    incidentId: string;
    requestedBy: string;
    signal?: AbortSignal;
    /** The analyze job's key: a job run again (its worker died after storing) stores nothing twice. */
    jobKey?: string;
    /** Skip the models: earlier attempts failed for a reason retrying cannot fix. */
    offlineBecause?: string;
  },
): Promise<AnalyzeResult> {
  const incident = await getIncident(deps.pool, input.incidentId);
  if (incident === undefined) return { outcome: "missing" };
  if (incident.status === "resolved") return { outcome: "closed", status: incident.status };
  const done = input.jobKey === undefined ? undefined : await analysisOfJob(deps.pool, input.jobKey);
  if (done !== undefined) return { outcome: "analyzed", stored: done, changed: true };
  await setIncidentStatus(deps.pool, incident.id, ["open", "awaiting_approval"], "analyzing");

  const sentry = sentryIssue(incident);
  const playbooks = await playbooksFor(deps.pool, incidentSignatures(incident));
  const context = await buildAnalysisContext(deps.context ?? {}, {
    alert: {
      source: incident.source,
      title: incident.title,
      severity: incident.severity,
      status: "firing",
      labels: incident.labels,
      annotations: incident.annotations,
      startsAt: incident.firstSeenAt,
      ...(incident.summary === null ? {} : { summary: incident.summary }),
    },
    similarIncidents: await similarIncidents(deps.pool, incident),
    playbooks,
    traceIds: incident.labels.trace_id === undefined ? [] : [incident.labels.trace_id],
    ...(sentry === undefined ? {} : { sentryIssue: sentry }),
  });
  const result =
    input.offlineBecause === undefined
      ? await deps.chain.analyze(context, input.signal === undefined ? {} : { signal: input.signal })
      : {
          analysis: analyzeOffline(context, context.playbooks, deps.language),
          attempts: [],
          warnings: [`models skipped: ${input.offlineBecause}`],
        };
  const { analysis } = result;
  const { policy } = deps.guardrails;
  const proposal = proposalFor(analysis);
  const workload = await workloadState(deps, analysis);
  let decision = decide({
    analysis,
    incident,
    policy,
    counters: await deps.guardrails.counters.read(resourceKey(analysis)),
    registryAllows: deps.guardrails.registryAllows(incident),
    ...(workload === undefined
      ? {}
      : {
          ...(analysis.target.kind === "Deployment" ? { workloadReplicas: workload.replicas } : {}),
          healthyReplicas: workload.readyReplicas,
          ...(workload.rollout === undefined ? {} : { rollout: workload.rollout }),
          ...(workload.podReady === undefined ? {} : { targetPodReady: workload.podReady }),
        }),
  });
  if (decision.mode === "auto" && proposal !== undefined && deps.canExecute?.(proposal.action) === false) {
    const detail = `${proposal.action} has no target configured here`;
    decision = {
      ...decision,
      mode: "approval",
      summary: `needs approval: ${detail}`,
      verdicts: [
        ...decision.verdicts,
        {
          rule: "executor_configured",
          kind: "soft",
          ok: false,
          detail,
          params: { action: proposal.action } satisfies RuleParams["executor_configured"],
        },
      ],
    };
  }
  // The counters read above may be stale: another process can take the last slot meanwhile.
  // Reserving is one Lua script, so only a reserved slot runs by itself.
  let reservation: Reservation | undefined;
  if (decision.mode === "auto" && proposal !== undefined) {
    reservation = await deps.guardrails.counters.reserve(decision.resourceKey, policy);
    decision = afterReservation(decision, reservation, policy);
  }
  const auto = decision.mode === "auto" && proposal !== undefined && reservation?.reserved === true;
  const proposesRemediation = decision.mode === "auto" || decision.mode === "approval";

  let autoActionId: number | undefined;
  const stored = await inTransaction(deps.pool, async (client) => {
    // The model may take a minute; an incident that resolved meanwhile gets no action (the row
    // lock orders this against the resolution).
    const stillOpen = (await lockIncident(client, incident.id)) !== "resolved";
    const row = await insertAnalysis(client, {
      incidentId: incident.id,
      requestedBy: input.requestedBy,
      analysis,
      attempts: result.attempts,
      decision,
      ...(input.jobKey === undefined ? {} : { jobKey: input.jobKey }),
    });
    await addEvent(
      client,
      incident.id,
      "analyzed",
      {
        engine: analysis.engine,
        provider: analysis.provider,
        model: analysis.model,
        action: analysis.suggested_action,
        confidence: analysis.confidence,
        decision: decision.mode,
        playbooks: playbooks.length,
        rules: decision.verdicts.filter((verdict) => !verdict.ok).map((verdict) => verdict.rule),
        attempts: result.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}`),
        // the prompt's estimated tokens whole and as each provider got it, and what its budget left out
        ...(result.fullPromptTokens === undefined ? {} : { prompt_tokens: promptTokens(result) }),
        warnings: result.warnings,
      },
      input.requestedBy,
    );
    await audit(client, {
      incidentId: incident.id,
      actor: input.requestedBy,
      what: `decision on ${analysis.suggested_action}`,
      outcome: decision.mode,
      detail: { summary: decision.summary, verdicts: decision.verdicts },
    });
    if (auto && stillOpen) {
      const approved = await insertApprovedAction(client, {
        incidentId: incident.id,
        analysisId: row.id,
        decidedBy: GUARDRAILS_ACTOR,
        ...proposal,
      });
      if (approved !== undefined) {
        autoActionId = approved.id;
        await addEvent(
          client,
          incident.id,
          "approved",
          { action: approved.action, params: approved.params, auto: true, summary: decision.summary },
          GUARDRAILS_ACTOR,
        );
        await audit(client, {
          incidentId: incident.id,
          actor: GUARDRAILS_ACTOR,
          what: `approve ${approved.action}`,
          outcome: "approved",
          detail: {
            actionId: approved.id,
            params: approved.params,
            summary: decision.summary,
            verdicts: decision.verdicts,
          },
        });
      }
    } else if (stillOpen && proposesRemediation && proposal !== undefined) {
      await proposeAction(client, { incidentId: incident.id, analysisId: row.id, ...proposal });
    }
    // Only an incident still being analysed moves on; one resolved meanwhile stays resolved.
    await setIncidentStatus(
      client,
      incident.id,
      ["analyzing"],
      autoActionId !== undefined ? "executing" : proposesRemediation ? "awaiting_approval" : "open",
    );
    return row;
  }).catch(async (error: unknown) => {
    await reservation?.release();
    // The same job running twice at once (a stalled job picked up while the first still runs):
    // the first stored it; this one changes nothing.
    const stored = input.jobKey === undefined ? undefined : await analysisOfJob(deps.pool, input.jobKey);
    if (stored !== undefined) return undefined;
    throw error;
  });
  if (stored === undefined) {
    const first = input.jobKey === undefined ? undefined : await analysisOfJob(deps.pool, input.jobKey);
    if (first === undefined) throw new AnalysisFailure({ code: "not_stored", incident: incident.id });
    return { outcome: "analyzed", stored: first, changed: true };
  }
  if (autoActionId === undefined) {
    // Reserved but not run (another action of the incident is live): the slot goes back.
    await reservation?.release();
    return { outcome: "analyzed", stored, changed: true };
  }
  await deps.enqueueExecution(autoActionId);
  return { outcome: "analyzed", stored, changed: true, autoActionId };
}

/** An analysis that failed for a reason worded here: the message in English, `said` for the card in BOT_LANGUAGE. */
export class AnalysisFailure extends Error {
  override readonly name = "AnalysisFailure";

  constructor(readonly said: AnalysisSaying) {
    super((messagesFor("en").analysisError[said.code] as (args: object) => string)(said));
  }
}

/** Why an analysis failed: English for the timeline, and our own words as data beside it; anyone else's message is quoted. */
export interface AnalysisFailureReason {
  error: string;
  said?: AnalysisSaying;
}

export function analysisFailureOf(error: unknown): AnalysisFailureReason {
  if (error instanceof ZodError) {
    const failure = new AnalysisFailure({
      code: "schema_mismatch",
      problem: error.issues[0]?.message ?? "invalid",
    });
    return { error: failure.message, said: failure.said };
  }
  if (error instanceof AnalysisFailure) return { error: error.message, said: error.said };
  return { error: (error instanceof Error ? error.message : String(error)).slice(0, 300) };
}

/**
 * The analysis could not be made at all, not even by the offline analyzer: the card says so (never
 * "pending" forever) and the incident waits for a person.
 */
export async function analysisFailed(
  deps: Pick<AnalyzeDeps, "pool">,
  incidentId: string,
  reason: AnalysisFailureReason,
): Promise<void> {
  await inTransaction(deps.pool, async (client) => {
    await addEvent(client, incidentId, "analysis_failed", {
      error: reason.error.slice(0, 300),
      ...(reason.said === undefined ? {} : { said: reason.said }),
    });
    await setIncidentStatus(client, incidentId, ["analyzing"], "open");
  });
}

/** "7999 whole; ollama 6376 (similar_past_incidents: 5 of 5 dropped, …); gemini 7999". */
function promptTokens(result: { fullPromptTokens?: number; attempts: readonly Attempt[] }): string {
  const sent = result.attempts
    .filter((attempt) => attempt.promptTokens !== undefined)
    .map(
      (attempt) =>
        `${attempt.provider} ${attempt.promptTokens}${attempt.contextDropped === undefined ? "" : ` (${attempt.contextDropped.join(", ")})`}`,
    );
  return [`${result.fullPromptTokens} whole`, ...sent].join("; ");
}

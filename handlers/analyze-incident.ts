// Use case: analyse one incident (LLM chain, else the offline analyzer), store the analysis with
// its tokens and cost, and move the incident on: awaiting approval when a remediation is proposed.
import type { AnalysisChain } from "../ai/chain.js";
import { buildAnalysisContext, type ContextDeps, type SentryIssueDetails } from "../ai/context.js";
import { insertAnalysis, similarIncidents, type StoredAnalysis } from "../db/analyses.js";
import { addEvent, getIncident, type Incident, type Queryable } from "../db/incidents.js";
import { inTransaction, type Pool } from "../db/pool.js";
import { audit, proposeAction } from "../db/actions.js";
import { decide, resourceKey, type GuardrailPolicy } from "../executors/decide.js";
import { proposalFor } from "../executors/index.js";
import type { RepairCountersStore } from "../executors/repair-counters.js";

export interface AnalyzeDeps {
  pool: Pool;
  chain: Pick<AnalysisChain, "analyze">;
  context?: ContextDeps;
  /** The guardrails: policy, shared counters, and what the registry allows the service. */
  guardrails: {
    policy: GuardrailPolicy;
    counters: Pick<RepairCountersStore, "read">;
    registryAllows: (incident: Incident) => readonly string[] | undefined;
  };
}

export type AnalyzeResult =
  | { outcome: "analyzed"; stored: StoredAnalysis; changed: true }
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

async function setStatus(db: Queryable, id: string, from: readonly string[], to: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE incidents SET status = $3, version = version + 1, updated_at = now()
     WHERE id = $1 AND status = ANY($2)`,
    [id, from, to],
  );
  return rowCount === 1;
}

export async function analyzeIncident(
  deps: AnalyzeDeps,
  input: {
    incidentId: string;
    requestedBy: string;
    signal?: AbortSignal;
  },
): Promise<AnalyzeResult> {
  const incident = await getIncident(deps.pool, input.incidentId);
  if (incident === undefined) return { outcome: "missing" };
  if (incident.status === "resolved") return { outcome: "closed", status: incident.status };
  await setStatus(deps.pool, incident.id, ["open", "awaiting_approval"], "analyzing");

  const sentry = sentryIssue(incident);
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
    traceIds: incident.labels.trace_id === undefined ? [] : [incident.labels.trace_id],
    ...(sentry === undefined ? {} : { sentryIssue: sentry }),
  });
  const result = await deps.chain.analyze(
    context,
    input.signal === undefined ? {} : { signal: input.signal },
  );
  const { analysis } = result;
  const decision = decide({
    analysis,
    incident,
    policy: deps.guardrails.policy,
    counters: await deps.guardrails.counters.read(resourceKey(analysis)),
    registryAllows: deps.guardrails.registryAllows(incident),
  });
  // Executors are not built yet: an "auto" decision waits for a human like an "approval" one.
  const proposesRemediation = decision.mode === "auto" || decision.mode === "approval";

  const stored = await inTransaction(deps.pool, async (client) => {
    const row = await insertAnalysis(client, {
      incidentId: incident.id,
      requestedBy: input.requestedBy,
      analysis,
      attempts: result.attempts,
      decision,
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
        rules: decision.verdicts.filter((verdict) => !verdict.ok).map((verdict) => verdict.rule),
        attempts: result.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}`),
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
    const proposal = proposesRemediation ? proposalFor(analysis) : undefined;
    if (proposal !== undefined)
      await proposeAction(client, { incidentId: incident.id, analysisId: row.id, ...proposal });
    // Only an incident still being analysed moves on; one resolved meanwhile stays resolved.
    await setStatus(client, incident.id, ["analyzing"], proposesRemediation ? "awaiting_approval" : "open");
    return row;
  });
  return { outcome: "analyzed", stored, changed: true };
}

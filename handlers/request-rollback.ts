// Use case: `/rollback <namespace>/<deployment>`. The preview reads the current and previous
// ReplicaSet revisions; the request turns the rollback into a pending action exactly like one a
// model proposed: a "chatops" incident, a "human" analysis, the guardrail decision (namespace,
// blacklist and registry rules apply), the proposal, the audit entry and a card whose Approve
// button runs it. A refused decision creates nothing and names the rule that stopped it.
import { z } from "zod";
import { ACTION_RISK } from "../domain/actions.js";
import { AnalysisSchema, type Analysis } from "../domain/analysis.js";
import { audit, latestAction, proposeAction } from "../db/actions.js";
import { insertAnalysis } from "../db/analyses.js";
import {
  addEvent,
  findLiveIncident,
  insertIncident,
  lockFingerprint,
  nextIncidentId,
  setIncidentStatus,
} from "../db/incidents.js";
import { type Incident, INCIDENT_STATUSES } from "../domain/incident.js";
import { inTransaction, type Pool } from "../db/pool.js";
import { decide, resourceKey, type Decision, type GuardrailPolicy, type Verdict } from "../domain/decide.js";
import { proposalFor } from "../executors/index.js";
import { KubeError } from "../gateways/kube-errors.js";
import type { KubeGateway } from "../gateways/kube-gateway.js";
import type { RepairCountersStore } from "../kv/repair-counters.js";
import { messagesFor, type Language, type Messages } from "../domain/i18n/index.js";

export interface RollbackDeps {
  db: Pool;
  approverIds: readonly number[];
  /** Undefined when KUBECONFIG is not set: then nothing is previewed or created. */
  kube: Pick<KubeGateway, "getDeployment" | "replicaSetRevisions"> | undefined;
  guardrails: {
    policy: GuardrailPolicy;
    counters: Pick<RepairCountersStore, "read">;
    registryAllows: (incident: Incident) => readonly string[] | undefined;
  };
  /** Posts (or refreshes) the incident's card. */
  enqueueCard: (incidentId: string) => Promise<unknown>;
  /** BOT_LANGUAGE: the incident's title and summary and the request's cause and reasoning are written in it. */
  language: Language;
}

const dns1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const objectName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export const RollbackTargetSchema = z.object({
  namespace: z.string().regex(dns1123, { error: "namespace must be a DNS-1123 label" }),
  deployment: z.string().regex(objectName, { error: "deployment must be a DNS-1123 name" }),
});
export type RollbackTarget = z.infer<typeof RollbackTargetSchema>;

/** `"awoooi-prod/awoooi-api"` → the target; undefined for anything else. */
export function parseRollbackTarget(text: string): RollbackTarget | undefined {
  const [namespace, deployment, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const parsed = RollbackTargetSchema.safeParse({ namespace, deployment });
  return parsed.success ? parsed.data : undefined;
}

export interface RevisionInfo {
  revision: number;
  replicaSet: string;
  images: string[];
}

export type RollbackPreview =
  | { outcome: "not_configured" }
  | { outcome: "not_found"; namespace: string; deployment: string }
  /** `detail`: the API server's (or the network's) message, quoted as it came. */
  | { outcome: "unreachable"; detail: string }
  | { outcome: "no_history"; current: RevisionInfo | undefined }
  | {
      outcome: "ready";
      current: RevisionInfo;
      previous: RevisionInfo;
      replicas: number;
      readyReplicas: number;
    };

export type RollbackRequest =
  | { outcome: "not_allowed" | "not_configured" }
  | { outcome: "unavailable"; preview: Exclude<RollbackPreview, { outcome: "ready" }> }
  | { outcome: "refused"; summary: string; failed: Verdict[] }
  | { outcome: "already_requested"; incidentId: string; status: string }
  | { outcome: "proposed"; incidentId: string; actionId: number; decision: Decision };

const info = (revision: { revision: number; name: string; images: string[] }): RevisionInfo => ({
  revision: revision.revision,
  replicaSet: revision.name,
  images: revision.images,
});

export async function previewRollback(
  deps: Pick<RollbackDeps, "kube">,
  target: RollbackTarget,
): Promise<RollbackPreview> {
  if (deps.kube === undefined) return { outcome: "not_configured" };
  try {
    const state = await deps.kube.getDeployment(target.namespace, target.deployment);
    const [current, previous] = await deps.kube.replicaSetRevisions(target.namespace, target.deployment);
    if (current === undefined || previous === undefined) {
      return { outcome: "no_history", current: current === undefined ? undefined : info(current) };
    }
    return {
      outcome: "ready",
      current: info(current),
      previous: info(previous),
      replicas: state.replicas,
      readyReplicas: state.readyReplicas,
    };
  } catch (error) {
    if (error instanceof KubeError && error.code === "not_found") {
      return { outcome: "not_found", namespace: target.namespace, deployment: target.deployment };
    }
    return { outcome: "unreachable", detail: error instanceof Error ? error.message : String(error) };
  }
}

const ACTIVE_ACTION = new Set(["pending", "approved", "executing", "verifying"]);

function describe(revision: RevisionInfo, t: Messages): string {
  return t.rollback.revisionOf({ revision: revision.revision, images: revision.images.join(", ") });
}

/** The incident as it will be stored; the guardrails judge it before anything is written. */
function draftIncident(
  target: RollbackTarget,
  actor: string,
  summary: string,
  now: Date,
  t: Messages,
): Incident {
  return {
    id: "INC-00000000-0000",
    fingerprint: `rollback:${target.namespace}/${target.deployment}`,
    source: "chatops",
    severity: "P1",
    status: "awaiting_approval",
    title: t.rollback.title({ name: `${target.namespace}/${target.deployment}` }),
    service: target.deployment,
    summary,
    target: { kind: "Deployment", namespace: target.namespace, name: target.deployment },
    labels: {
      alertname: "RollbackRequested",
      namespace: target.namespace,
      deployment: target.deployment,
      requested_by: actor,
    },
    annotations: { summary },
    links: [],
    firstSeenAt: now,
    lastSeenAt: now,
    resolvedAt: null,
    occurrences: 1,
    version: 1,
    createdAt: now,
    updatedAt: now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalatedAt: null,
    snoozedUntil: null,
    snoozedBy: null,
  };
}

export async function requestRollback(
  deps: RollbackDeps,
  input: RollbackTarget & { userId: number; actor: string; now?: Date },
): Promise<RollbackRequest> {
  const { actor } = input;
  const target = { namespace: input.namespace, deployment: input.deployment };
  if (!deps.approverIds.includes(input.userId)) {
    await audit(deps.db, {
      incidentId: null,
      actor,
      what: `request ROLLBACK ${target.namespace}/${target.deployment}`,
      outcome: "not_allowed",
    });
    return { outcome: "not_allowed" };
  }
  if (deps.kube === undefined) return { outcome: "not_configured" };
  const preview = await previewRollback(deps, target);
  if (preview.outcome !== "ready") return { outcome: "unavailable", preview };

  const t = messagesFor(deps.language);
  const summary = t.rollback.summary({
    actor,
    from: describe(preview.current, t),
    to: describe(preview.previous, t),
  });
  const draft = draftIncident(target, actor, summary, input.now ?? new Date(), t);
  const analysis: Analysis = AnalysisSchema.parse({
    suggested_action: "ROLLBACK",
    target: { kind: "Deployment", namespace: target.namespace, name: target.deployment },
    confidence: 1,
    risk_level: ACTION_RISK.ROLLBACK,
    blast_radius: { affected_pods: preview.replicas, estimated_downtime_seconds: 0 },
    owner_team: "on-call",
    cause: t.rollback.cause({ actor }).slice(0, 300),
    reasoning: t.rollback.reasoning({ summary }).slice(0, 2_000),
    provider: "human",
    model: actor.slice(0, 128),
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    engine: "human",
  } satisfies Analysis);
  const decision = decide({
    analysis,
    incident: draft,
    policy: deps.guardrails.policy,
    counters: await deps.guardrails.counters.read(resourceKey(analysis)),
    registryAllows: deps.guardrails.registryAllows(draft),
  });
  const proposal = proposalFor(analysis);
  if (decision.mode === "refused" || decision.mode === "nothing_to_run" || proposal === undefined) {
    const failed = decision.verdicts.filter((verdict) => verdict.kind === "hard" && !verdict.ok);
    await audit(deps.db, {
      incidentId: null,
      actor,
      what: `request ROLLBACK ${target.namespace}/${target.deployment}`,
      outcome: "refused",
      detail: { summary: decision.summary, verdicts: decision.verdicts },
    });
    return { outcome: "refused", summary: decision.summary, failed };
  }

  const result = await inTransaction(deps.db, async (client): Promise<RollbackRequest> => {
    await lockFingerprint(client, "chatops", draft.fingerprint);
    const live = await findLiveIncident(client, "chatops", draft.fingerprint);
    if (live !== undefined) {
      const action = await latestAction(client, live.id);
      if (action !== undefined && ACTIVE_ACTION.has(action.status)) {
        return { outcome: "already_requested", incidentId: live.id, status: action.status };
      }
    }
    const incident =
      live ??
      (await insertIncident(
        client,
        await nextIncidentId(client),
        {
          ...draft,
          summary,
          target: { kind: "Deployment", namespace: target.namespace, name: target.deployment },
          service: target.deployment,
        },
        draft.firstSeenAt,
      ));
    await addEvent(
      client,
      incident.id,
      "rollback_requested",
      {
        namespace: target.namespace,
        deployment: target.deployment,
        from: preview.current,
        to: preview.previous,
      },
      actor,
    );
    const stored = await insertAnalysis(client, {
      incidentId: incident.id,
      requestedBy: actor,
      analysis,
      attempts: [],
      decision,
    });
    await audit(client, {
      incidentId: incident.id,
      actor,
      what: `request ROLLBACK ${target.namespace}/${target.deployment}`,
      outcome: decision.mode,
      detail: { summary: decision.summary, verdicts: decision.verdicts },
    });
    const action = await proposeAction(client, {
      incidentId: incident.id,
      analysisId: stored.id,
      ...proposal,
    });
    if (action === undefined) throw new Error(`incident ${incident.id} already has a running action`);
    await setIncidentStatus(client, incident.id, INCIDENT_STATUSES, "awaiting_approval");
    return { outcome: "proposed", incidentId: incident.id, actionId: action.id, decision };
  });
  if (result.outcome === "proposed") await deps.enqueueCard(result.incidentId);
  return result;
}

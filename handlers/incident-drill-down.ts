// Use case: one section of an incident's drill-down (the chat's "🔎 Details"): the incident at a
// glance, its timeline, the full analysis reasoning, recent pod logs and events from Kubernetes,
// similar past incidents and the learned playbooks. Reads only; nothing changes.
import { buildAnalysisContext, DEFAULT_CONTEXT_LIMITS } from "../ai/context.js";
import { type AnalysisContext, type Playbook, type SimilarIncident } from "../domain/analysis-context.js";
import { latestAnalysis, similarIncidents, type StoredAnalysis } from "../db/analyses.js";
import { getIncident, listEvents } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import { type Incident, type IncidentEvent, type Severity } from "../domain/incident.js";
import { slaClock, type SlaClock } from "../domain/sla.js";
import { incidentSignatures, playbooksFor } from "../db/playbooks.js";
import type { KubeReader } from "../gateways/kube-gateway.js";

export const DRILL_DOWN_SECTIONS = [
  "overview",
  "timeline",
  "analysis",
  "kube",
  "similar",
  "playbooks",
] as const;
export type DrillDownSection = (typeof DRILL_DOWN_SECTIONS)[number];

export interface DrillDownDeps {
  db: Queryable;
  /** Pod logs and events; undefined when KUBECONFIG is not set. */
  kube: KubeReader | undefined;
  /** A Kubernetes read slower than this is given up and named as unavailable. */
  kubeTimeoutMs?: number;
  /** ESCALATE_P0/P1/P2_SECONDS, for the SLA clock on the overview; without them it shows none. */
  escalateAfterSeconds?: Readonly<Record<Severity, number>>;
  now?: () => Date;
}

export type DrillDownContent =
  | { section: "overview"; incident: Incident; sla?: SlaClock }
  | { section: "timeline"; events: IncidentEvent[] }
  | { section: "analysis"; stored: StoredAnalysis | undefined }
  | { section: "kube"; configured: false }
  | {
      section: "kube";
      configured: true;
      /** What the incident names to read from: "awoooi-prod/pod-x"; undefined when nothing. */
      object: string | undefined;
      logs: string | undefined;
      events: AnalysisContext["events"];
      notes: string[];
    }
  | { section: "similar"; incidents: SimilarIncident[] }
  | { section: "playbooks"; playbooks: Playbook[] };

export type DrillDownResult =
  | {
      outcome: "found";
      incident: Pick<Incident, "id" | "severity" | "title" | "status">;
      content: DrillDownContent;
    }
  | { outcome: "missing" };

const TIMELINE_LIMIT = 40;

async function kubeSection(deps: DrillDownDeps, incident: Incident): Promise<DrillDownContent> {
  if (deps.kube === undefined) return { section: "kube", configured: false };
  const labels = incident.labels;
  const name = labels.pod ?? labels.deployment ?? labels.statefulset;
  // The analysis context reads logs and events the same way, bounded, redacted and timed out.
  const context = await buildAnalysisContext(
    { kube: deps.kube },
    {
      alert: {
        source: incident.source,
        title: incident.title,
        labels,
        annotations: incident.annotations,
      },
    },
    deps.kubeTimeoutMs === undefined
      ? DEFAULT_CONTEXT_LIMITS
      : { ...DEFAULT_CONTEXT_LIMITS, gatewayTimeoutMs: deps.kubeTimeoutMs },
  );
  return {
    section: "kube",
    configured: true,
    object: labels.namespace === undefined || name === undefined ? undefined : `${labels.namespace}/${name}`,
    logs: context.podLogs,
    events: context.events,
    notes: context.notes,
  };
}

async function content(
  deps: DrillDownDeps,
  incident: Incident,
  section: DrillDownSection,
): Promise<DrillDownContent> {
  switch (section) {
    case "overview": {
      if (deps.escalateAfterSeconds === undefined) return { section, incident };
      // the clock starts when the incident opened, again at each reopening
      const events = await listEvents(deps.db, incident.id, 1_000);
      const started = events.findLast((event) => event.kind === "reopened")?.at ?? incident.createdAt;
      const now = deps.now?.() ?? new Date();
      return { section, incident, sla: slaClock(incident, started, deps.escalateAfterSeconds, now) };
    }
    case "timeline":
      return { section, events: await listEvents(deps.db, incident.id, TIMELINE_LIMIT) };
    case "analysis":
      return { section, stored: await latestAnalysis(deps.db, incident.id) };
    case "kube":
      return kubeSection(deps, incident);
    case "similar":
      return { section, incidents: await similarIncidents(deps.db, incident, 8) };
    case "playbooks":
      return { section, playbooks: await playbooksFor(deps.db, incidentSignatures(incident)) };
  }
}

export async function incidentDrillDown(
  deps: DrillDownDeps,
  input: { incidentId: string; section: DrillDownSection },
): Promise<DrillDownResult> {
  const incident = await getIncident(deps.db, input.incidentId);
  if (incident === undefined) return { outcome: "missing" };
  return {
    outcome: "found",
    incident: {
      id: incident.id,
      severity: incident.severity,
      title: incident.title,
      status: incident.status,
    },
    content: await content(deps, incident, input.section),
  };
}

// The resources an incident is about, read from its labels. An analysis may only target these:
// a model that names another namespace, another deployment or an invented resource is refused.
import { NAMESPACED_KINDS, type TargetKind } from "./actions.js";
import { type AnalysisContext } from "./analysis-context.js";
import { isValidName, NAMESPACE_NAME } from "./names.js";
import { deploymentOfPod, subjectLabels } from "./subject.js";

export { deploymentOfPod };

export interface IncidentScope {
  namespace?: string;
  /** Names each kind of target may take, most specific first. */
  names: Record<TargetKind, string[]>;
  /** Any pod named `<deployment>-…` of these deployments may be targeted. */
  podPrefixes: string[];
}

export interface TargetRef {
  kind: TargetKind;
  name: string;
  namespace?: string | undefined;
}

const AI_PROVIDERS = ["ollama", "gemini", "claude"];

function hostOf(instance: string | undefined): string | undefined {
  if (instance === undefined) return undefined;
  // "192.168.0.120:9100" → "192.168.0.120"; "https://api.example.com:443/x" → "api.example.com"
  const withoutScheme = instance.replace(/^[a-z]+:\/\//i, "");
  return withoutScheme.split("/")[0]?.replace(/:\d+$/, "");
}

export function scopeFromContext(context: AnalysisContext): IncidentScope {
  // Only the subject's labels: a model may never act on the exporter that scraped the alert
  // (domain/subject.ts), e.g. restart kube-state-metrics for an alert about another deployment.
  const l = subjectLabels(context.labels);
  const namespaced = l.namespace !== undefined && NAMESPACE_NAME.test(l.namespace);
  const podDeployment = l.pod === undefined ? undefined : deploymentOfPod(l.pod);
  const deployments = [
    l.deployment,
    podDeployment,
    l.app_kubernetes_io_name,
    l.app,
    l.service,
    // a probe's job is named after what it probes, but only inside a namespace is it a workload
    namespaced ? l.job : undefined,
  ];
  const host = hostOf(l.instance);
  const topic = [l.alertname, context.title, l.job, l.container, l.service].join(" ");
  const aboutRedis = /redis/i.test(topic);
  const aboutCertificates = /cert|ssl|tls/i.test(topic);
  const provider = (l.provider ?? /^(ollama|gemini|claude)/i.exec(context.title)?.[1])?.toLowerCase();

  const candidates: Record<TargetKind, (string | undefined)[]> = {
    Deployment: deployments,
    StatefulSet: [l.statefulset],
    Pod: [l.pod],
    // In a Kubernetes alert `container` names a container inside a pod, not a Docker container.
    Container: namespaced ? [] : [l.container, l.container_name, l.name, l.service],
    Redis: aboutRedis ? [l.redis, l.container, l.name, l.service, l.instance] : [l.redis],
    PostgresTable: [
      l.schemaname !== undefined && l.relname !== undefined ? `${l.schemaname}.${l.relname}` : undefined,
      l.table,
      l.relname,
    ],
    Host: [l.node, l.nodename, l.kubernetes_node, l.hostname, l.host, host],
    Model: [l.model, l.model_name],
    Certificate: aboutCertificates
      ? [l.certificate, l.cert, l.domain, l.cn, l.subject, host]
      : [l.certificate],
    AiProvider: provider !== undefined && AI_PROVIDERS.includes(provider) ? [provider] : [],
    Service: [l.service, l.app, l.job, l.project],
    Alert: [l.alertname, alertNameOf(l.alertname ?? context.title)],
  };

  const names = Object.fromEntries(
    Object.entries(candidates).map(([kind, values]) => [
      kind,
      unique(values.filter((v): v is string => v !== undefined && isValidName(kind as TargetKind, v))),
    ]),
  ) as Record<TargetKind, string[]>;

  return {
    ...(namespaced && l.namespace !== undefined ? { namespace: l.namespace } : {}),
    names,
    podPrefixes: namespaced ? names.Deployment.map((d) => `${d}-`) : [],
  };
}

function alertNameOf(title: string): string {
  return (
    title
      .replace(/[^A-Za-z0-9_:.-]+/g, "_")
      .replace(/^[^A-Za-z_]+/, "")
      .slice(0, 128) || "alert"
  );
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Why `target` is not one of the incident's own resources, or undefined when it is. */
export function targetProblem(target: TargetRef, scope: IncidentScope): string | undefined {
  if (!isValidName(target.kind, target.name)) {
    return `target.name ${JSON.stringify(target.name)} is not a valid ${target.kind} name`;
  }
  if (target.namespace !== undefined && !NAMESPACE_NAME.test(target.namespace)) {
    return `target.namespace ${JSON.stringify(target.namespace)} is not a valid namespace name`;
  }
  if (NAMESPACED_KINDS.has(target.kind)) {
    if (scope.namespace === undefined)
      return `the incident has no namespace, so no ${target.kind} can be targeted`;
    if (target.namespace !== scope.namespace) {
      return `target.namespace must be the incident's namespace ${scope.namespace}, not ${String(target.namespace)}`;
    }
  } else if (target.namespace !== undefined && target.namespace !== scope.namespace) {
    return `target.namespace ${target.namespace} is not the incident's namespace`;
  }
  if (scope.names[target.kind].includes(target.name)) return undefined;
  // The pod's own deployment must be the incident's: `api-worker-…` starts with `api-` too.
  const podOf = target.kind === "Pod" ? deploymentOfPod(target.name) : undefined;
  if (podOf !== undefined && scope.podPrefixes.includes(`${podOf}-`)) return undefined;
  const allowed = scope.names[target.kind];
  return allowed.length === 0
    ? `the incident names no ${target.kind}, so ${target.name} cannot be targeted`
    : `${target.kind} ${target.name} is not part of the incident (allowed: ${allowed.join(", ")})`;
}

/** The first target of one of `kinds` the incident allows, for rule-based proposals. */
export function firstTarget(scope: IncidentScope, kinds: readonly TargetKind[]): TargetRef | undefined {
  for (const kind of kinds) {
    const name = scope.names[kind][0];
    if (name === undefined) continue;
    if (NAMESPACED_KINDS.has(kind) && scope.namespace === undefined) continue;
    return NAMESPACED_KINDS.has(kind) || (kind === "Service" && scope.namespace !== undefined)
      ? { kind, name, namespace: scope.namespace }
      : { kind, name };
  }
  return undefined;
}

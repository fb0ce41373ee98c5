// The Kubernetes calls the executors, the verifier and the analyzer make, over the real
// @kubernetes/client-node and a kubeconfig, or the in-cluster service account inside a pod. Each
// remediation does what the matching kubectl command does, so an operator reading the audit log
// sees familiar changes: `rollout restart` (restartedAt annotation), `scale` (scale subresource),
// `drain`'s eviction of one pod (the Eviction API, which honours PodDisruptionBudgets), `rollout
// undo` (the previous ReplicaSet's template patched back) and `rollout status`. Every API call it
// makes is listed in KUBE_API_CALLS, which deploy/k8s/base/rbac.yaml grants and nothing more
// (test/deploy/rbac.test.ts keeps the two and the code's real calls together).
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1Deployment,
  type V1Pod,
  type V1PodTemplateSpec,
  type V1ReplicaSet,
} from "@kubernetes/client-node";
import { type KubeEvent } from "../domain/analysis-context.js";
import { KubeError, type KubeErrorCode } from "./kube-errors.js";

/** One permission the gateway needs: an RBAC rule's API group, resource (with subresource) and verb. */
export interface KubeApiCall {
  readonly apiGroup: string;
  readonly resource: string;
  readonly verb: string;
  /** "namespace": granted by a Role in each allowed namespace; "cluster": by a ClusterRole. */
  readonly scope: "namespace" | "cluster";
  /** The gateway methods that make it. */
  readonly by: readonly string[];
}

/**
 * Every Kubernetes API call this gateway makes. The RBAC manifest grants exactly these; a method
 * that starts calling something else must be added here, and the drift test fails until it is.
 */
export const KUBE_API_CALLS: readonly KubeApiCall[] = [
  { apiGroup: "apps", resource: "deployments", verb: "get", scope: "namespace", by: ["getDeployment", "rolloutStatus", "replicaSetRevisions", "rollbackDeployment"] },
  { apiGroup: "apps", resource: "deployments", verb: "list", scope: "namespace", by: ["reachable"] },
  { apiGroup: "apps", resource: "deployments", verb: "patch", scope: "namespace", by: ["restartDeployment", "rollbackDeployment"] },
  { apiGroup: "apps", resource: "deployments/scale", verb: "get", scope: "namespace", by: ["scaleDeployment"] },
  { apiGroup: "apps", resource: "deployments/scale", verb: "patch", scope: "namespace", by: ["scaleDeployment"] },
  { apiGroup: "apps", resource: "replicasets", verb: "list", scope: "namespace", by: ["replicaSetRevisions", "rollbackDeployment"] },
  { apiGroup: "apps", resource: "replicasets", verb: "get", scope: "namespace", by: ["rollbackDeployment"] },
  { apiGroup: "", resource: "pods", verb: "list", scope: "namespace", by: ["listPods"] },
  { apiGroup: "", resource: "pods/eviction", verb: "create", scope: "namespace", by: ["evictPod"] },
  { apiGroup: "", resource: "pods/log", verb: "get", scope: "namespace", by: ["podLogs"] },
  { apiGroup: "", resource: "events", verb: "list", scope: "namespace", by: ["events"] },
  { apiGroup: "autoscaling", resource: "horizontalpodautoscalers", verb: "list", scope: "namespace", by: ["autoscalerOf"] },
  { apiGroup: "", resource: "nodes", verb: "get", scope: "cluster", by: ["nodeHealth"] },
]; // prettier-ignore

/** Where a pod finds its service account (the kubelet mounts it here). */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The in-cluster API server and service account, as a pod sees them. */
export interface InClusterSettings {
  /** KUBERNETES_SERVICE_HOST */
  host: string;
  /** KUBERNETES_SERVICE_PORT */
  port: number;
  /** Holds `token`, `ca.crt` and `namespace`; SERVICE_ACCOUNT_DIR in a pod. */
  serviceAccountDir: string;
}

export interface PodLogOptions {
  tailLines: number;
  /** The previous container's logs: what a crash-looping pod printed before it died. */
  previous?: boolean;
  container?: string;
}

/** The Kubernetes reads an analysis and the drill-down need. */
export interface KubeReader {
  podLogs(namespace: string, pod: string, options: PodLogOptions): Promise<string>;
  events(namespace: string, name: string): Promise<KubeEvent[]>;
}

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";
const POD_TEMPLATE_HASH = "pod-template-hash";

/** Deployment annotations `rollout undo` keeps from the deployment instead of taking the ReplicaSet's (kubectl's list). */
const ANNOTATIONS_TO_SKIP = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION_ANNOTATION,
  "deployment.kubernetes.io/revision-history",
  "deployment.kubernetes.io/desired-replicas",
  "deployment.kubernetes.io/max-replicas",
  "deprecated.deployment.rollback.to",
]);

// ─── Errors ──────────────────────────────────────────────────────────────────────────────────

export { KUBE_ERRORS, KubeError, type KubeErrorCode } from "./kube-errors.js";

const STATUS_CODES: Readonly<Record<number, KubeErrorCode>> = {
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  422: "invalid",
};

/** Turns what client-node throws into a KubeError carrying the API server's `Status` message. */
export function toKubeError(error: unknown): KubeError {
  if (error instanceof KubeError) return error;
  if (error instanceof ApiException) {
    const status = (error as ApiException<unknown>).code;
    const message = statusMessage((error as ApiException<unknown>).body);
    return new KubeError(STATUS_CODES[status] ?? "failed", message ?? `HTTP ${status}`, status);
  }
  return new KubeError("unreachable", error instanceof Error ? error.message : String(error));
}

/** The DisruptionBudget cause of a 429: "The disruption budget web-pdb needs 2 healthy pods and has 2 currently". */
function budgetCause(body: unknown): string | undefined {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const causes = (value as { details?: { causes?: { reason?: unknown; message?: unknown }[] } } | null)
    ?.details?.causes;
  const cause = causes?.find((c) => c.reason === "DisruptionBudget")?.message;
  return typeof cause === "string" ? cause : undefined;
}

function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      // Not a Status object (a proxy in between, say): its text is still the best detail there is.
      return body.length > 0 ? body.slice(0, 500) : undefined;
    }
  }
  if (
    typeof value === "object" &&
    value !== null &&
    "message" in value &&
    typeof value.message === "string"
  ) {
    return value.message;
  }
  return undefined;
}

// ─── What the gateway answers ────────────────────────────────────────────────────────────────

export interface DeploymentState {
  /** Desired replicas (spec). */
  replicas: number;
  /** `spec.strategy.type`: Recreate stops every pod before starting new ones (downtime). */
  strategy: "RollingUpdate" | "Recreate";
  /** `spec.progressDeadlineSeconds` (600 when the server left it out). */
  progressDeadlineSeconds: number;
  /** The Progressing condition is False with ProgressDeadlineExceeded: the last rollout is stuck. */
  progressDeadlineExceeded: boolean;
  readyReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  generation: number;
  observedGeneration: number;
  /** `deployment.kubernetes.io/revision`; 0 before the controller has written one. */
  revision: number;
}

export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  labels: Record<string, string>;
  createdAt?: string;
  /** Deleted and waiting for its kubelet to confirm (deletionTimestamp set): kubectl's "Terminating". */
  terminating: boolean;
  nodeName?: string;
}

/** A node as the pod on it cares: its kubelet answers, has stopped answering, or the Node is gone. */
export type NodeHealth = { state: "ready" } | { state: "not_ready"; reason: string } | { state: "missing" };

/** A HorizontalPodAutoscaler that owns a Deployment's replica count. */
export interface AutoscalerSummary {
  name: string;
  minReplicas: number;
  maxReplicas: number;
}

/** An eviction either started the pod's graceful deletion, or a PodDisruptionBudget said not now. */
export type EvictionOutcome = { outcome: "evicted" } | { outcome: "budget"; detail: string };

export interface ReplicaSetRevision {
  name: string;
  revision: number;
  replicas: number;
  readyReplicas: number;
  images: string[];
  template: V1PodTemplateSpec;
}

export interface RolloutStatus {
  complete: boolean;
  /** kubectl's wording: "Waiting for deployment … rollout to finish: 1 of 2 updated replicas are available". */
  message: string;
}

export interface RollbackResult {
  /** False when the current template already is the previous revision's (kubectl: "skipped rollback"). */
  changed: boolean;
  fromRevision: number;
  /** The revision whose template was put back; the controller gives it a new number. */
  toRevision: number;
  replicaSet: string;
  template: V1PodTemplateSpec;
}

/** Everything the executors and the analyzer ask of Kubernetes. */
export interface KubeGateway extends KubeReader {
  getDeployment(namespace: string, name: string): Promise<DeploymentState>;
  restartDeployment(namespace: string, name: string, at: Date): Promise<DeploymentState>;
  scaleDeployment(
    namespace: string,
    name: string,
    replicas: number,
  ): Promise<{ previous: number; replicas: number }>;
  /** `kubectl drain`'s eviction of one pod: a PodDisruptionBudget refusal is an outcome, not an error. */
  evictPod(namespace: string, pod: string, graceSeconds?: number): Promise<EvictionOutcome>;
  nodeHealth(name: string): Promise<NodeHealth>;
  /** The HPA whose scaleTargetRef is this Deployment, if any. */
  autoscalerOf(namespace: string, deployment: string): Promise<AutoscalerSummary | undefined>;
  listPods(namespace: string, selector: string | Readonly<Record<string, string>>): Promise<PodSummary[]>;
  replicaSetRevisions(namespace: string, deployment: string): Promise<ReplicaSetRevision[]>;
  rollbackDeployment(namespace: string, name: string): Promise<RollbackResult>;
  rolloutStatus(namespace: string, name: string): Promise<RolloutStatus>;
  rolloutComplete(namespace: string, name: string): Promise<boolean>;
}

// ─── The client-node implementation ──────────────────────────────────────────────────────────

export class ClusterKubeGateway implements KubeGateway {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly autoscaling: AutoscalingV2Api;

  constructor(config: KubeConfig) {
    this.apps = config.makeApiClient(AppsV1Api);
    this.core = config.makeApiClient(CoreV1Api);
    this.autoscaling = config.makeApiClient(AutoscalingV2Api);
  }

  static fromKubeconfig(path: string): ClusterKubeGateway {
    const config = new KubeConfig();
    config.loadFromFile(path);
    return new ClusterKubeGateway(config);
  }

  /**
   * Inside a pod: the API server at KUBERNETES_SERVICE_HOST:PORT over HTTPS, trusted through the
   * mounted `ca.crt`, authenticated with the mounted `token`, which client-node re-reads as the
   * kubelet rotates it (what client-node's loadFromCluster does, with the directory injectable).
   * Undefined when no token is mounted (automountServiceAccountToken: false).
   */
  static inCluster(settings: InClusterSettings): ClusterKubeGateway | undefined {
    const tokenFile = join(settings.serviceAccountDir, "token");
    if (!existsSync(tokenFile)) return undefined;
    const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
    const config = new KubeConfig();
    config.loadFromClusterAndUser(
      {
        name: "inCluster",
        server: `https://${host}:${settings.port}`,
        caFile: join(settings.serviceAccountDir, "ca.crt"),
        skipTLSVerify: false,
      },
      { name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile } } },
    );
    return new ClusterKubeGateway(config);
  }

  async podLogs(namespace: string, pod: string, options: PodLogOptions): Promise<string> {
    return call(() =>
      this.core.readNamespacedPodLog({
        name: pod,
        namespace,
        tailLines: options.tailLines,
        ...(options.previous === undefined ? {} : { previous: options.previous }),
        ...(options.container === undefined ? {} : { container: options.container }),
      }),
    );
  }

  async events(namespace: string, name: string): Promise<KubeEvent[]> {
    const list = await call(() =>
      this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` }),
    );
    return list.items.map(toKubeEvent);
  }

  async getDeployment(namespace: string, name: string): Promise<DeploymentState> {
    return deploymentState(await this.readDeployment(namespace, name));
  }

  /** A cheap read (`/status`): resolves when the API server answers a one-item list of deployments. */
  async reachable(namespace: string): Promise<void> {
    await call(() => this.apps.listNamespacedDeployment({ namespace, limit: 1 }));
  }

  async restartDeployment(namespace: string, name: string, at: Date): Promise<DeploymentState> {
    // kubectl writes RFC 3339 without fractions; the new value changes the template, which rolls.
    const restartedAt = at.toISOString().replace(/\.\d{3}Z$/, "Z");
    const patched = await call(() =>
      this.apps.patchNamespacedDeployment(
        {
          name,
          namespace,
          body: {
            spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } },
          },
        },
        setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
      ),
    );
    return deploymentState(patched);
  }

  async scaleDeployment(
    namespace: string,
    name: string,
    replicas: number,
  ): Promise<{ previous: number; replicas: number }> {
    const current = await call(() => this.apps.readNamespacedDeploymentScale({ name, namespace }));
    // The resourceVersion makes the change conditional: if someone scaled meanwhile we get 409
    // instead of silently overwriting their decision with a number computed from stale state.
    const scaled = await call(() =>
      this.apps.patchNamespacedDeploymentScale(
        {
          name,
          namespace,
          body: { metadata: { resourceVersion: current.metadata?.resourceVersion }, spec: { replicas } },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    return { previous: current.spec?.replicas ?? 0, replicas: scaled.spec?.replicas ?? replicas };
  }

  async evictPod(namespace: string, pod: string, graceSeconds = 30): Promise<EvictionOutcome> {
    try {
      await this.core.createNamespacedPodEviction({
        name: pod,
        namespace,
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: pod, namespace },
          deleteOptions: { gracePeriodSeconds: graceSeconds },
        },
      });
      return { outcome: "evicted" };
    } catch (error) {
      // 429 TooManyRequests: a PodDisruptionBudget allows no disruption now (kubectl drain retries
      // every 5 s; the bot does not, a person decides when).
      if (error instanceof ApiException && (error as ApiException<unknown>).code === 429) {
        const body = (error as ApiException<unknown>).body;
        return { outcome: "budget", detail: budgetCause(body) ?? statusMessage(body) ?? "HTTP 429" };
      }
      throw toKubeError(error);
    }
  }

  async nodeHealth(name: string): Promise<NodeHealth> {
    try {
      const node = await this.core.readNode({ name });
      const ready = node.status?.conditions?.find((c) => c.type === "Ready");
      if (ready?.status === "True") return { state: "ready" };
      return {
        state: "not_ready",
        reason: `Ready=${ready?.status ?? "absent"}${ready?.reason === undefined ? "" : ` (${ready.reason})`}`,
      };
    } catch (error) {
      const failure = toKubeError(error);
      if (failure.code === "not_found") return { state: "missing" };
      throw failure;
    }
  }

  async autoscalerOf(namespace: string, deployment: string): Promise<AutoscalerSummary | undefined> {
    const list = await call(() => this.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }));
    const hpa = list.items.find(
      (item) =>
        item.spec?.scaleTargetRef.kind === "Deployment" && item.spec.scaleTargetRef.name === deployment,
    );
    if (hpa?.spec === undefined) return undefined;
    return {
      name: hpa.metadata?.name ?? "",
      minReplicas: hpa.spec.minReplicas ?? 1,
      maxReplicas: hpa.spec.maxReplicas,
    };
  }

  async listPods(
    namespace: string,
    selector: string | Readonly<Record<string, string>>,
  ): Promise<PodSummary[]> {
    const labelSelector = typeof selector === "string" ? selector : formatSelector(selector);
    const list = await call(() => this.core.listNamespacedPod({ namespace, labelSelector }));
    return list.items.map(podSummary);
  }

  async replicaSetRevisions(namespace: string, deployment: string): Promise<ReplicaSetRevision[]> {
    const owner = await this.readDeployment(namespace, deployment);
    return (await this.ownedReplicaSets(owner)).map(revisionOf).sort((a, b) => b.revision - a.revision);
  }

  /** `kubectl rollout undo`: the ReplicaSet with the highest revision below the newest one. */
  async rollbackDeployment(namespace: string, name: string): Promise<RollbackResult> {
    const deployment = await this.readDeployment(namespace, name);
    if (deployment.spec?.paused === true) {
      throw new KubeError(
        "conflict",
        `deployment ${namespace}/${name} is paused; resume it before rolling back`,
      );
    }
    const revisions = (await this.ownedReplicaSets(deployment))
      .map(revisionOf)
      .sort((a, b) => b.revision - a.revision);
    const [latest, previous] = revisions;
    if (latest === undefined || previous === undefined) {
      throw new KubeError("no_history", `no rollout history found for deployment ${namespace}/${name}`);
    }
    const template = withoutHashLabel(previous.template);
    const result = {
      fromRevision: revisionNumber(deployment.metadata?.annotations),
      toRevision: previous.revision,
      replicaSet: previous.name,
      template,
    };
    if (canonical(template) === canonical(withoutHashLabel(deployment.spec?.template ?? {}))) {
      return { ...result, changed: false };
    }
    const replicaSet = await call(() =>
      this.apps.readNamespacedReplicaSet({ name: previous.name, namespace }),
    );
    await call(() =>
      this.apps.patchNamespacedDeployment(
        {
          name,
          namespace,
          body: undoPatch(template, deployment.metadata?.annotations, replicaSet.metadata?.annotations),
        },
        setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
      ),
    );
    return { ...result, changed: true };
  }

  /** kubectl's `rollout status` decision for one read of the deployment. */
  async rolloutStatus(namespace: string, name: string): Promise<RolloutStatus> {
    const deployment = await this.readDeployment(namespace, name);
    const state = deploymentState(deployment);
    const total = deployment.status?.replicas ?? 0;
    const waiting = (why: string) => ({
      complete: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${why}`,
    });
    if (state.observedGeneration < state.generation) return waiting("spec update not yet observed");
    if (state.updatedReplicas < state.replicas) {
      return waiting(`${state.updatedReplicas} out of ${state.replicas} new replicas have been updated`);
    }
    if (total > state.updatedReplicas) {
      return waiting(`${total - state.updatedReplicas} old replicas are pending termination`);
    }
    if (state.availableReplicas < state.updatedReplicas) {
      return waiting(`${state.availableReplicas} of ${state.updatedReplicas} updated replicas are available`);
    }
    return { complete: true, message: `deployment "${name}" successfully rolled out` };
  }

  async rolloutComplete(namespace: string, name: string): Promise<boolean> {
    return (await this.rolloutStatus(namespace, name)).complete;
  }

  private async readDeployment(namespace: string, name: string): Promise<V1Deployment> {
    return call(() => this.apps.readNamespacedDeployment({ name, namespace }));
  }

  /** As kubectl: ReplicaSets matching the selector and controlled by this deployment's uid. */
  private async ownedReplicaSets(deployment: V1Deployment): Promise<V1ReplicaSet[]> {
    const namespace = deployment.metadata?.namespace ?? "default";
    const labelSelector = formatSelector(deployment.spec?.selector.matchLabels ?? {});
    const list = await call(() => this.apps.listNamespacedReplicaSet({ namespace, labelSelector }));
    const uid = deployment.metadata?.uid;
    return list.items.filter((rs) =>
      rs.metadata?.ownerReferences?.some((o) => o.controller === true && o.uid === uid),
    );
  }
}

// ─── Mapping ─────────────────────────────────────────────────────────────────────────────────

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toKubeError(error);
  }
}

function deploymentState(deployment: V1Deployment): DeploymentState {
  // The API server omits zero counts, so every missing number is a 0.
  const status = deployment.status;
  const progressing = status?.conditions?.find((c) => c.type === "Progressing");
  return {
    replicas: deployment.spec?.replicas ?? 1,
    strategy: deployment.spec?.strategy?.type === "Recreate" ? "Recreate" : "RollingUpdate",
    progressDeadlineSeconds: deployment.spec?.progressDeadlineSeconds ?? 600,
    progressDeadlineExceeded:
      progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded",
    readyReplicas: status?.readyReplicas ?? 0,
    updatedReplicas: status?.updatedReplicas ?? 0,
    availableReplicas: status?.availableReplicas ?? 0,
    generation: deployment.metadata?.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    revision: revisionNumber(deployment.metadata?.annotations),
  };
}

function revisionNumber(annotations: Record<string, string> | undefined): number {
  return Number(annotations?.[REVISION_ANNOTATION] ?? "0") || 0;
}

function revisionOf(rs: V1ReplicaSet): ReplicaSetRevision {
  const template = rs.spec?.template ?? {};
  return {
    name: rs.metadata?.name ?? "",
    revision: revisionNumber(rs.metadata?.annotations),
    replicas: rs.status?.replicas ?? 0,
    readyReplicas: rs.status?.readyReplicas ?? 0,
    images: (template.spec?.containers ?? []).map((c) => c.image ?? ""),
    template,
  };
}

function withoutHashLabel(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const labels = { ...template.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH];
  return { ...template, metadata: { ...template.metadata, labels } };
}

/**
 * kubectl's undo patch: replace the whole pod template with the ReplicaSet's, and the deployment's
 * annotations with the ReplicaSet's (change-cause and the like), keeping the deployment's own
 * bookkeeping annotations.
 */
function undoPatch(
  template: V1PodTemplateSpec,
  current: Record<string, string> | undefined,
  fromReplicaSet: Record<string, string> | undefined,
): object[] {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(current ?? {}))
    if (ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  for (const [key, value] of Object.entries(fromReplicaSet ?? {}))
    if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  return [
    { op: "replace", path: "/spec/template", value: template },
    { op: "replace", path: "/metadata/annotations", value: annotations },
  ];
}

function podSummary(pod: V1Pod): PodSummary {
  const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const restarts = (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
  const created = pod.metadata?.creationTimestamp;
  const node = pod.spec?.nodeName;
  return {
    name: pod.metadata?.name ?? "",
    phase: pod.status?.phase ?? "Unknown",
    ready,
    restarts,
    labels: pod.metadata?.labels ?? {},
    ...(created === undefined ? {} : { createdAt: new Date(created).toISOString() }),
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    ...(node === undefined || node === "" ? {} : { nodeName: node }),
  };
}

function toKubeEvent(event: CoreV1Event): KubeEvent {
  const last = event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp;
  return {
    type: event.type ?? "Normal",
    reason: event.reason ?? "",
    message: event.message ?? "",
    ...(event.count === undefined ? {} : { count: event.count }),
    ...(last === undefined ? {} : { lastTimestamp: new Date(last).toISOString() }),
    involvedObject: { kind: event.involvedObject.kind ?? "", name: event.involvedObject.name ?? "" },
  };
}

function formatSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

/** JSON with sorted keys: kubectl compares templates semantically, not by key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

// The Kubernetes executors (the action list, domain/actions.ts): RESTART_POD (rollout restart), DELETE_POD (an eviction
// with a 30 s grace period, so PodDisruptionBudgets are honoured), SCALE_UP / SCALE_DOWN (scale
// subresource, within bounds, never against a HorizontalPodAutoscaler) and ROLLBACK (rollout undo).
// They share one params shape and one recovery test: the rollout is complete and every desired
// replica is ready. A deleted pod is not waited for: on a lost node it stays Terminating forever,
// and what matters is its replacement being Ready.
import { z } from "zod";
import { deploymentOfPod } from "../domain/scope.js";
import {
  type ExecutionResult,
  type Executor,
  type GuardVerdict,
  type PlannedCall,
  type VerifyResult,
  bindExecutor,
  type BoundExecutor,
  refusal,
  verdict,
} from "./executor.js";
import { KubeError } from "../gateways/kube-errors.js";
import type { DeploymentState, KubeGateway } from "../gateways/kube-gateway.js";

export interface KubeExecutorDeps {
  kube: KubeGateway;
  /** Replicas a scale-down must leave (AUTO_REPAIR_MIN_HEALTHY_REPLICAS). */
  minHealthyReplicas: number;
  /** Largest size a scale-up may reach. */
  maxReplicas: number;
}

const dns1123 = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: "must be a DNS-1123 label" });
const objectName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { error: "must be a DNS-1123 name" });

const DeploymentParams = z.strictObject({ namespace: dns1123, deployment: objectName });
type DeploymentParams = z.infer<typeof DeploymentParams>;
const PodParams = z.strictObject({ namespace: dns1123, pod: objectName });
type PodParams = z.infer<typeof PodParams>;

/** The deployment's state, or the guard's refusal when it does not exist. */
async function readDeployment(
  deps: KubeExecutorDeps,
  p: DeploymentParams,
): Promise<{ state: DeploymentState } | { refusal: GuardVerdict }> {
  try {
    return { state: await deps.kube.getDeployment(p.namespace, p.deployment) };
  } catch (error) {
    if (error instanceof KubeError && error.code === "not_found") {
      return {
        refusal: refusal("target_exists", {
          code: "deployment_missing",
          namespace: p.namespace,
          deployment: p.deployment,
        }),
      };
    }
    throw error;
  }
}

/**
 * Recovered once the rollout is complete and `replicas` are ready; failed once the Deployment's own
 * progress deadline passed (Progressing False, ProgressDeadlineExceeded); otherwise the caller's
 * deadline decides.
 */
async function rolledOut(
  kube: KubeGateway,
  namespace: string,
  deployment: string,
  replicas?: number,
): Promise<VerifyResult> {
  const state = await kube.getDeployment(namespace, deployment);
  if (state.progressDeadlineExceeded) {
    return verdict("failed", {
      code: "rollout_deadline",
      namespace,
      deployment,
      seconds: state.progressDeadlineSeconds,
    });
  }
  const want = replicas ?? state.replicas;
  const status = await kube.rolloutStatus(namespace, deployment);
  if (status.complete && state.readyReplicas >= want && state.replicas === want) {
    return verdict("recovered", {
      code: "rollout_complete",
      namespace,
      deployment,
      ready: state.readyReplicas,
      want,
    });
  }
  return verdict("pending", { code: "rollout_waiting", namespace, deployment, message: status.message });
}

function dryRun(calls: PlannedCall[], before: Record<string, unknown> = {}): ExecutionResult {
  return { changed: false, calls, before };
}

export const restartPod: Executor<DeploymentParams, KubeExecutorDeps> = {
  name: "RESTART_POD",
  description: "Rollout restart of the deployment (kubectl rollout restart): pods are replaced one by one.",
  params: DeploymentParams,
  async guard(deps, p) {
    const found = await readDeployment(deps, p);
    return "refusal" in found ? found.refusal : { ok: true };
  },
  plan: (p) => [
    {
      api: "kubernetes",
      method: "AppsV1Api.patchNamespacedDeployment",
      args: { ...p, patch: "spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]=<now>" },
    },
  ],
  async execute(deps, p, context) {
    const before = await deps.kube.getDeployment(p.namespace, p.deployment);
    if (context.dryRun) return dryRun(this.plan(p), { revision: before.revision });
    await deps.kube.restartDeployment(p.namespace, p.deployment, new Date());
    return { changed: true, calls: this.plan(p), before: { revision: before.revision } };
  },
  async verify(deps, p, result) {
    const state = await deps.kube.getDeployment(p.namespace, p.deployment);
    if (state.revision <= Number(result.before.revision ?? 0)) {
      return verdict("pending", { code: "revision_not_created" });
    }
    return rolledOut(deps.kube, p.namespace, p.deployment);
  },
};

export const deletePod: Executor<PodParams, KubeExecutorDeps> = {
  name: "DELETE_POD",
  description:
    "Evicts one pod (30 s grace period, PodDisruptionBudgets honoured); its deployment replaces it.",
  params: PodParams,
  async guard(deps, p) {
    const deployment = deploymentOfPod(p.pod);
    if (deployment === undefined) return refusal("owned_pod", { code: "pod_unowned", pod: p.pod });
    const pods = await deps.kube.listPods(p.namespace, {});
    const target = pods.find((pod) => pod.name === p.pod);
    if (target === undefined)
      return refusal("target_exists", { code: "pod_missing", namespace: p.namespace, pod: p.pod });
    if (target.terminating) {
      return refusal("not_terminating", { code: "pod_terminating", namespace: p.namespace, pod: p.pod });
    }
    // A ready pod taken away is a healthy replica less until its replacement is ready.
    if (target.ready) {
      const found = await readDeployment(deps, { namespace: p.namespace, deployment });
      if ("refusal" in found) return found.refusal;
      const left = found.state.readyReplicas - 1;
      if (left < deps.minHealthyReplicas) {
        return refusal("min_healthy_replicas", {
          code: "pod_last_ready",
          left,
          deployment,
          min: deps.minHealthyReplicas,
        });
      }
    }
    return { ok: true };
  },
  plan: (p) => [
    {
      api: "kubernetes",
      method: "CoreV1Api.createNamespacedPodEviction",
      args: { ...p, gracePeriodSeconds: 30 },
    },
  ],
  async execute(deps, p, context) {
    const deployment = deploymentOfPod(p.pod) ?? "";
    const state = await deps.kube.getDeployment(p.namespace, deployment);
    const pod = (await deps.kube.listPods(p.namespace, {})).find((candidate) => candidate.name === p.pod);
    const before = {
      deployment,
      replicas: state.replicas,
      ...(pod?.nodeName === undefined ? {} : { node: pod.nodeName }),
    };
    if (context.dryRun) return dryRun(this.plan(p), before);
    const evicted = await deps.kube.evictPod(p.namespace, p.pod, 30);
    if (evicted.outcome === "budget") {
      return {
        changed: false,
        calls: this.plan(p),
        before,
        notNow: { deployment, detail: evicted.detail },
      };
    }
    return { changed: true, calls: this.plan(p), before };
  },
  async verify(deps, p, result) {
    const pods = await deps.kube.listPods(p.namespace, {});
    const old = pods.find((pod) => pod.name === p.pod);
    if (old !== undefined && !old.terminating)
      return verdict("pending", { code: "pod_not_deleted", pod: p.pod });
    const rollout = await rolledOut(
      deps.kube,
      p.namespace,
      String(result.before.deployment),
      Number(result.before.replicas),
    );
    if (rollout.said.code !== "rollout_complete" || old === undefined) return rollout;
    // Recovered with the old pod still Terminating: say why, so nobody waits for it.
    const node = old.nodeName === undefined ? undefined : await deps.kube.nodeHealth(old.nodeName);
    return verdict("recovered", {
      ...rollout.said,
      code: "pod_left_terminating",
      pod: p.pod,
      node: node === undefined ? "" : (old.nodeName ?? ""),
      state: node?.state ?? "",
      reason: node?.state === "not_ready" ? node.reason : "",
    });
  },
};

function scaleExecutor(
  name: "SCALE_UP" | "SCALE_DOWN",
  step: 1 | -1,
): Executor<DeploymentParams, KubeExecutorDeps> {
  const target = (current: number) => current + step;
  return {
    name,
    description:
      step > 0
        ? "Adds one replica (scale subresource)."
        : "Removes one replica, keeping the minimum healthy.",
    params: DeploymentParams,
    async guard(deps, p) {
      const found = await readDeployment(deps, p);
      if ("refusal" in found) return found.refusal;
      // An autoscaler puts its own count back within seconds: a manual scale would only look done.
      const hpa = await deps.kube.autoscalerOf(p.namespace, p.deployment);
      if (hpa !== undefined) {
        return refusal("hpa_owned", {
          code: "hpa_owned",
          hpa: hpa.name,
          namespace: p.namespace,
          deployment: p.deployment,
          min: hpa.minReplicas,
          max: hpa.maxReplicas,
        });
      }
      const next = target(found.state.replicas);
      if (next > deps.maxReplicas)
        return refusal("max_replicas", { code: "scale_above_max", replicas: next, max: deps.maxReplicas });
      if (next < deps.minHealthyReplicas) {
        return refusal("min_healthy_replicas", {
          code: "scale_below_min",
          replicas: next,
          min: deps.minHealthyReplicas,
        });
      }
      return { ok: true };
    },
    plan: (p) => [
      {
        api: "kubernetes",
        method: "AppsV1Api.patchNamespacedDeploymentScale",
        args: { ...p, replicas: `current ${step > 0 ? "+" : "-"} 1` },
      },
    ],
    async execute(deps, p, context) {
      const state = await deps.kube.getDeployment(p.namespace, p.deployment);
      const replicas = target(state.replicas);
      const calls = [
        { api: "kubernetes", method: "AppsV1Api.patchNamespacedDeploymentScale", args: { ...p, replicas } },
      ];
      if (context.dryRun) return dryRun(calls, { replicas: state.replicas });
      await deps.kube.scaleDeployment(p.namespace, p.deployment, replicas);
      return { changed: true, calls, before: { replicas: state.replicas }, detail: { replicas } };
    },
    verify: (deps, p, result) =>
      rolledOut(deps.kube, p.namespace, p.deployment, target(Number(result.before.replicas))),
  };
}

export const scaleUp = scaleExecutor("SCALE_UP", 1);
export const scaleDown = scaleExecutor("SCALE_DOWN", -1);

export const rollback: Executor<DeploymentParams, KubeExecutorDeps> = {
  name: "ROLLBACK",
  description: "Rollout undo to the previous ReplicaSet revision, the way kubectl does it.",
  params: DeploymentParams,
  async guard(deps, p) {
    const found = await readDeployment(deps, p);
    if ("refusal" in found) return found.refusal;
    const revisions = await deps.kube.replicaSetRevisions(p.namespace, p.deployment);
    return revisions.length >= 2
      ? { ok: true }
      : refusal("previous_revision", { code: "no_earlier_revision" });
  },
  plan: (p) => [
    {
      api: "kubernetes",
      method: "AppsV1Api.patchNamespacedDeployment",
      args: { ...p, patch: "spec.template=<previous ReplicaSet's template>" },
    },
  ],
  async execute(deps, p, context) {
    const before = await deps.kube.getDeployment(p.namespace, p.deployment);
    if (context.dryRun) return dryRun(this.plan(p), { revision: before.revision });
    const result = await deps.kube.rollbackDeployment(p.namespace, p.deployment);
    return {
      changed: result.changed,
      calls: this.plan(p),
      before: { revision: before.revision },
      detail: { fromRevision: result.fromRevision, toRevision: result.toRevision },
    };
  },
  verify: (deps, p) => rolledOut(deps.kube, p.namespace, p.deployment),
};

export const KUBERNETES_EXECUTORS = [restartPod, deletePod, scaleUp, scaleDown, rollback];

/** The Kubernetes executors bound to one cluster. */
export function bindKubernetesExecutors(deps: KubeExecutorDeps): BoundExecutor[] {
  return [
    bindExecutor(restartPod, deps),
    bindExecutor(deletePod, deps),
    bindExecutor(scaleUp, deps),
    bindExecutor(scaleDown, deps),
    bindExecutor(rollback, deps),
  ];
}

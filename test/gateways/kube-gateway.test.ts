// The production KubeGateway, through the real @kubernetes/client-node, against the Kubernetes API
// emulator: every call below crosses HTTP with the library's own paths, content types and errors.
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ClusterKubeGateway,
  KubeError,
  RESTARTED_AT_ANNOTATION,
  toKubeError,
  type KubeGateway,
} from "../../gateways/kube-gateway.js";
import { KubernetesSource } from "../../registry/sources/kubernetes.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";

const NS = "awoooi-prod";

let kube: KubeEmulator;
let gateway: KubeGateway;

beforeEach(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 40 });
  kube.seedDeployment({ namespace: NS, name: "api", replicas: 2, image: "registry.local/api:1.0" });
  gateway = ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath);
});

afterEach(async () => {
  await kube.close();
});

/** Polls like `kubectl rollout status` does, failing the test if it takes longer than `ms`. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 3_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not done after ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const complete = () => eventually(() => gateway.rolloutComplete(NS, "api"), Boolean);

async function rejection(promise: Promise<unknown>): Promise<KubeError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(KubeError);
  return error as KubeError;
}

describe("reads", () => {
  it("reads a seeded deployment as rolled out at revision 1", async () => {
    expect(await gateway.getDeployment(NS, "api")).toEqual({
      replicas: 2,
      strategy: "RollingUpdate",
      progressDeadlineSeconds: 600,
      progressDeadlineExceeded: false,
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      generation: 1,
      observedGeneration: 1,
      revision: 1,
    });
    expect(await gateway.rolloutComplete(NS, "api")).toBe(true);
    const pods = await gateway.listPods(NS, { app: "api" });
    expect(pods).toHaveLength(2);
    expect(pods.every((pod) => pod.ready && pod.phase === "Running" && pod.restarts === 0)).toBe(true);
  });

  it("lists deployments and statefulsets of every namespace for the registry coverage", async () => {
    kube.seedDeployment({ namespace: "monitoring", name: "grafana" });
    kube.seedStatefulSet({ namespace: NS, name: "postgres" });
    const things = await new KubernetesSource(kube.kubeconfigPath).list();
    expect(things.map((t) => `${t.kind}/${t.namespace}/${t.name}`).sort()).toEqual([
      "Deployment/awoooi-prod/api",
      "Deployment/monitoring/grafana",
      "StatefulSet/awoooi-prod/postgres",
    ]);
  });

  it("answers a missing deployment with a coded not_found carrying the API server's message", async () => {
    const error = await rejection(gateway.getDeployment(NS, "nope"));
    expect(error.code).toBe("not_found");
    expect(error.status).toBe(404);
    expect(error.message).toBe('deployments.apps "nope" not found');
  });

  it("is refused without the bearer token", async () => {
    const anonymous = ClusterKubeGateway.fromKubeconfig(await kube.writeKubeconfig(undefined));
    const error = await rejection(anonymous.getDeployment(NS, "api"));
    expect(error.code).toBe("unauthorized");
    expect(kube.requests.at(-1)?.status).toBe(401);
  });
});

describe("restart", () => {
  it("patches restartedAt into the pod template, which rolls out a new ReplicaSet at revision 2", async () => {
    const before = new Set(kube.podNames(NS, "api"));
    const patched = await gateway.restartDeployment(NS, "api", new Date("2025-01-02T03:04:05.678Z"));
    expect(patched.generation).toBe(2);

    const patch = kube.requests.find((r) => r.method === "PATCH");
    expect(patch?.contentType).toBe("application/strategic-merge-patch+json");
    expect(patch?.body).toEqual({
      spec: {
        template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: "2025-01-02T03:04:05Z" } } },
      },
    });

    await complete();
    const state = await gateway.getDeployment(NS, "api");
    expect(state).toMatchObject({ revision: 2, observedGeneration: 2, readyReplicas: 2, updatedReplicas: 2 });
    const [current, old] = await gateway.replicaSetRevisions(NS, "api");
    expect(current).toMatchObject({ revision: 2, replicas: 2, readyReplicas: 2 });
    expect(current?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe("2025-01-02T03:04:05Z");
    expect(old).toMatchObject({ revision: 1, replicas: 0 });
    const after = kube.podNames(NS, "api");
    expect(after).toHaveLength(2);
    expect(after.some((name) => before.has(name))).toBe(false);
  });

  it("is not complete until the new pods are ready", async () => {
    // long enough that a busy machine still reads the status before the new pods are Ready
    kube.podReadyDelayMs = 1_000;
    await gateway.restartDeployment(NS, "api", new Date());
    await eventually(
      () => gateway.getDeployment(NS, "api"),
      (s) => s.observedGeneration === 2,
    );
    const status = await gateway.rolloutStatus(NS, "api");
    expect(status.complete).toBe(false);
    expect(status.message).toMatch(/Waiting for deployment "api" rollout to finish/);
    await complete();
  });
});

describe("scale", () => {
  it("scales up and down through the scale subresource", async () => {
    expect(await gateway.scaleDeployment(NS, "api", 3)).toEqual({ previous: 2, replicas: 3 });
    expect(kube.requests.find((r) => r.method === "PATCH")?.path).toBe(
      `/apis/apps/v1/namespaces/${NS}/deployments/api/scale`,
    );
    await complete();
    expect(await gateway.listPods(NS, "app=api")).toHaveLength(3);

    expect(await gateway.scaleDeployment(NS, "api", 1)).toEqual({ previous: 3, replicas: 1 });
    await complete();
    expect(await gateway.getDeployment(NS, "api")).toMatchObject({
      replicas: 1,
      readyReplicas: 1,
      revision: 1,
    });
    // the scaled-down pods may still be Terminating (their grace period), as kubectl shows them
    await eventually(
      () => gateway.listPods(NS, "app=api"),
      (pods) => pods.filter((pod) => !pod.terminating).length === 1,
    );
  });

  it("gets 422 Invalid for a negative replica count", async () => {
    const error = await rejection(gateway.scaleDeployment(NS, "api", -1));
    expect(error.code).toBe("invalid");
    expect(error.status).toBe(422);
    expect(error.message).toContain("spec.replicas");
    expect((await gateway.getDeployment(NS, "api")).replicas).toBe(2);
  });

  it("gets 409 Conflict when writing the scale with a stale resourceVersion", async () => {
    const apps = configFor(kube).makeApiClient(AppsV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name: "api", namespace: NS });
    await gateway.scaleDeployment(NS, "api", 3);
    const error = toKubeError(
      await apps.replaceNamespacedDeploymentScale({ name: "api", namespace: NS, body: scale }).then(
        () => undefined,
        (reason: unknown) => reason,
      ),
    );
    expect(error.code).toBe("conflict");
    expect(error.message).toContain("the object has been modified");
  });
});

describe("evict pod", () => {
  it("evicts with a 30 s grace period; the pod stays Terminating while the ReplicaSet replaces it", async () => {
    const [victim, survivor] = kube.podNames(NS, "api");
    if (victim === undefined || survivor === undefined) throw new Error("seeded pods missing");
    expect(await gateway.evictPod(NS, victim)).toEqual({ outcome: "evicted" });
    expect(kube.deletions).toEqual([{ namespace: NS, name: victim, gracePeriodSeconds: 30, eviction: true }]);
    expect(kube.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/api/v1/namespaces/${NS}/pods/${victim}/eviction`,
      status: 201,
    });

    const pods = await eventually(
      () => gateway.listPods(NS, { app: "api" }),
      (list) => list.filter((pod) => !pod.terminating && pod.ready).length === 2,
    );
    const names = pods.filter((pod) => !pod.terminating).map((pod) => pod.name);
    expect(names).toContain(survivor);
    expect(names).not.toContain(victim);
    expect((await gateway.getDeployment(NS, "api")).revision).toBe(1);
  });

  it("answers a PodDisruptionBudget's refusal as an outcome naming the budget", async () => {
    kube.seedPodDisruptionBudget({
      namespace: NS,
      name: "api-pdb",
      matchLabels: { app: "api" },
      minAvailable: 2,
    });
    const [victim = ""] = kube.podNames(NS, "api");
    expect(await gateway.evictPod(NS, victim)).toEqual({
      outcome: "budget",
      detail: "The disruption budget api-pdb needs 2 healthy pods and has 2 currently",
    });
    expect(kube.pod(NS, victim)?.metadata.deletionTimestamp).toBeUndefined();
  });

  it("answers a missing pod with not_found", async () => {
    expect((await rejection(gateway.evictPod(NS, "api-gone"))).code).toBe("not_found");
  });

  it("knows a node that is ready, lost or gone", async () => {
    kube.addNode("node-b");
    kube.addNode("node-c");
    kube.loseNode("node-b");
    kube.removeNode("node-c");
    expect(await gateway.nodeHealth("emulator-node")).toEqual({ state: "ready" });
    expect(await gateway.nodeHealth("node-b")).toEqual({
      state: "not_ready",
      reason: "Ready=Unknown (NodeStatusUnknown)",
    });
    expect(await gateway.nodeHealth("node-c")).toEqual({ state: "missing" });
  });

  it("reads the autoscaler that owns a deployment, the strategy and the progress deadline", async () => {
    kube.seedDeployment({ namespace: NS, name: "batch", strategy: "Recreate", progressDeadlineSeconds: 120 });
    kube.seedHorizontalPodAutoscaler({
      namespace: NS,
      name: "api-hpa",
      deployment: "api",
      minReplicas: 2,
      maxReplicas: 5,
    });
    expect(await gateway.autoscalerOf(NS, "api")).toEqual({
      name: "api-hpa",
      minReplicas: 2,
      maxReplicas: 5,
    });
    expect(await gateway.autoscalerOf(NS, "batch")).toBeUndefined();
    expect(await gateway.getDeployment(NS, "batch")).toMatchObject({
      strategy: "Recreate",
      progressDeadlineSeconds: 120,
      progressDeadlineExceeded: false,
    });
  });

  it("carries the verb and resource of a 403", async () => {
    const token = kube.grant({ namespace: "chatops", name: "chatops-bot", roles: {} });
    const config = new KubeConfig();
    config.loadFromFile(await kube.writeKubeconfig(token));
    const error = await rejection(new ClusterKubeGateway(config).evictPod(NS, "api-x"));
    expect(error.code).toBe("forbidden");
    expect(error.forbidden).toEqual({
      user: "system:serviceaccount:chatops:chatops-bot",
      verb: "create",
      resource: "pods/eviction",
      apiGroup: "",
      namespace: NS,
    });
  });
});

describe("logs and events", () => {
  it("reads the tail of a pod's log and the previous container's log", async () => {
    const [pod = ""] = kube.podNames(NS, "api");
    kube.setLogs(NS, pod, "boot\nlistening\npanic: nil map\n");
    kube.setLogs(NS, pod, "died before\n", { previous: true });
    expect(await gateway.podLogs(NS, pod, { tailLines: 2 })).toBe("listening\npanic: nil map\n");
    expect(await gateway.podLogs(NS, pod, { tailLines: 10, previous: true, container: "app" })).toBe(
      "died before\n",
    );
    const request = kube.requests.at(-1);
    expect(request?.path).toBe(`/api/v1/namespaces/${NS}/pods/${pod}/log`);
    expect(request?.query).toMatchObject({ tailLines: "10", previous: "true", container: "app" });
  });

  it("refuses the log of a container the pod does not have", async () => {
    const [pod = ""] = kube.podNames(NS, "api");
    const error = await rejection(gateway.podLogs(NS, pod, { tailLines: 5, container: "sidecar" }));
    expect(error.status).toBe(400);
    expect(error.message).toContain("container sidecar is not valid");
  });

  it("lists the events of one object by field selector", async () => {
    kube.addEvent({
      namespace: NS,
      involvedObject: { kind: "Pod", name: "api-x" },
      reason: "OOMKilled",
      message: "container app used 512Mi",
      type: "Warning",
      count: 4,
      lastTimestamp: "2025-01-01T00:00:00.000Z",
    });
    kube.addEvent({
      namespace: NS,
      involvedObject: { kind: "Pod", name: "other" },
      reason: "Pulled",
      message: "x",
    });
    expect(await gateway.events(NS, "api-x")).toEqual([
      {
        type: "Warning",
        reason: "OOMKilled",
        message: "container app used 512Mi",
        count: 4,
        lastTimestamp: "2025-01-01T00:00:00.000Z",
        involvedObject: { kind: "Pod", name: "api-x" },
      },
    ]);
    expect(kube.requests.at(-1)?.query.fieldSelector).toBe("involvedObject.name=api-x");
    await gateway.scaleDeployment(NS, "api", 3);
    const scaling = await eventually(
      () => gateway.events(NS, "api"),
      // the controller may still report the deployment's first rollout (to 2) before this one
      (events) => events.some((e) => e.reason === "ScalingReplicaSet" && e.message.endsWith(" to 3")),
    );
    expect(scaling.filter((e) => e.reason === "ScalingReplicaSet").at(-1)?.message).toMatch(
      /^Scaled up replica set api-\w+ to 3$/,
    );
  });
});

describe("rollback", () => {
  it("puts the previous revision's template back; the controller reuses its ReplicaSet at a new revision", async () => {
    const [original] = await gateway.replicaSetRevisions(NS, "api");
    await gateway.restartDeployment(NS, "api", new Date());
    await complete();

    const result = await gateway.rollbackDeployment(NS, "api");
    expect(result).toMatchObject({
      changed: true,
      fromRevision: 2,
      toRevision: 1,
      replicaSet: original?.name,
    });
    expect(result.template.metadata?.labels).toEqual({ app: "api" });
    expect(result.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBeUndefined();
    const undo = kube.requests.filter((r) => r.method === "PATCH").at(-1);
    expect(undo?.contentType).toBe("application/json-patch+json");

    await complete();
    expect((await gateway.getDeployment(NS, "api")).revision).toBe(3);
    const revisions = await gateway.replicaSetRevisions(NS, "api");
    expect(revisions.map((r) => [r.name, r.revision, r.replicas])).toEqual([
      [original?.name, 3, 2],
      [expect.any(String), 2, 0],
    ]);
    expect(revisions[0]?.images).toEqual(["registry.local/api:1.0"]);
  });

  it("has nothing to roll back to with a single revision", async () => {
    expect((await rejection(gateway.rollbackDeployment(NS, "api"))).code).toBe("no_history");
  });
});

describe("a failed rollout", () => {
  it("never completes while the old pods keep serving, and rolling back recovers", async () => {
    kube.failNewPods(NS, "api");
    await gateway.restartDeployment(NS, "api", new Date());
    const crashing = await eventually(
      () => gateway.listPods(NS, { app: "api" }),
      (pods) => pods.filter((pod) => pod.restarts > 0).length === 2,
    );
    expect(crashing).toHaveLength(4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await gateway.rolloutComplete(NS, "api")).toBe(false);
    expect(await gateway.getDeployment(NS, "api")).toMatchObject({ revision: 2, readyReplicas: 2 });
    expect(
      (await gateway.events(NS, crashing.find((p) => !p.ready)?.name ?? "")).map((e) => e.reason),
    ).toContain("BackOff");

    expect((await gateway.rollbackDeployment(NS, "api")).toRevision).toBe(1);
    await complete();
    const pods = await gateway.listPods(NS, { app: "api" });
    expect(pods.filter((pod) => !pod.terminating).map((pod) => pod.ready)).toEqual([true, true]);
  });
});

function configFor(emulator: KubeEmulator): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(emulator.kubeconfigPath);
  return config;
}

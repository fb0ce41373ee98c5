// The Kubernetes API emulator's own behaviour on the days a real cluster is unkind: RBAC refusals,
// HTTPS with a cluster CA, Terminating pods and a node that never confirms, PodDisruptionBudgets and
// the Eviction API, the Recreate strategy, HorizontalPodAutoscalers and the progress deadline. Each is
// driven through the real @kubernetes/client-node, so the wire shapes are the ones the bot meets.
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { startKubeEmulator, type KubeEmulator, type PolicyRule } from "../../dev/emulators/kubernetes.js";

const NS = "shop";
let kube: KubeEmulator | undefined;

afterEach(async () => {
  await kube?.close();
  kube = undefined;
});

async function start(options: Parameters<typeof startKubeEmulator>[0] = {}): Promise<KubeEmulator> {
  kube = await startKubeEmulator({ podReadyDelayMs: 60, podTerminationDelayMs: 30, ...options });
  return kube;
}

function clients(config: KubeConfig) {
  return {
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    autoscaling: config.makeApiClient(AutoscalingV2Api),
  };
}

function asAdmin(emulator: KubeEmulator) {
  const config = new KubeConfig();
  config.loadFromFile(emulator.kubeconfigPath);
  return clients(config);
}

async function as(emulator: KubeEmulator, token: string) {
  const config = new KubeConfig();
  config.loadFromFile(await emulator.writeKubeconfig(token));
  return clients(config);
}

/** The API server's Status body of a refused call. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  const error: unknown = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiException);
  const exception = error as ApiException<unknown>;
  const body = typeof exception.body === "string" ? (JSON.parse(exception.body) as unknown) : exception.body;
  return { code: exception.code, body: (body ?? {}) as Record<string, unknown> };
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

const eviction = (name: string) => ({
  name,
  namespace: NS,
  body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: NS } },
});

describe("RBAC", () => {
  const readPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] };

  it("allows exactly the granted verbs and refuses the rest with the API server's 403", async () => {
    const emulator = await start();
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 1 });
    const token = emulator.grant({
      namespace: "chatops",
      name: "chatops-bot",
      roles: { [NS]: [readPods] },
      clusterRules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }],
    });
    const bot = await as(emulator, token);
    const [pod = ""] = emulator.podNames(NS, "web");

    expect((await bot.core.listNamespacedPod({ namespace: NS })).items).toHaveLength(1);
    expect((await bot.core.readNode({ name: "emulator-node" })).metadata?.name).toBe("emulator-node");

    const deleted = await refusal(bot.core.deleteNamespacedPod({ name: pod, namespace: NS }));
    expect(deleted.code).toBe(403);
    expect(deleted.body).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "Forbidden",
      code: 403,
      details: { name: pod, kind: "pods" },
      message: `pods "${pod}" is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot delete resource "pods" in API group "" in the namespace "${NS}"`,
    });
    // a subresource is its own permission: reading pods does not allow evicting them
    const evicted = await refusal(bot.core.createNamespacedPodEviction(eviction(pod)));
    expect(evicted.body.message).toBe(
      `pods "${pod}" is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot create resource "pods/eviction" in API group "" in the namespace "${NS}"`,
    );
    const scaled = await refusal(
      bot.apps.patchNamespacedDeploymentScale(
        { name: "web", namespace: NS, body: { spec: { replicas: 2 } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    expect(scaled.body.message).toBe(
      `deployments.apps "web" is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot patch resource "deployments/scale" in API group "apps" in the namespace "${NS}"`,
    );
    expect(scaled.body.details).toEqual({ name: "web", group: "apps", kind: "deployments" });
    // a Role is per namespace; a list names no object
    const elsewhere = await refusal(bot.core.listNamespacedPod({ namespace: "kube-system" }));
    expect(elsewhere.body.message).toBe(
      `pods is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot list resource "pods" in API group "" in the namespace "kube-system"`,
    );
    const nodes = await refusal(bot.core.listNode());
    expect(nodes.body.message).toBe(
      `nodes is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot list resource "nodes" in API group "" at the cluster scope`,
    );
    expect(emulator.requests.at(-1)).toMatchObject({
      user: "system:serviceaccount:chatops:chatops-bot",
      attributes: { verb: "list", apiGroup: "", resource: "nodes" },
      status: 403,
    });
  });

  it("answers 401 to a token it does not know", async () => {
    const emulator = await start();
    const stranger = await as(emulator, "not-a-token");
    expect((await refusal(stranger.core.listNamespacedPod({ namespace: NS }))).code).toBe(401);
  });
});

describe("HTTPS with a cluster CA", () => {
  it("serves TLS that a client trusting the CA accepts and one without it refuses", async () => {
    const emulator = await start({ tls: true });
    expect(emulator.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    emulator.seedDeployment({ namespace: NS, name: "web" });
    expect((await asAdmin(emulator).apps.readNamespacedDeployment({ name: "web", namespace: NS })).kind).toBe(
      "Deployment",
    );

    const untrusting = new KubeConfig();
    untrusting.loadFromClusterAndUser(
      { name: "c", server: emulator.baseUrl, skipTLSVerify: false },
      { name: "u", token: emulator.token },
    );
    const error: unknown = await clients(untrusting)
      .apps.readNamespacedDeployment({ name: "web", namespace: NS })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(String((error as Error | undefined)?.message)).toMatch(/certificate/i);
  });

  it("writes a service-account directory as a pod sees it", async () => {
    const emulator = await start({ tls: true });
    const token = emulator.grant({ namespace: "chatops", name: "chatops-bot", roles: {} });
    const dir = await emulator.writeServiceAccountDir(token, "chatops");
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(`${dir}/token`, "utf8")).toBe(token);
    expect(await readFile(`${dir}/namespace`, "utf8")).toBe("chatops");
    expect(await readFile(`${dir}/ca.crt`, "utf8")).toContain("BEGIN CERTIFICATE");
  });
});

describe("Terminating pods", () => {
  it("keeps a deleted pod Terminating for its grace period while the ReplicaSet replaces it", async () => {
    const emulator = await start({ podTerminationDelayMs: 150 });
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 2 });
    const { core } = asAdmin(emulator);
    const [victim = ""] = emulator.podNames(NS, "web");
    const before = Date.now();
    const answer = await core.deleteNamespacedPod({ name: victim, namespace: NS });
    expect(answer.metadata?.deletionGracePeriodSeconds).toBe(30);
    const at = Date.parse(answer.metadata?.deletionTimestamp?.toISOString() ?? "");
    expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 29_000);

    const listed = await core.readNamespacedPod({ name: victim, namespace: NS });
    expect(listed.metadata?.deletionTimestamp).toBeDefined();
    expect(isReady(listed)).toBe(false);
    // the replacement does not wait for the old pod to go
    await expect.poll(() => emulator.podNames(NS, "web").length).toBe(2);
    expect(emulator.podNames(NS, "web")).not.toContain(victim);
    // the kubelet confirms, and the object goes
    await expect.poll(() => emulator.pod(NS, victim)).toBeUndefined();
  });

  it("never confirms a deletion on a lost node; the replacement still becomes Ready; --force removes it", async () => {
    const emulator = await start();
    emulator.addNode("node-b");
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 2 });
    const { core } = asAdmin(emulator);
    const pods = (await core.listNamespacedPod({ namespace: NS })).items;
    expect(new Set(pods.map((pod) => pod.spec?.nodeName))).toEqual(new Set(["emulator-node", "node-b"]));
    const stuck = pods.find((pod) => pod.spec?.nodeName === "node-b")?.metadata?.name ?? "";
    const healthy = pods.find((pod) => pod.spec?.nodeName === "emulator-node")?.metadata?.name ?? "";

    emulator.loseNode("node-b");
    const node = await core.readNode({ name: "node-b" });
    expect(node.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusUnknown",
    });
    expect(isReady(await core.readNamespacedPod({ name: stuck, namespace: NS }))).toBe(false);
    // not replaced while it exists: the ReplicaSet still counts it
    expect(emulator.podNames(NS, "web")).toContain(stuck);

    await core.deleteNamespacedPod({ name: stuck, namespace: NS });
    await expect
      .poll(async () => {
        const live = (await core.listNamespacedPod({ namespace: NS })).items.filter(
          (pod) => pod.metadata?.deletionTimestamp === undefined,
        );
        return live.filter(isReady).map((pod) => pod.spec?.nodeName);
      })
      .toEqual(["emulator-node", "emulator-node"]);
    // a pod deleted on a healthy node is confirmed meanwhile; the one on the lost node is not
    await core.deleteNamespacedPod({ name: healthy, namespace: NS });
    await expect.poll(() => emulator.pod(NS, healthy)).toBeUndefined();
    expect(emulator.pod(NS, stuck)?.metadata.deletionTimestamp).toBeDefined();

    await core.deleteNamespacedPod({ name: stuck, namespace: NS, gracePeriodSeconds: 0 });
    expect(emulator.pod(NS, stuck)).toBeUndefined();
  });

  it("answers 404 for a node that was removed", async () => {
    const emulator = await start();
    emulator.addNode("node-b");
    emulator.removeNode("node-b");
    expect((await refusal(asAdmin(emulator).core.readNode({ name: "node-b" }))).code).toBe(404);
  });
});

describe("PodDisruptionBudgets and the Eviction API", () => {
  it("evicts while the budget allows a disruption, then refuses with 429 and the budget's cause", async () => {
    // replacements take 5 s to be Ready, and evicted pods stay Terminating through the test
    const emulator = await start({ podReadyDelayMs: 5_000, podTerminationDelayMs: 60_000 });
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 2 });
    emulator.seedPodDisruptionBudget({
      namespace: NS,
      name: "web-pdb",
      matchLabels: { app: "web" },
      minAvailable: 1,
    });
    const { core, policy } = asAdmin(emulator);
    const [first = "", second = ""] = emulator.podNames(NS, "web");

    const budget = await policy.readNamespacedPodDisruptionBudget({ name: "web-pdb", namespace: NS });
    expect(budget.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 });

    await core.createNamespacedPodEviction(eviction(first));
    expect(emulator.pod(NS, first)?.metadata.deletionTimestamp).toBeDefined();
    expect(emulator.deletions.at(-1)).toMatchObject({ name: first, eviction: true });

    // the replacement is not Ready yet (5 s): one healthy pod left, none may go
    const refused = await refusal(core.createNamespacedPodEviction(eviction(second)));
    expect(refused.code).toBe(429);
    expect(refused.body).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "TooManyRequests",
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [
          {
            reason: "DisruptionBudget",
            message: "The disruption budget web-pdb needs 1 healthy pods and has 1 currently",
          },
        ],
      },
    });
    expect(emulator.pod(NS, second)?.metadata.deletionTimestamp).toBeUndefined();
    // a pod that is already Terminating may be evicted again: budgets are not consulted
    await core.createNamespacedPodEviction(eviction(first));
  });

  it("lets an unhealthy pod go only when the budget is healthy, unless the policy is AlwaysAllow", async () => {
    const emulator = await start();
    emulator.addNode("node-b");
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 2 });
    emulator.seedPodDisruptionBudget({
      namespace: NS,
      name: "web-pdb",
      matchLabels: { app: "web" },
      minAvailable: 2,
    });
    const { core } = asAdmin(emulator);
    emulator.loseNode("node-b");
    const pods = (await core.listNamespacedPod({ namespace: NS })).items;
    const unready = pods.find((pod) => pod.spec?.nodeName === "node-b")?.metadata?.name ?? "";
    // 1 healthy of 2 desired: the budget is not healthy, the unready pod stays
    expect((await refusal(core.createNamespacedPodEviction(eviction(unready)))).code).toBe(429);

    emulator.seedPodDisruptionBudget({
      namespace: NS,
      name: "web-pdb",
      matchLabels: { app: "web" },
      minAvailable: 2,
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
    await core.createNamespacedPodEviction(eviction(unready));
    expect(emulator.pod(NS, unready)?.metadata.deletionTimestamp).toBeDefined();
  });

  it("refuses an Eviction whose name is not the URL's", async () => {
    const emulator = await start();
    emulator.seedDeployment({ namespace: NS, name: "web" });
    const [pod = ""] = emulator.podNames(NS, "web");
    const wrong = {
      ...eviction(pod),
      body: { ...eviction(pod).body, metadata: { name: "other", namespace: NS } },
    };
    expect((await refusal(asAdmin(emulator).core.createNamespacedPodEviction(wrong))).code).toBe(400);
  });
});

describe("Deployment strategy Recreate", () => {
  it("stops every old pod before the first new one is created", async () => {
    // old pods take 400 ms to stop: long enough for the first look to see them
    const emulator = await start({ podReadyDelayMs: 40, podTerminationDelayMs: 400 });
    emulator.seedDeployment({ namespace: NS, name: "db-admin", replicas: 2, strategy: "Recreate" });
    const { apps, core } = asAdmin(emulator);
    const deployment = await apps.readNamespacedDeployment({ name: "db-admin", namespace: NS });
    expect(deployment.spec?.strategy?.type).toBe("Recreate");
    const old = new Set(emulator.podNames(NS, "db-admin"));
    await apps.patchNamespacedDeployment(
      {
        name: "db-admin",
        namespace: NS,
        body: { spec: { template: { metadata: { annotations: { restart: "1" } } } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    // Watch the pods until two new ones are Ready: old and new never exist together.
    const seen: { old: number; fresh: number; ready: number }[] = [];
    await expect
      .poll(
        async () => {
          const pods = (await core.listNamespacedPod({ namespace: NS })).items;
          const names = pods.map((pod) => pod.metadata?.name ?? "");
          const state = {
            old: names.filter((name) => old.has(name)).length,
            fresh: names.filter((name) => !old.has(name)).length,
            ready: pods.filter((pod) => !old.has(pod.metadata?.name ?? "") && isReady(pod)).length,
          };
          seen.push(state);
          return state.ready;
        },
        { interval: 5 },
      )
      .toBe(2);
    expect(seen.filter((state) => state.old > 0 && state.fresh > 0)).toEqual([]);
    expect(seen.some((state) => state.old > 0)).toBe(true);
  });
});

describe("HorizontalPodAutoscaler", () => {
  it("serves autoscaling/v2 objects and puts a manually scaled target back", async () => {
    const emulator = await start({ hpaSyncMs: 50 });
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 3 });
    emulator.seedHorizontalPodAutoscaler({
      namespace: NS,
      name: "web",
      deployment: "web",
      minReplicas: 2,
      maxReplicas: 6,
    });
    const { apps, autoscaling, core } = asAdmin(emulator);
    const [hpa] = (await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: NS })).items;
    expect(hpa?.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    expect(hpa?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });

    await apps.patchNamespacedDeploymentScale(
      { name: "web", namespace: NS, body: { spec: { replicas: 1 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await expect
      .poll(async () => (await apps.readNamespacedDeployment({ name: "web", namespace: NS })).spec?.replicas)
      .toBe(3);
    const events = (await core.listNamespacedEvent({ namespace: NS })).items;
    expect(
      events.some(
        (event) =>
          event.reason === "SuccessfulRescale" && event.involvedObject.kind === "HorizontalPodAutoscaler",
      ),
    ).toBe(true);
  });
});

describe("progressDeadlineSeconds", () => {
  it("marks a stuck rollout Progressing False with ProgressDeadlineExceeded", async () => {
    const emulator = await start({ podReadyDelayMs: 20 });
    emulator.seedDeployment({ namespace: NS, name: "web", replicas: 1, progressDeadlineSeconds: 1 });
    emulator.failNewPods(NS, "web");
    const { apps } = asAdmin(emulator);
    expect(
      (await apps.readNamespacedDeployment({ name: "web", namespace: NS })).spec?.progressDeadlineSeconds,
    ).toBe(1);
    await apps.patchNamespacedDeployment(
      {
        name: "web",
        namespace: NS,
        body: {
          spec: { template: { spec: { containers: [{ name: "app", image: "registry.local/app:bad" }] } } },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    const progressing = async () =>
      (await apps.readNamespacedDeployment({ name: "web", namespace: NS })).status?.conditions?.find(
        (c) => c.type === "Progressing",
      );
    expect(await progressing()).toMatchObject({ status: "True" });
    // the deadline is one emulated second, as on a real server
    await expect.poll(progressing, { timeout: 4_000 }).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
    });
    expect((await progressing())?.message).toMatch(/^ReplicaSet "web-\w+" has timed out progressing\.$/);
  });
});

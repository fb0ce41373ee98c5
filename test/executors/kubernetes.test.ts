// The Kubernetes executors against the emulator, through the real client-node gateway.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutionResult } from "../../executors/executor.js";
import { ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import {
  deletePod,
  restartPod,
  rollback,
  scaleDown,
  scaleUp,
  type KubeExecutorDeps,
} from "../../executors/kubernetes.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";

let kube: KubeEmulator;
let deps: KubeExecutorDeps;
const ns = "awoooi-prod";

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 20 });
  deps = {
    kube: ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath),
    minHealthyReplicas: 1,
    maxReplicas: 3,
  };
});
afterAll(async () => {
  await kube.close();
});

async function until(check: () => Promise<{ outcome: string }>, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { outcome } = await check();
    if (outcome !== "pending" || Date.now() > deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const writes = () => kube.requests.filter((request) => request.method !== "GET").length;

describe("Kubernetes executors", () => {
  it("dry run calls nothing that writes, for every action", async () => {
    kube.seedDeployment({ namespace: ns, name: "dry", replicas: 2 });
    const pod = (await deps.kube.listPods(ns, { app: "dry" }))[0]?.name ?? "";
    const before = writes();
    for (const [executor, params] of [
      [restartPod, { namespace: ns, deployment: "dry" }],
      [scaleUp, { namespace: ns, deployment: "dry" }],
      [scaleDown, { namespace: ns, deployment: "dry" }],
      [rollback, { namespace: ns, deployment: "dry" }],
      [deletePod, { namespace: ns, pod }],
    ] as const) {
      const result = await executor.execute(deps, params as never, { dryRun: true });
      expect(result.changed).toBe(false);
      expect(result.calls.length).toBeGreaterThan(0);
    }
    expect(writes()).toBe(before);
  });

  it("restarts a deployment by rollout and verifies the new revision is ready", async () => {
    kube.seedDeployment({ namespace: ns, name: "api", replicas: 2 });
    const params = { namespace: ns, deployment: "api" };
    expect(await restartPod.guard(deps, params)).toEqual({ ok: true });
    const result = await restartPod.execute(deps, params, { dryRun: false });
    expect(await until(() => restartPod.verify(deps, params, result))).toBe("recovered");
    expect((await deps.kube.getDeployment(ns, "api")).revision).toBe(2);
  });

  it("rolls back to the previous revision", async () => {
    const params = { namespace: ns, deployment: "api" };
    expect(await rollback.guard(deps, params)).toEqual({ ok: true });
    const result: ExecutionResult = await rollback.execute(deps, params, { dryRun: false });
    expect(result.detail).toMatchObject({ fromRevision: 2, toRevision: 1 });
    expect(await until(() => rollback.verify(deps, params, result))).toBe("recovered");
  });

  it("scales within bounds: up to the maximum, never below the minimum healthy", async () => {
    kube.seedDeployment({ namespace: ns, name: "web", replicas: 1 });
    const params = { namespace: ns, deployment: "web" };
    expect(await scaleDown.guard(deps, params)).toMatchObject({ ok: false, rule: "min_healthy_replicas" });
    const up = await scaleUp.execute(deps, params, { dryRun: false });
    expect(await until(() => scaleUp.verify(deps, params, up))).toBe("recovered");
    await scaleUp.execute(deps, params, { dryRun: false });
    expect(await scaleUp.guard(deps, params)).toMatchObject({ ok: false, rule: "max_replicas" });
    expect(await scaleDown.guard(deps, params)).toEqual({ ok: true });
  });

  it("deletes one pod with a 30 s grace period and verifies its replacement", async () => {
    kube.seedDeployment({ namespace: ns, name: "worker", replicas: 2 });
    const pod = (await deps.kube.listPods(ns, { app: "worker" }))[0]?.name ?? "";
    const params = { namespace: ns, pod };
    expect(await deletePod.guard(deps, params)).toEqual({ ok: true });
    const result = await deletePod.execute(deps, params, { dryRun: false });
    expect(kube.deletions.at(-1)).toMatchObject({ name: pod, gracePeriodSeconds: 30 });
    expect(await until(() => deletePod.verify(deps, params, result))).toBe("recovered");
    expect(await deletePod.guard(deps, params)).toMatchObject({ ok: false, rule: "target_exists" });
  });

  it("refuses to delete the last ready pod of a deployment", async () => {
    kube.seedDeployment({ namespace: ns, name: "solo", replicas: 1 });
    const pod = (await deps.kube.listPods(ns, { app: "solo" }))[0]?.name ?? "";
    expect(await deletePod.guard(deps, { namespace: ns, pod })).toMatchObject({
      ok: false,
      rule: "min_healthy_replicas",
    });
    await expect(
      deletePod.guard({ ...deps, minHealthyReplicas: 0 }, { namespace: ns, pod }),
    ).resolves.toEqual({
      ok: true,
    });
  });

  it("refuses params a model could smuggle a command into", () => {
    expect(
      restartPod.params.safeParse({ namespace: ns, deployment: "api; kubectl delete ns x" }).success,
    ).toBe(false);
    expect(restartPod.params.safeParse({ namespace: "Kube System", deployment: "api" }).success).toBe(false);
  });
});

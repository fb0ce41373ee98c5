// In-cluster configuration: inside a pod there is no kubeconfig, only KUBERNETES_SERVICE_HOST/PORT
// and a service-account directory (token, ca.crt, namespace). Here the Kubernetes emulator serves
// HTTPS with its own CA and a directory laid out as a pod sees it; the bot's configuration and
// wiring (registry/config.ts → app/executors.ts) must reach it as that service account, and
// KUBECONFIG must still win where it is set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterGateway } from "../../app/executors.js";
import { parseConfig } from "../../registry/config.js";
import { testEnv } from "../../dev/env.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";

const NS = "awoooi-prod";
const SA = "system:serviceaccount:chatops:chatops-bot";
let kube: KubeEmulator;
let serviceAccountDir: string;

beforeAll(async () => {
  kube = await startKubeEmulator({ tls: true, podReadyDelayMs: 0 });
  kube.seedDeployment({ namespace: NS, name: "awoooi-api", replicas: 2 });
  const token = kube.grant({
    namespace: "chatops",
    name: "chatops-bot",
    roles: { [NS]: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }] },
  });
  serviceAccountDir = await kube.writeServiceAccountDir(token, "chatops");
});
afterAll(async () => {
  await kube?.close();
});

const inPod = (extra: Record<string, string> = {}) =>
  parseConfig(
    testEnv({
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: String(kube.port),
      KUBERNETES_SERVICE_ACCOUNT_DIR: serviceAccountDir,
      ...extra,
    }),
  );

describe("in-cluster configuration", () => {
  it("reads the pod's settings from the environment", () => {
    expect(inPod().kubeInCluster).toEqual({ host: "127.0.0.1", port: kube.port, serviceAccountDir });
    expect(parseConfig(testEnv()).kubeInCluster).toBeUndefined();
  });

  it("reaches the API server over HTTPS as the service account, with no KUBECONFIG", async () => {
    const config = inPod();
    expect(config.kubeconfig).toBeUndefined();
    const gateway = await clusterGateway(config);
    expect(await gateway?.getDeployment(NS, "awoooi-api")).toMatchObject({ replicas: 2, readyReplicas: 2 });
    expect(kube.requests.at(-1)).toMatchObject({
      user: SA,
      path: `/apis/apps/v1/namespaces/${NS}/deployments/awoooi-api`,
      status: 200,
    });
    // the service account's rules apply: it may read deployments, nothing more
    await expect(gateway?.listPods(NS, {})).rejects.toMatchObject({
      code: "forbidden",
      forbidden: { user: SA, verb: "list", resource: "pods", namespace: NS },
    });
  });

  it("lets KUBECONFIG win where it is set", async () => {
    const gateway = await clusterGateway(inPod({ KUBECONFIG: kube.kubeconfigPath }));
    await gateway?.listPods(NS, {});
    expect(kube.requests.at(-1)).toMatchObject({ user: "system:admin", status: 200 });
  });

  it("has no cluster when the pod mounts no token", async () => {
    const config = inPod({ KUBERNETES_SERVICE_ACCOUNT_DIR: `${serviceAccountDir}-absent` });
    expect(await clusterGateway(config)).toBeUndefined();
  });

  it("refuses a server whose certificate the mounted CA did not sign", async () => {
    const other = await startKubeEmulator({ tls: true });
    try {
      const gateway = await clusterGateway(
        parseConfig(
          testEnv({
            KUBERNETES_SERVICE_HOST: "127.0.0.1",
            KUBERNETES_SERVICE_PORT: String(other.port),
            KUBERNETES_SERVICE_ACCOUNT_DIR: serviceAccountDir,
          }),
        ),
      );
      await expect(gateway?.getDeployment(NS, "awoooi-api")).rejects.toMatchObject({ code: "unreachable" });
      expect(other.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

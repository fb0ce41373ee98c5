import { afterEach, describe, expect, it } from "vitest";
import { DockerSource, dockerOptions } from "../../registry/sources/docker.js";
import { KubernetesSource } from "../../registry/sources/kubernetes.js";
import { PrometheusSource } from "../../registry/sources/prometheus.js";
import { SourceError } from "../../registry/sources/types.js";
import { startDockerApi, startKubeApi, writeKubeconfig, type FakeApi } from "./fake-apis.js";
import { withTempDir } from "./helpers.js";

const servers: FakeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function kubeApi(objects: Parameters<typeof startKubeApi>[0]): Promise<FakeApi> {
  const api = await startKubeApi(objects);
  servers.push(api);
  return api;
}

describe("KubernetesSource", () => {
  it("lists deployments, statefulsets and daemonsets of all namespaces, page by page", async () => {
    const api = await kubeApi({
      deployments: [
        { namespace: "awoooi-prod", name: "awoooi-api" },
        { namespace: "argocd", name: "argocd-server" },
      ],
      statefulsets: [{ namespace: "monitoring", name: "alertmanager" }],
      daemonsets: [{ namespace: "kube-system", name: "svclb-traefik" }],
    });
    await withTempDir(async (dir) => {
      const things = await new KubernetesSource(await writeKubeconfig(dir, api.url)).list();
      expect(things).toEqual([
        { source: "kubernetes", kind: "Deployment", namespace: "awoooi-prod", name: "awoooi-api" },
        { source: "kubernetes", kind: "Deployment", namespace: "argocd", name: "argocd-server" },
        { source: "kubernetes", kind: "StatefulSet", namespace: "monitoring", name: "alertmanager" },
        { source: "kubernetes", kind: "DaemonSet", namespace: "kube-system", name: "svclb-traefik" },
      ]);
    });
    expect(api.requests).toContain("GET /apis/apps/v1/deployments?limit=500");
    expect(api.requests).toContain("GET /apis/apps/v1/deployments?continue=1&limit=500");
  });

  it("names the source and the list that failed", async () => {
    const api = await kubeApi({ failWith: 403 });
    await withTempDir(async (dir) => {
      const error = await new KubernetesSource(await writeKubeconfig(dir, api.url))
        .list()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect((error as Error).message).toMatch(
        new RegExp(`^kubernetes: listing \\w+s at ${api.url} failed: `),
      );
    });
  });

  it("names a kubeconfig it cannot load", async () => {
    const error = await new KubernetesSource("/nonexistent/kubeconfig").list().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^kubernetes: cannot load kubeconfig \/nonexistent\/kubeconfig: /,
    );
  });
});

describe("DockerSource", () => {
  it("lists the running containers by name", async () => {
    const api = await startDockerApi(["ollama", "redis-stack"]);
    servers.push(api);
    const things = await new DockerSource(api.url.replace("http://", "tcp://")).list();
    expect(things).toEqual([
      { source: "docker", kind: "Container", name: "ollama" },
      { source: "docker", kind: "Container", name: "redis-stack" },
    ]);
    expect(api.requests.some((request) => request.startsWith("GET /containers/json"))).toBe(true);
  });

  it("names the engine it cannot reach", async () => {
    const api = await startDockerApi([]);
    const url = api.url.replace("http://", "tcp://");
    await api.close();
    const error = await new DockerSource(url).list().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(new RegExp(`^docker: listing containers at ${url} failed: `));
  });

  it.each([
    ["unix:///var/run/docker.sock", { socketPath: "/var/run/docker.sock" }],
    ["tcp://10.0.0.5:2375", { host: "10.0.0.5", port: 2375, protocol: "http" }],
    ["tcp://docker.internal", { host: "docker.internal", port: 2375, protocol: "http" }],
    ["https://10.0.0.5:2376", { host: "10.0.0.5", port: 2376, protocol: "https" }],
  ])("reads DOCKER_HOST %s", (url, expected) => {
    expect(dockerOptions(url)).toMatchObject(expected);
  });
});

describe("PrometheusSource", () => {
  it("refuses an answer that is not Prometheus'", async () => {
    const api = await startDockerApi([]);
    servers.push(api);
    const error = await new PrometheusSource(api.url).list().catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `prometheus: GET ${api.url}/api/v1/targets?state=active answered HTTP 404`,
    );
  });
});

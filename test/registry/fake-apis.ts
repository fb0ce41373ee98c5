// Minimal Kubernetes and Docker Engine APIs over HTTP, for the sources' tests: no cluster or
// Docker daemon runs here, and the production clients (@kubernetes/client-node, dockerode) talk
// to these unchanged. They answer only the list calls the registry makes.
import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";

export interface FakeApi {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

async function serve(handle: (url: URL, response: ServerResponse) => void): Promise<FakeApi> {
  const requests: string[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    requests.push(`${request.method ?? "GET"} ${url.pathname}${url.search}`);
    handle(url, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

export interface KubeObjects {
  deployments?: { namespace: string; name: string }[];
  statefulsets?: { namespace: string; name: string }[];
  daemonsets?: { namespace: string; name: string }[];
  /** Answer every list with this status instead (e.g. 403). */
  failWith?: number;
}

const KINDS = { deployments: "Deployment", statefulsets: "StatefulSet", daemonsets: "DaemonSet" } as const;

/** `GET /apis/apps/v1/{deployments,statefulsets,daemonsets}`, one item per page to exercise `continue`. */
export async function startKubeApi(objects: KubeObjects): Promise<FakeApi> {
  return serve((url, response) => {
    const resource = /^\/apis\/apps\/v1\/(deployments|statefulsets|daemonsets)$/.exec(url.pathname)?.[1] as
      keyof typeof KINDS | undefined;
    if (resource === undefined) return json(response, 404, { kind: "Status", status: "Failure", code: 404 });
    if (objects.failWith !== undefined) {
      return json(response, objects.failWith, {
        kind: "Status",
        status: "Failure",
        code: objects.failWith,
        message: "forbidden",
      });
    }
    const all = objects[resource] ?? [];
    const index = Number(url.searchParams.get("continue") ?? "0");
    const item = all[index];
    const next = index + 1 < all.length ? String(index + 1) : undefined;
    json(response, 200, {
      kind: `${KINDS[resource]}List`,
      apiVersion: "apps/v1",
      metadata: { resourceVersion: "1", ...(next === undefined ? {} : { continue: next }) },
      items: item === undefined ? [] : [{ metadata: { name: item.name, namespace: item.namespace } }],
    });
  });
}

/** A kubeconfig for the plain-HTTP fake (the client refuses http:// unless TLS checks are off). */
export async function writeKubeconfig(dir: string, server: string): Promise<string> {
  const path = join(dir, "kubeconfig");
  await writeFile(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{ name: test, cluster: { server: " +
        JSON.stringify(server) +
        ", insecure-skip-tls-verify: true } }]",
      "users: [{ name: test, user: { token: test-token } }]",
      "contexts: [{ name: test, context: { cluster: test, user: test } }]",
      "current-context: test",
      "",
    ].join("\n"),
  );
  return path;
}

/** `GET /containers/json`: the running containers of a Docker engine. */
export async function startDockerApi(names: string[]): Promise<FakeApi> {
  return serve((url, response) => {
    if (!/^(\/v[\d.]+)?\/containers\/json$/.test(url.pathname))
      return json(response, 404, { message: "page not found" });
    json(
      response,
      200,
      names.map((name, i) => ({ Id: `${i}`.padStart(12, "0"), Names: [`/${name}`], State: "running" })),
    );
  });
}

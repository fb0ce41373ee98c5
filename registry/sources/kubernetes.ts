// Deployments, StatefulSets and DaemonSets of every namespace, read through the Kubernetes API.
import { AppsV1Api, KubeConfig, type V1ListMeta, type V1ObjectMeta } from "@kubernetes/client-node";
import {
  KUBERNETES_SOURCE,
  SourceError,
  type RunningKind,
  type RunningThing,
  type WorkloadSource,
} from "./types.js";
const PAGE_SIZE = 500;

interface Page {
  items: { metadata?: V1ObjectMeta }[];
  metadata?: V1ListMeta;
}

export class KubernetesSource implements WorkloadSource {
  readonly name = KUBERNETES_SOURCE;

  constructor(private readonly kubeconfigPath: string) {}

  async list(): Promise<RunningThing[]> {
    const config = new KubeConfig();
    try {
      config.loadFromFile(this.kubeconfigPath);
    } catch (error) {
      throw new SourceError(
        `kubernetes: cannot load kubeconfig ${this.kubeconfigPath}: ${(error as Error).message}`,
      );
    }
    const apps = config.makeApiClient(AppsV1Api);
    const server = config.getCurrentCluster()?.server ?? "the cluster";
    const lists: [RunningKind, (token: string | undefined) => Promise<Page>][] = [
      ["Deployment", (token) => apps.listDeploymentForAllNamespaces(pageOf(token))],
      ["StatefulSet", (token) => apps.listStatefulSetForAllNamespaces(pageOf(token))],
      ["DaemonSet", (token) => apps.listDaemonSetForAllNamespaces(pageOf(token))],
    ];
    const results = await Promise.all(
      lists.map(async ([kind, page]) => {
        try {
          return (await listAll(page)).map((item) => toThing(kind, item.metadata));
        } catch (error) {
          throw new SourceError(
            `kubernetes: listing ${kind}s at ${server} failed: ${(error as Error).message}`,
          );
        }
      }),
    );
    return results.flat();
  }
}

function pageOf(token: string | undefined) {
  return token === undefined ? { limit: PAGE_SIZE } : { limit: PAGE_SIZE, _continue: token };
}

async function listAll(page: (token: string | undefined) => Promise<Page>): Promise<Page["items"]> {
  const items: Page["items"] = [];
  let token: string | undefined;
  do {
    const result = await page(token);
    items.push(...result.items);
    token = result.metadata?._continue || undefined;
  } while (token !== undefined);
  return items;
}

function toThing(kind: RunningKind, metadata: V1ObjectMeta | undefined): RunningThing {
  return {
    source: KUBERNETES_SOURCE,
    kind,
    name: metadata?.name ?? "",
    namespace: metadata?.namespace ?? "default",
  };
}

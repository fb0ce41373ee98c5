// A Kubernetes API server for tests: no cluster runs here, so this one speaks the real wire protocol
// (paths, Status errors, patch content types, the scale subresource) and plays the deployment and
// ReplicaSet controllers closely enough that `@kubernetes/client-node` drives it unchanged through a
// kubeconfig. What it keeps of the real controllers:
// - a pod-template change creates a ReplicaSet with the next revision, or reuses the ReplicaSet whose
//   template matches and bumps its revision (what `kubectl rollout undo` relies on);
// - old ReplicaSets are scaled down only as new pods become Ready (a 100 % surge rolling update), so a
//   rollout whose new pods crash keeps the old pods serving and never completes;
// - a deleted pod is replaced by its ReplicaSet under a new name;
// - status, observedGeneration and the revision annotation are written by the controller after the
//   write that caused them has been answered, as in a real cluster.
// Simplified: a deleted pod disappears at once (its grace period is only recorded), there is no
// progress deadline, and only the resources below exist.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

// ─── Constants the real API uses ─────────────────────────────────────────────────────────────

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const POD_TEMPLATE_HASH = "pod-template-hash";
const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
const NODE_NAME = "emulator-node";

// ─── Public types ────────────────────────────────────────────────────────────────────────────

export interface KubeEmulatorOptions {
  /** The bearer token the server accepts; any other (or none) answers 401. */
  readonly token?: string;
  /** How long a new pod takes to become Ready; 0 makes it Ready when created. Default 200. */
  readonly podReadyDelayMs?: number;
}

export interface SeedDeployment {
  readonly namespace: string;
  readonly name: string;
  readonly replicas?: number;
  readonly image?: string;
  /** Labels of the deployment, its selector and its pod template. Default `{ app: name }`. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly containerName?: string;
}

export interface SeedEvent {
  readonly namespace: string;
  readonly involvedObject: { readonly kind: string; readonly name: string };
  readonly reason: string;
  readonly message: string;
  readonly type?: "Normal" | "Warning";
  readonly count?: number;
  /** ISO time; default now. */
  readonly lastTimestamp?: string;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType?: string;
  readonly body?: unknown;
  readonly status: number;
}

export interface PodDeletion {
  readonly namespace: string;
  readonly name: string;
  readonly gracePeriodSeconds?: number;
}

// ─── Stored objects (the wire shapes, as the API server sends them) ──────────────────────────

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Labels = Record<string, string>;

const LabelsSchema = z.record(z.string(), z.string());

const PodTemplateSchema = z.looseObject({
  metadata: z
    .looseObject({ labels: LabelsSchema.optional(), annotations: LabelsSchema.optional() })
    .optional(),
  spec: z.looseObject({
    containers: z.array(z.looseObject({ name: z.string().min(1), image: z.string().min(1) })).min(1),
  }),
});
type PodTemplate = z.infer<typeof PodTemplateSchema>;

const ObjectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string(),
  uid: z.string(),
  resourceVersion: z.string(),
  generation: z.number().int(),
  creationTimestamp: z.string(),
  labels: LabelsSchema.optional(),
  annotations: LabelsSchema.optional(),
});

/** What a patched deployment must still satisfy; a failure is the API server's 422 Invalid. */
const DeploymentSchema = z.looseObject({
  apiVersion: z.literal("apps/v1"),
  kind: z.literal("Deployment"),
  metadata: ObjectMetaSchema,
  spec: z.looseObject({
    replicas: z.number().int().min(0, "must be greater than or equal to 0"),
    paused: z.boolean().optional(),
    selector: z.looseObject({ matchLabels: LabelsSchema }),
    template: PodTemplateSchema,
  }),
  status: z.looseObject({ observedGeneration: z.number().int().optional() }).optional(),
});
type Deployment = z.infer<typeof DeploymentSchema>;

interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generation?: number;
  labels: Labels;
  annotations?: Labels;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

interface ReplicaSet {
  apiVersion: "apps/v1";
  kind: "ReplicaSet";
  metadata: ObjectMeta & { annotations: Labels; ownerReferences: OwnerReference[] };
  spec: { replicas: number; selector: { matchLabels: Labels }; template: PodTemplate };
  status: Record<string, number>;
}

interface Pod {
  apiVersion: "v1";
  kind: "Pod";
  metadata: ObjectMeta & { ownerReferences: OwnerReference[] };
  spec: PodTemplate["spec"] & { nodeName: string };
  status: JsonObject;
}

interface KubeEvent {
  apiVersion: "v1";
  kind: "Event";
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
  };
  involvedObject: { kind: string; name: string; namespace: string; uid?: string };
  reason: string;
  message: string;
  type: "Normal" | "Warning";
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
}

interface StatefulSet {
  apiVersion: "apps/v1";
  kind: "StatefulSet";
  metadata: ObjectMeta;
  spec: { replicas: number; serviceName: string; selector: { matchLabels: Labels }; template: PodTemplate };
  status: { replicas: number; readyReplicas: number };
}

type Listable = { metadata: { name: string; namespace: string; labels?: Labels | undefined } };

/** The API server's error body; `client-node` hands it back in `ApiException.body`. */
class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: JsonObject = {},
  ) {
    super(message);
  }

  toStatus(): JsonObject {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

const notFound = (resource: string, name: string) =>
  new StatusError(404, "NotFound", `${resource} "${name}" not found`, {
    name,
    kind: resource.split(".")[0] ?? "",
  });

const conflict = (resource: string, name: string) =>
  new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: resource.split(".")[0] ?? "" },
  );

const invalid = (kind: string, name: string, causes: { field: string; message: string }[]) =>
  new StatusError(
    422,
    "Invalid",
    `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`,
    { name, kind, causes: causes.map((c) => ({ reason: "FieldValueInvalid", ...c })) },
  );

const badRequest = (message: string) => new StatusError(400, "BadRequest", message);

// ─── The emulator ────────────────────────────────────────────────────────────────────────────

export class KubeEmulator {
  readonly token: string;
  /** Every request, in order, with the status it got. */
  readonly requests: RequestRecord[] = [];
  /** Every pod deletion with the grace period the client asked for. */
  readonly deletions: PodDeletion[] = [];
  podReadyDelayMs: number;

  private readonly deployments = new Map<string, Deployment>();
  private readonly replicaSets = new Map<string, ReplicaSet>();
  private readonly pods = new Map<string, Pod>();
  private readonly statefulSets = new Map<string, StatefulSet>();
  private readonly events: KubeEvent[] = [];
  private readonly logs = new Map<string, string>();
  /** Per deployment: the template hashes whose pods start fine; any other template crash-loops. */
  private readonly goodTemplates = new Map<string, Set<string>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private resourceVersion = 1000;
  private server: Server | undefined;
  private dir: string | undefined;
  private url = "";
  private kubeconfig = "";

  constructor(options: KubeEmulatorOptions = {}) {
    this.token = options.token ?? `emulator-${randomBytes(8).toString("hex")}`;
    this.podReadyDelayMs = options.podReadyDelayMs ?? 200;
  }

  get baseUrl(): string {
    return this.url;
  }

  /** A kubeconfig whose current context reaches this server with the accepted token. */
  get kubeconfigPath(): string {
    return this.kubeconfig;
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), "kube-emulator-"));
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.kubeconfig = await this.writeKubeconfig(this.token);
    return this;
  }

  /** Another kubeconfig for this server; `token: undefined` gives one with no credentials at all. */
  async writeKubeconfig(token: string | undefined, file = `kubeconfig-${randomBytes(4).toString("hex")}`) {
    if (this.dir === undefined) throw new Error("start the emulator first");
    const path = join(this.dir, file);
    const user = token === undefined ? "{}" : `{ token: ${JSON.stringify(token)} }`;
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        // client-node refuses a plain http:// server unless TLS verification is switched off.
        `clusters: [{ name: emulator, cluster: { server: ${JSON.stringify(this.url)}, insecure-skip-tls-verify: true } }]`,
        `users: [{ name: emulator, user: ${user} }]`,
        "contexts: [{ name: emulator, context: { cluster: emulator, user: emulator, namespace: default } }]",
        "current-context: emulator",
        "",
      ].join("\n"),
    );
    return path;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }

  // ─── Test-facing state ─────────────────────────────────────────────────────────────────────

  /** A deployment already rolled out: revision 1, its pods Ready. */
  seedDeployment(seed: SeedDeployment): void {
    const labels = { ...(seed.labels ?? { app: seed.name }) };
    const deployment: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { ...this.newMeta(seed.namespace, seed.name), generation: 1, labels: { ...labels } },
      spec: {
        replicas: seed.replicas ?? 1,
        selector: { matchLabels: { ...labels } },
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            containers: [{ name: seed.containerName ?? "app", image: seed.image ?? "registry.local/app:1" }],
          },
        },
      },
      status: {},
    };
    this.deployments.set(key(seed.namespace, seed.name), deployment);
    this.reconcile(deployment, { podsReadyNow: true });
  }

  seedStatefulSet(seed: { namespace: string; name: string; replicas?: number }): void {
    const labels = { app: seed.name };
    const replicas = seed.replicas ?? 1;
    this.statefulSets.set(key(seed.namespace, seed.name), {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { ...this.newMeta(seed.namespace, seed.name), generation: 1, labels },
      spec: {
        replicas,
        serviceName: seed.name,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "app", image: "registry.local/db:1" }] },
        },
      },
      status: { replicas, readyReplicas: replicas },
    });
  }

  /** What `pods/{pod}/log` answers; `previous` is the log of the container that crashed before. */
  setLogs(
    namespace: string,
    pod: string,
    text: string,
    options: { container?: string; previous?: boolean } = {},
  ) {
    this.logs.set(logKey(namespace, pod, options.container, options.previous ?? false), text);
  }

  addEvent(event: SeedEvent): void {
    this.recordEvent(
      event.namespace,
      event.involvedObject,
      event.reason,
      event.message,
      event.type ?? "Normal",
      {
        ...(event.count === undefined ? {} : { count: event.count }),
        ...(event.lastTimestamp === undefined ? {} : { at: event.lastTimestamp }),
      },
    );
  }

  /**
   * From now on, pods of any pod template the deployment has not run before crash-loop (a bad
   * image): a rollout started after this never completes, and a rollback to a known template does.
   */
  failNewPods(namespace: string, deployment: string): void {
    const hashes = this.ownedReplicaSets(namespace, deployment).map(
      (rs) => rs.metadata.labels[POD_TEMPLATE_HASH] ?? "",
    );
    this.goodTemplates.set(key(namespace, deployment), new Set(hashes));
  }

  /** The names of the deployment's current pods, oldest first. */
  podNames(namespace: string, deployment: string): string[] {
    const owners = new Set(this.ownedReplicaSets(namespace, deployment).map((rs) => rs.metadata.uid));
    return [...this.pods.values()]
      .filter(
        (pod) =>
          pod.metadata.namespace === namespace && owners.has(pod.metadata.ownerReferences[0]?.uid ?? ""),
      )
      .map((pod) => pod.metadata.name);
  }

  /** Runs the controllers now instead of on their next turn. */
  reconcileAll(): void {
    for (const deployment of this.deployments.values()) this.reconcile(deployment);
  }

  // ─── HTTP ──────────────────────────────────────────────────────────────────────────────────

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.url);
    const query = Object.fromEntries(url.searchParams);
    const contentType = request.headers["content-type"]?.split(";")[0]?.trim();
    let body: unknown;
    let status: number;
    try {
      const raw = await readBody(request);
      if (raw.length > 0) body = parseJson(raw);
      if (request.headers.authorization !== `Bearer ${this.token}`) {
        throw new StatusError(401, "Unauthorized", "Unauthorized");
      }
      const answer = this.route(request.method ?? "GET", url, contentType, body);
      status = answer.status ?? 200;
      if (typeof answer.body === "string") {
        response.writeHead(status, { "content-type": "text/plain" }).end(answer.body);
      } else {
        response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
      }
    } catch (error) {
      const failure =
        error instanceof StatusError
          ? error
          : new StatusError(500, "InternalError", (error as Error).message);
      status = failure.code;
      response
        .writeHead(status, { "content-type": "application/json" })
        .end(JSON.stringify(failure.toStatus()));
    }
    this.requests.push({
      method: request.method ?? "GET",
      path: url.pathname,
      query,
      ...(contentType === undefined ? {} : { contentType }),
      ...(body === undefined ? {} : { body }),
      status,
    });
  }

  private route(
    method: string,
    url: URL,
    contentType: string | undefined,
    body: unknown,
  ): { status?: number; body: unknown } {
    const match =
      /^\/(api\/v1|apis\/apps\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(
        url.pathname,
      );
    if (match === null)
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const [, group, namespace, resource = "", name, sub] = match;
    const target = `${method} ${group === "api/v1" ? "" : "apps/"}${resource}${name === undefined ? "" : "/name"}${sub === undefined ? "" : `/${sub}`}`;
    const ns = namespace ?? "";
    const n = name ?? "";
    const params = url.searchParams;
    switch (target) {
      case "GET apps/deployments":
        return { body: this.list("DeploymentList", "apps/v1", this.deployments, namespace, params) };
      case "GET apps/deployments/name":
        return { body: this.deployment(ns, n) };
      case "PATCH apps/deployments/name":
        return { body: this.patchDeployment(ns, n, contentType, body) };
      case "GET apps/deployments/name/scale":
        return { body: this.scaleOf(this.deployment(ns, n)) };
      case "PATCH apps/deployments/name/scale":
        return { body: this.patchScale(ns, n, contentType, body) };
      case "PUT apps/deployments/name/scale":
        return { body: this.replaceScale(ns, n, body) };
      case "GET apps/replicasets":
        return { body: this.list("ReplicaSetList", "apps/v1", this.replicaSets, namespace, params) };
      case "GET apps/replicasets/name":
        return { body: this.find(this.replicaSets, ns, n, "replicasets.apps") };
      case "GET apps/statefulsets":
        return { body: this.list("StatefulSetList", "apps/v1", this.statefulSets, namespace, params) };
      case "GET apps/statefulsets/name":
        return { body: this.find(this.statefulSets, ns, n, "statefulsets.apps") };
      case "GET apps/daemonsets":
        return {
          body: this.list("DaemonSetList", "apps/v1", new Map<string, Listable>(), namespace, params),
        };
      case "GET pods":
        return { body: this.list("PodList", "v1", this.pods, namespace, params) };
      case "GET pods/name":
        return { body: this.find(this.pods, ns, n, "pods") };
      case "DELETE pods/name":
        return { body: this.deletePod(ns, n, params, body) };
      case "GET pods/name/log":
        return { body: this.podLog(ns, n, params) };
      case "GET events":
        return { body: this.list("EventList", "v1", eventMap(this.events), namespace, params) };
      default:
        if (/^(GET|PATCH|PUT|DELETE|POST) /.test(target) && KNOWN_RESOURCES.has(resource)) {
          throw new StatusError(
            405,
            "MethodNotAllowed",
            `the server does not allow this method on ${resource}`,
          );
        }
        throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    }
  }

  private list<T extends Listable>(
    kind: string,
    apiVersion: string,
    items: ReadonlyMap<string, T>,
    namespace: string | undefined,
    params: URLSearchParams,
  ): JsonObject {
    const labels = parseLabelSelector(params.get("labelSelector") ?? "");
    const fields = parseFieldSelector(params.get("fieldSelector") ?? "");
    const all = [...items.values()].filter(
      (item) =>
        (namespace === undefined || item.metadata.namespace === namespace) &&
        labels(item.metadata.labels ?? {}) &&
        fields(item),
    );
    // `continue` is an opaque token to the client; here it is the offset of the next page.
    const offset = Number(params.get("continue") ?? "0") || 0;
    const limit = Number(params.get("limit") ?? "0") || all.length;
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? String(offset + limit) : undefined;
    return {
      kind,
      apiVersion,
      metadata: {
        resourceVersion: String(this.resourceVersion),
        ...(next === undefined ? {} : { continue: next }),
      },
      items: toJson(page),
    };
  }

  private find<T>(items: ReadonlyMap<string, T>, namespace: string, name: string, resource: string): T {
    const item = items.get(key(namespace, name));
    if (item === undefined) throw notFound(resource, name);
    return item;
  }

  private deployment(namespace: string, name: string): Deployment {
    return this.find(this.deployments, namespace, name, "deployments.apps");
  }

  // ─── Deployments and the scale subresource ─────────────────────────────────────────────────

  private patchDeployment(namespace: string, name: string, contentType: string | undefined, patch: unknown) {
    const current = this.deployment(namespace, name);
    const patched = applyPatch(toJson(current), contentType, patch);
    const parsed = DeploymentSchema.safeParse(patched);
    if (!parsed.success) throw invalid("Deployment.apps", name, zodCauses(parsed.error, patched));
    const next = parsed.data;
    if (next.metadata.resourceVersion !== current.metadata.resourceVersion)
      throw conflict("deployments.apps", name);
    if (canonical(next.spec.selector) !== canonical(current.spec.selector)) {
      throw invalid("Deployment.apps", name, [{ field: "spec.selector", message: "field is immutable" }]);
    }
    const templateLabels = next.spec.template.metadata?.labels ?? {};
    if (!Object.entries(next.spec.selector.matchLabels).every(([k, v]) => templateLabels[k] === v)) {
      throw invalid("Deployment.apps", name, [
        { field: "spec.template.metadata.labels", message: "`selector` does not match template `labels`" },
      ]);
    }
    return this.store(current, next);
  }

  /** Writes a new version of a deployment: identity kept, generation bumped on a spec change. */
  private store(current: Deployment, next: Deployment): Deployment {
    const specChanged = canonical(next.spec) !== canonical(current.spec);
    const stored: Deployment = {
      ...next,
      metadata: {
        ...next.metadata,
        name: current.metadata.name,
        namespace: current.metadata.namespace,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: current.metadata.generation + (specChanged ? 1 : 0),
        resourceVersion: this.nextVersion(),
      },
      status: current.status,
    };
    this.deployments.set(key(current.metadata.namespace, current.metadata.name), stored);
    this.later(0, () => this.reconcileByName(stored.metadata.namespace, stored.metadata.name));
    return stored;
  }

  private scaleOf(deployment: Deployment): JsonObject {
    const { name, namespace, uid, resourceVersion, creationTimestamp } = deployment.metadata;
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
      spec: { replicas: deployment.spec.replicas },
      status: {
        replicas: numberField(deployment.status, "replicas"),
        selector: formatSelector(deployment.spec.selector.matchLabels),
      },
    };
  }

  private patchScale(namespace: string, name: string, contentType: string | undefined, patch: unknown) {
    const current = this.deployment(namespace, name);
    return this.writeScale(current, applyPatch(this.scaleOf(current), contentType, patch));
  }

  private replaceScale(namespace: string, name: string, body: unknown) {
    const current = this.deployment(namespace, name);
    const scale = ScaleSchema.safeParse(body);
    // An update without a resourceVersion is unconditional, as on the real server.
    if (scale.success && scale.data.metadata.resourceVersion === undefined) {
      return this.writeScale(current, {
        ...scale.data,
        metadata: { resourceVersion: current.metadata.resourceVersion },
      });
    }
    return this.writeScale(current, body);
  }

  private writeScale(current: Deployment, body: unknown): JsonObject {
    const name = current.metadata.name;
    const scale = ScaleSchema.safeParse(body);
    if (!scale.success) throw invalid("Scale.autoscaling", name, zodCauses(scale.error, body));
    if (scale.data.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict("deployments.apps", name);
    }
    const stored = this.store(current, {
      ...current,
      spec: { ...current.spec, replicas: scale.data.spec.replicas },
    });
    return this.scaleOf(stored);
  }

  // ─── Pods, logs ────────────────────────────────────────────────────────────────────────────

  private deletePod(namespace: string, name: string, params: URLSearchParams, body: unknown): Pod {
    const pod = this.find(this.pods, namespace, name, "pods");
    // The grace period may come as a query parameter or in a DeleteOptions body.
    const fromBody = z.object({ gracePeriodSeconds: z.number().int().optional() }).safeParse(body ?? {});
    const grace = params.has("gracePeriodSeconds")
      ? Number(params.get("gracePeriodSeconds"))
      : fromBody.success
        ? fromBody.data.gracePeriodSeconds
        : undefined;
    this.deletions.push({ namespace, name, ...(grace === undefined ? {} : { gracePeriodSeconds: grace }) });
    this.pods.delete(key(namespace, name));
    const container = pod.spec.containers[0]?.name ?? "app";
    this.recordEvent(
      namespace,
      { kind: "Pod", name },
      "Killing",
      `Stopping container ${container}`,
      "Normal",
    );
    const owner = this.ownerDeployment(pod);
    if (owner !== undefined) this.later(0, () => this.reconcileByName(namespace, owner));
    return {
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: grace,
      },
    } as Pod;
  }

  private podLog(namespace: string, name: string, params: URLSearchParams): string {
    const pod = this.find(this.pods, namespace, name, "pods");
    const containers = pod.spec.containers.map((c) => c.name);
    const container = params.get("container") ?? (containers.length === 1 ? containers[0] : undefined);
    if (container === undefined) {
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`,
      );
    }
    if (!containers.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    const previous = params.get("previous") === "true";
    const text =
      this.logs.get(logKey(namespace, name, container, previous)) ??
      (containers[0] === container ? this.logs.get(logKey(namespace, name, undefined, previous)) : undefined);
    if (text === undefined && previous) {
      throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    }
    // sinceSeconds is accepted; the emulator's log lines carry no times to filter on.
    const tail = params.get("tailLines");
    const lines = tail === null ? (text ?? "") : tailLines(text ?? "", Number(tail));
    const limit = params.get("limitBytes");
    return limit === null ? lines : Buffer.from(lines).subarray(0, Number(limit)).toString();
  }

  // ─── The deployment and ReplicaSet controllers ─────────────────────────────────────────────

  private reconcileByName(namespace: string, name: string): void {
    const deployment = this.deployments.get(key(namespace, name));
    if (deployment !== undefined) this.reconcile(deployment);
  }

  /** One sync of the deployment controller (then the ReplicaSet controller for each of its sets). */
  private reconcile(deployment: Deployment, options: { podsReadyNow?: boolean } = {}): void {
    const { namespace, name } = deployment.metadata;
    const before = observed(deployment);
    const owned = this.ownedReplicaSets(namespace, name);
    const hash = templateHash(deployment.spec.template);
    const current = owned.find((rs) => rs.metadata.labels[POD_TEMPLATE_HASH] === hash);
    const old = owned.filter((rs) => rs !== current);
    // As the real controller: the new ReplicaSet's revision is one above every old one's.
    const revision = Math.max(0, ...old.map(revisionOf)) + 1;
    const newRs = current ?? this.createReplicaSet(deployment, hash, revision);
    if (revisionOf(newRs) < revision) {
      const history = [newRs.metadata.annotations[REVISION_HISTORY_ANNOTATION], String(revisionOf(newRs))];
      newRs.metadata.annotations[REVISION_HISTORY_ANNOTATION] = history.filter(Boolean).join(",");
      newRs.metadata.annotations[REVISION_ANNOTATION] = String(revision);
    }
    deployment.metadata.annotations = {
      ...deployment.metadata.annotations,
      [REVISION_ANNOTATION]: String(revision),
    };

    const desired = deployment.spec.replicas;
    this.scaleReplicaSet(deployment, newRs, desired, options);
    // Old pods go only as new ones become Ready, so the deployment never drops below its replicas.
    let oldBudget = Math.max(0, desired - this.readyPods(newRs).length);
    for (const rs of old.sort((a, b) => revisionOf(b) - revisionOf(a))) {
      const keep = Math.min(rs.spec.replicas, oldBudget);
      oldBudget -= keep;
      this.scaleReplicaSet(deployment, rs, keep, options);
    }
    this.writeDeploymentStatus(deployment, newRs, owned.includes(newRs) ? owned : [...owned, newRs]);
    // A controller's write is a write: clients holding the old resourceVersion now get 409.
    if (observed(deployment) !== before) {
      deployment.metadata.resourceVersion = this.nextVersion();
    }
  }

  private createReplicaSet(deployment: Deployment, hash: string, revision: number): ReplicaSet {
    const { namespace, name, uid } = deployment.metadata;
    const template = structuredClone(deployment.spec.template);
    const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash };
    template.metadata = { ...template.metadata, labels };
    const annotations = Object.fromEntries(
      Object.entries(deployment.metadata.annotations ?? {}).filter(
        ([k]) => !k.startsWith("deployment.kubernetes.io/"),
      ),
    );
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        ...this.newMeta(namespace, `${name}-${hash}`),
        generation: 1,
        labels,
        annotations: {
          ...annotations,
          [REVISION_ANNOTATION]: String(revision),
          [DESIRED_REPLICAS_ANNOTATION]: String(deployment.spec.replicas),
        },
        ownerReferences: [ownerRef("apps/v1", "Deployment", name, uid)],
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { ...deployment.spec.selector.matchLabels, [POD_TEMPLATE_HASH]: hash } },
        template,
      },
      status: { replicas: 0 },
    };
    this.replicaSets.set(key(namespace, rs.metadata.name), rs);
    return rs;
  }

  private scaleReplicaSet(
    deployment: Deployment,
    rs: ReplicaSet,
    replicas: number,
    options: { podsReadyNow?: boolean },
  ): void {
    const before = rs.spec.replicas;
    if (before !== replicas) {
      rs.spec.replicas = replicas;
      rs.metadata.annotations[DESIRED_REPLICAS_ANNOTATION] = String(deployment.spec.replicas);
      rs.metadata.resourceVersion = this.nextVersion();
      const verb = replicas > before ? "up" : "down";
      const from = replicas > before ? "" : ` from ${before}`;
      this.recordEvent(
        deployment.metadata.namespace,
        { kind: "Deployment", name: deployment.metadata.name },
        "ScalingReplicaSet",
        `Scaled ${verb} replica set ${rs.metadata.name} to ${replicas}${from}`,
        "Normal",
      );
    }
    const pods = this.podsOf(rs);
    for (let i = pods.length; i < replicas; i++)
      this.createPod(deployment, rs, options.podsReadyNow ?? false);
    // Scale down removes pods that are not Ready first, then the newest.
    const surplus = pods
      .sort(
        (a, b) => Number(isReady(a)) - Number(isReady(b)) || b.metadata.name.localeCompare(a.metadata.name),
      )
      .slice(0, Math.max(0, pods.length - replicas));
    for (const pod of surplus) this.pods.delete(key(pod.metadata.namespace, pod.metadata.name));
    const now = this.podsOf(rs);
    const ready = now.filter(isReady).length;
    rs.status = {
      replicas: now.length,
      fullyLabeledReplicas: now.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation ?? 1,
    };
  }

  private createPod(deployment: Deployment, rs: ReplicaSet, readyNow: boolean): void {
    const { namespace } = rs.metadata;
    const name = `${rs.metadata.name}-${randomName(5)}`;
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...this.newMeta(namespace, name),
        labels: { ...rs.spec.template.metadata?.labels },
        ...(rs.spec.template.metadata?.annotations === undefined
          ? {}
          : { annotations: { ...rs.spec.template.metadata.annotations } }),
        ownerReferences: [ownerRef("apps/v1", "ReplicaSet", rs.metadata.name, rs.metadata.uid)],
      },
      spec: { ...structuredClone(rs.spec.template.spec), nodeName: NODE_NAME },
      status: pendingStatus(rs.spec.template),
    };
    this.pods.set(key(namespace, name), pod);
    this.recordEvent(
      namespace,
      { kind: "ReplicaSet", name: rs.metadata.name },
      "SuccessfulCreate",
      `Created pod: ${name}`,
      "Normal",
    );
    const good = this.goodTemplates.get(key(namespace, deployment.metadata.name));
    const crashes = good !== undefined && !good.has(rs.metadata.labels[POD_TEMPLATE_HASH] ?? "");
    const start = () => {
      if (!this.pods.has(key(namespace, name))) return;
      pod.status = crashes ? crashLoopStatus(rs.spec.template) : runningStatus(rs.spec.template);
      pod.metadata.resourceVersion = this.nextVersion();
      if (crashes) {
        const container = rs.spec.template.spec.containers[0]?.name ?? "app";
        this.recordEvent(
          namespace,
          { kind: "Pod", name },
          "BackOff",
          `Back-off restarting failed container ${container} in pod ${name}`,
          "Warning",
        );
      }
    };
    if (readyNow || this.podReadyDelayMs === 0) {
      start();
      return;
    }
    this.later(this.podReadyDelayMs, () => {
      start();
      this.reconcileByName(namespace, deployment.metadata.name);
    });
  }

  private writeDeploymentStatus(deployment: Deployment, newRs: ReplicaSet, owned: ReplicaSet[]): void {
    const pods = owned.flatMap((rs) => this.podsOf(rs));
    const ready = pods.filter(isReady).length;
    const updated = this.podsOf(newRs).length;
    const desired = deployment.spec.replicas;
    const complete = updated === desired && pods.length === desired && ready === desired;
    // The API server leaves zero counts out of the JSON (omitempty); readers must default them.
    const counts = Object.fromEntries(
      Object.entries({
        replicas: pods.length,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: ready,
        unavailableReplicas: Math.max(0, desired - ready),
      }).filter(([, value]) => value > 0),
    );
    const now = new Date().toISOString();
    deployment.status = {
      observedGeneration: deployment.metadata.generation,
      ...counts,
      conditions: [
        {
          type: "Available",
          status: ready >= desired ? "True" : "False",
          reason: ready >= desired ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          lastUpdateTime: now,
          lastTransitionTime: now,
        },
        {
          type: "Progressing",
          status: "True",
          reason: complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          message: complete
            ? `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`
            : `ReplicaSet "${newRs.metadata.name}" is progressing.`,
          lastUpdateTime: now,
          lastTransitionTime: now,
        },
      ],
    };
  }

  // ─── Helpers over the stores ───────────────────────────────────────────────────────────────

  private ownedReplicaSets(namespace: string, deployment: string): ReplicaSet[] {
    const uid = this.deployments.get(key(namespace, deployment))?.metadata.uid;
    return [...this.replicaSets.values()].filter(
      (rs) => rs.metadata.namespace === namespace && rs.metadata.ownerReferences.some((o) => o.uid === uid),
    );
  }

  private podsOf(rs: ReplicaSet): Pod[] {
    return [...this.pods.values()].filter((pod) =>
      pod.metadata.ownerReferences.some((o) => o.uid === rs.metadata.uid),
    );
  }

  private readyPods(rs: ReplicaSet): Pod[] {
    return this.podsOf(rs).filter(isReady);
  }

  private ownerDeployment(pod: Pod): string | undefined {
    const rsName = pod.metadata.ownerReferences.find((o) => o.kind === "ReplicaSet")?.name;
    const rs = rsName === undefined ? undefined : this.replicaSets.get(key(pod.metadata.namespace, rsName));
    return rs?.metadata.ownerReferences.find((o) => o.kind === "Deployment")?.name;
  }

  private recordEvent(
    namespace: string,
    involved: { kind: string; name: string },
    reason: string,
    message: string,
    type: "Normal" | "Warning",
    extra: { count?: number; at?: string } = {},
  ): void {
    const at = extra.at ?? new Date().toISOString();
    this.events.push({
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${involved.name}.${randomBytes(8).toString("hex")}`,
        namespace,
        uid: randomUUID(),
        resourceVersion: this.nextVersion(),
        creationTimestamp: at,
      },
      involvedObject: { kind: involved.kind, name: involved.name, namespace },
      reason,
      message,
      type,
      count: extra.count ?? 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: {
        component: involved.kind === "Pod" ? "kubelet" : `${involved.kind.toLowerCase()}-controller`,
      },
    });
  }

  private newMeta(namespace: string, name: string) {
    return {
      name,
      namespace,
      uid: randomUUID(),
      resourceVersion: this.nextVersion(),
      creationTimestamp: new Date().toISOString(),
      labels: {} as Labels,
    };
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}

export async function startKubeEmulator(options: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  return new KubeEmulator(options).start();
}

// ─── Pod status shapes ───────────────────────────────────────────────────────────────────────

function condition(type: string, status: boolean, reason?: string): JsonObject {
  const now = new Date().toISOString();
  return {
    type,
    status: status ? "True" : "False",
    lastTransitionTime: now,
    ...(reason === undefined ? {} : { reason }),
  };
}

function containerStatus(
  container: { name: string; image: string },
  ready: boolean,
  state: JsonObject,
  restartCount = 0,
  lastState: JsonObject = {},
): JsonObject {
  return {
    name: container.name,
    image: container.image,
    imageID: "",
    ready,
    started: ready,
    restartCount,
    state,
    lastState,
  };
}

function pendingStatus(template: PodTemplate): JsonObject {
  return {
    phase: "Pending",
    conditions: [condition("PodScheduled", true), condition("Ready", false, "ContainersNotReady")],
    containerStatuses: template.spec.containers.map((c) =>
      containerStatus(c, false, { waiting: { reason: "ContainerCreating" } }),
    ),
  };
}

function runningStatus(template: PodTemplate): JsonObject {
  const startedAt = new Date().toISOString();
  return {
    phase: "Running",
    podIP: "10.0.0.1",
    startTime: startedAt,
    conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) =>
      condition(type, true),
    ),
    containerStatuses: template.spec.containers.map((c) =>
      containerStatus(c, true, { running: { startedAt } }),
    ),
  };
}

function crashLoopStatus(template: PodTemplate): JsonObject {
  const at = new Date().toISOString();
  return {
    phase: "Running",
    startTime: at,
    conditions: [condition("PodScheduled", true), condition("Ready", false, "ContainersNotReady")],
    containerStatuses: template.spec.containers.map((c) =>
      containerStatus(
        c,
        false,
        {
          waiting: { reason: "CrashLoopBackOff", message: `back-off restarting failed container ${c.name}` },
        },
        1,
        { terminated: { exitCode: 1, reason: "Error", startedAt: at, finishedAt: at } },
      ),
    ),
  };
}

function isReady(pod: Pod): boolean {
  const conditions = pod.status.conditions;
  return (
    Array.isArray(conditions) &&
    conditions.some(
      (c) =>
        typeof c === "object" && c !== null && !Array.isArray(c) && c.type === "Ready" && c.status === "True",
    )
  );
}

// ─── Patches: JSON Patch, JSON Merge Patch, Strategic Merge Patch ────────────────────────────

const ScaleSchema = z.object({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  spec: z.object({ replicas: z.number().int().min(0, "must be greater than or equal to 0") }),
});

function applyPatch(target: Json, contentType: string | undefined, patch: unknown): Json {
  switch (contentType) {
    case "application/json-patch+json":
      return jsonPatch(target, patch);
    case "application/merge-patch+json":
      return mergePatch(target, toJson(patch), false);
    case "application/strategic-merge-patch+json":
      return mergePatch(target, toJson(patch), true);
    default:
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
  }
}

/**
 * The list fields a strategic merge patch merges element by element (by this key) instead of
 * replacing: the ones a pod template patch touches. Every other list is replaced, as in a merge patch.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  imagePullSecrets: "name",
};

function mergePatch(target: Json | undefined, patch: Json, strategic: boolean, field = ""): Json {
  if (strategic && Array.isArray(patch) && Array.isArray(target) && MERGE_KEYS[field] !== undefined) {
    return mergeList(target, patch, MERGE_KEYS[field]);
  }
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    // `$patch`, `$retainKeys`, `$setElementOrder/…`: directives this emulator does not need to honour.
    if (strategic && k.startsWith("$")) continue;
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v, strategic, k);
  }
  return result;
}

function mergeList(target: Json[], patch: Json[], mergeKey: string): Json[] {
  const result = [...target];
  for (const element of patch) {
    if (!isObject(element)) continue;
    const index = result.findIndex((item) => isObject(item) && item[mergeKey] === element[mergeKey]);
    if (element.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = mergePatch(result[index], element, true);
    } else {
      result.push(mergePatch(undefined, element, true));
    }
  }
  return result;
}

const JsonPatchSchema = z.array(
  z.object({
    op: z.enum(["add", "remove", "replace", "test", "move", "copy"]),
    path: z.string(),
    value: z.unknown().optional(),
    from: z.string().optional(),
  }),
);

/** RFC 6902, which `kubectl rollout undo` uses to put a ReplicaSet's template back. */
function jsonPatch(target: Json, patch: unknown): Json {
  const operations = JsonPatchSchema.safeParse(patch);
  if (!operations.success) throw badRequest("the patch is not a valid JSON Patch document");
  let document = structuredClone(target);
  for (const { op, path, value, from } of operations.data) {
    const fail = (why: string) =>
      new StatusError(422, "Invalid", `jsonpatch ${op} operation on ${path}: ${why}`);
    switch (op) {
      case "add":
        document = pointerSet(document, path, toJson(value), "add", fail);
        break;
      case "replace":
        document = pointerSet(document, path, toJson(value), "replace", fail);
        break;
      case "remove":
        document = pointerSet(document, path, undefined, "remove", fail);
        break;
      case "test":
        if (canonical(pointerGet(document, path, fail)) !== canonical(toJson(value)))
          throw fail("testing value failed");
        break;
      case "copy":
      case "move": {
        if (from === undefined) throw fail("missing from");
        const moved = pointerGet(document, from, fail);
        if (op === "move") document = pointerSet(document, from, undefined, "remove", fail);
        document = pointerSet(document, path, moved, "add", fail);
        break;
      }
    }
  }
  return document;
}

function pointerTokens(path: string): string[] {
  if (path === "") return [];
  return path
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function pointerGet(document: Json, path: string, fail: (why: string) => Error): Json {
  let node: Json | undefined = document;
  for (const token of pointerTokens(path)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw fail("missing value");
  }
  return node;
}

function pointerSet(
  document: Json,
  path: string,
  value: Json | undefined,
  mode: "add" | "replace" | "remove",
  fail: (why: string) => Error,
): Json {
  const tokens = pointerTokens(path);
  const last = tokens.pop();
  if (last === undefined) {
    if (value === undefined) throw fail("cannot remove the whole document");
    return value;
  }
  const parent = pointerGet(
    document,
    tokens.length === 0 ? "" : `/${tokens.map(escapeToken).join("/")}`,
    fail,
  );
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw fail("index out of range");
    if (mode !== "add" && index >= parent.length) throw fail("missing value");
    if (mode === "remove") parent.splice(index, 1);
    else if (mode === "replace" && value !== undefined) parent[index] = value;
    else if (value !== undefined) parent.splice(index, 0, value);
  } else if (isObject(parent)) {
    if (mode !== "add" && !(last in parent)) throw fail("missing value");
    if (mode === "remove") delete parent[last];
    else if (value !== undefined) parent[last] = value;
  } else {
    throw fail("parent is not a container");
  }
  return document;
}

const escapeToken = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

// ─── Selectors ───────────────────────────────────────────────────────────────────────────────

/** Equality- and set-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`. */
function parseLabelSelector(text: string): (labels: Labels) => boolean {
  const terms = splitTopLevel(text);
  const tests = terms.map((term): ((labels: Labels) => boolean) => {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set !== null) {
      const [, k = "", op, list = ""] = set;
      const values = list.split(",").map((v) => v.trim());
      return op === "in"
        ? (labels) => labels[k] !== undefined && values.includes(labels[k])
        : (labels) => labels[k] === undefined || !values.includes(labels[k]);
    }
    if (term.startsWith("!")) return (labels) => labels[term.slice(1).trim()] === undefined;
    const equality = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (equality !== null) {
      const [, k = "", op, v = ""] = equality;
      return op === "!=" ? (labels) => labels[k] !== v : (labels) => labels[k] === v;
    }
    if (/^[^\s!=()]+$/.test(term)) return (labels) => labels[term] !== undefined;
    throw badRequest(`unable to parse requirement: ${term}`);
  });
  return (labels) => tests.every((t) => t(labels));
}

/** Field selectors over any dotted path of the object: `involvedObject.name=web`, `status.phase!=Running`. */
function parseFieldSelector(text: string): (item: unknown) => boolean {
  const tests = splitTopLevel(text).map((term) => {
    const match = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (match === null) throw badRequest(`invalid field selector: ${term}`);
    const [, path = "", op, value = ""] = match;
    return (item: unknown) => {
      const found = scalarText(dig(item, path.trim().split(".")));
      return op === "!=" ? found !== value : found === value;
    };
  });
  return (item) => tests.every((t) => t(item));
}

function splitTopLevel(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else current += char;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

function formatSelector(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function scalarText(value: unknown): string {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : "";
}

function dig(value: unknown, path: string[]): unknown {
  let node = value;
  for (const part of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

// ─── Small utilities ─────────────────────────────────────────────────────────────────────────

const KNOWN_RESOURCES = new Set([
  "deployments",
  "replicasets",
  "statefulsets",
  "daemonsets",
  "pods",
  "events",
]);

const key = (namespace: string, name: string) => `${namespace}/${name}`;

const logKey = (namespace: string, pod: string, container: string | undefined, previous: boolean) =>
  `${namespace}/${pod}/${container ?? ""}/${previous ? "previous" : "current"}`;

function eventMap(events: readonly KubeEvent[]): Map<string, KubeEvent> {
  return new Map(events.map((event) => [key(event.metadata.namespace, event.metadata.name), event]));
}

/** What the controller writes back to a deployment, leaving out condition timestamps. */
function observed(deployment: Deployment): string {
  const { conditions: _times, ...counts } = deployment.status ?? {};
  return canonical([deployment.metadata.annotations, counts]);
}

function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations[REVISION_ANNOTATION] ?? "0") || 0;
}

function ownerRef(apiVersion: string, kind: string, name: string, uid: string): OwnerReference {
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The pod-template-hash: stable over the template without its own hash label, in k8s' safe alphabet. */
function templateHash(template: PodTemplate): string {
  const labels = { ...template.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH];
  const digest = createHash("sha256")
    .update(canonical(toJson({ ...template, metadata: { ...template.metadata, labels } })))
    .digest();
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...digest.subarray(0, 10)].map((byte) => alphabet[byte % alphabet.length]).join("");
}

function randomName(length: number): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join("");
}

function tailLines(text: string, count: number): string {
  if (!Number.isFinite(count) || count < 0) return text;
  const lines = text.split("\n");
  const trailing = lines.at(-1) === "" ? lines.pop() : undefined;
  const kept = count === 0 ? [] : lines.slice(-count);
  return kept.join("\n") + (trailing === undefined || kept.length === 0 ? "" : "\n");
}

function numberField(record: unknown, field: string): number {
  const value = dig(record, [field]);
  return typeof value === "number" ? value : 0;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function toJson(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

/** JSON with sorted keys, for comparing templates and specs regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function zodCauses(error: z.ZodError, value: unknown): { field: string; message: string }[] {
  return error.issues.map((issue) => {
    const received = dig(value, issue.path.map(String));
    return {
      field: issue.path.map(String).join("."),
      message:
        received === undefined
          ? issue.message
          : `Invalid value: ${JSON.stringify(received)}: ${issue.message}`,
    };
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 3 * 1024 * 1024)
      throw new StatusError(413, "RequestEntityTooLarge", "request entity too large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw badRequest("the request body is not valid JSON");
  }
}

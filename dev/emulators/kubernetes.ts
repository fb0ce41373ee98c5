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
// - a deleted pod stays Terminating (deletionTimestamp = now + its grace period) until its kubelet
//   confirms; a pod on a lost node is never confirmed and stays Terminating until force-deleted, while
//   its ReplicaSet already creates the replacement (terminating pods are not counted);
// - PodDisruptionBudgets and the Eviction subresource (policy/v1) with the API server's checks;
// - `strategy: Recreate` (every old pod gone before a new one starts), `progressDeadlineSeconds`
//   (Progressing False, ProgressDeadlineExceeded), and HorizontalPodAutoscalers (autoscaling/v2) that
//   put a manually scaled target back to their own count;
// - RBAC: every request is authorised by verb, resource, subresource, API group and namespace against
//   the rules given to its bearer token, and refused with the API server's 403 Status;
// - HTTPS with a CA of its own (`tls: true`), and a service-account directory written the way a pod
//   sees it (token, ca.crt, namespace), so in-cluster configuration can be tested.
// Sources of the real behaviour are noted beside each part. Simplified: a kubelet confirms a deletion
// after `podTerminationDelayMs` (or the grace period when shorter); a lost node's pods turn unready at
// once (the real node controller waits about 40 s) and are never evicted by taint (the real one does
// after 300 s); a removed Node's pods are not garbage-collected (the real PodGC force-deletes them);
// and only the resources below exist.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { promisify } from "node:util";
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
const DEFAULT_GRACE_SECONDS = 30;
const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

// ─── Public types ────────────────────────────────────────────────────────────────────────────

export interface KubeEmulatorOptions {
  /** The bearer token the server accepts; any other (or none) answers 401. */
  readonly token?: string;
  /** How long a new pod takes to become Ready; 0 makes it Ready when created. Default 200. */
  readonly podReadyDelayMs?: number;
  /**
   * How long a kubelet takes to confirm a graceful deletion (its containers stopped), capped by the
   * grace period. Default 50.
   */
  readonly podTerminationDelayMs?: number;
  /** Serve HTTPS with a CA of the emulator's own (written by `start`, see `caPath`). Default false. */
  readonly tls?: boolean;
  /** How long the HPA controller takes to put a manually scaled target back. Default 100. */
  readonly hpaSyncMs?: number;
}

/** One RBAC PolicyRule (rbac.authorization.k8s.io/v1): `"*"` matches everything in its list. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  /** Resources, with subresources as `pods/eviction`, `deployments/scale`. */
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[] | undefined;
}

/** A service account and what it may do: Role rules per namespace, ClusterRole rules cluster-wide. */
export interface ServiceAccountGrant {
  readonly namespace: string;
  readonly name: string;
  /** Default: a random token. */
  readonly token?: string;
  readonly roles: Readonly<Record<string, readonly PolicyRule[]>>;
  readonly clusterRules?: readonly PolicyRule[];
}

/** What the authoriser sees of a request (the API server's request attributes). */
export interface RequestAttributes {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export interface SeedPodDisruptionBudget {
  readonly namespace: string;
  readonly name: string;
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly minAvailable?: number;
  readonly maxUnavailable?: number;
  readonly unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
}

export interface SeedHorizontalPodAutoscaler {
  readonly namespace: string;
  readonly name: string;
  /** The Deployment it scales. */
  readonly deployment: string;
  readonly minReplicas?: number;
  readonly maxReplicas: number;
}

export interface SeedDeployment {
  readonly namespace: string;
  readonly name: string;
  readonly replicas?: number;
  readonly image?: string;
  /** Labels of the deployment, its selector and its pod template. Default `{ app: name }`. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly containerName?: string;
  /** `spec.strategy.type`; default RollingUpdate. */
  readonly strategy?: "RollingUpdate" | "Recreate";
  /** `spec.progressDeadlineSeconds`; default 600 as on the real API server. */
  readonly progressDeadlineSeconds?: number;
  /** `spec.template.spec.terminationGracePeriodSeconds`; default 30. */
  readonly terminationGracePeriodSeconds?: number;
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
  /** The authoriser's view of the request; undefined for paths that name no resource. */
  readonly attributes?: RequestAttributes;
  /** The authenticated user ("system:admin" for the emulator's own token). */
  readonly user?: string;
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
  /** Through the Eviction subresource rather than DELETE. */
  readonly eviction?: boolean;
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

interface Node {
  apiVersion: "v1";
  kind: "Node";
  metadata: Omit<ObjectMeta, "namespace"> & { namespace: string };
  spec: { taints?: { key: string; effect: string }[] };
  status: { conditions: JsonObject[] };
}

interface PodDisruptionBudget {
  apiVersion: "policy/v1";
  kind: "PodDisruptionBudget";
  metadata: ObjectMeta;
  spec: {
    selector: { matchLabels: Labels };
    minAvailable?: number;
    maxUnavailable?: number;
    unhealthyPodEvictionPolicy?: string;
  };
  status: JsonObject;
}

interface HorizontalPodAutoscaler {
  apiVersion: "autoscaling/v2";
  kind: "HorizontalPodAutoscaler";
  metadata: ObjectMeta;
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
  };
  status: { currentReplicas: number; desiredReplicas: number };
}

type Listable = { metadata: { name: string; namespace: string; labels?: Labels | undefined } };

interface Identity {
  user: string;
  /** Undefined: every request is allowed (the emulator's own admin token). */
  roles?: Readonly<Record<string, readonly PolicyRule[]>>;
  clusterRules?: readonly PolicyRule[];
}

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

/**
 * The authoriser's refusal, worded as the API server's forbidden Status (apiserver's
 * responsewriters.forbiddenMessage and errors.NewForbidden; seen verbatim in e.g. cilium/cilium#7010
 * and target/pod-reaper#89): `pods "x" is forbidden: User "system:serviceaccount:ns:sa" cannot
 * delete resource "pods" in API group "" in the namespace "ns"`; a list names no object.
 */
function forbidden(user: string, a: RequestAttributes): StatusError {
  const qualified = a.apiGroup === "" ? a.resource : `${a.resource}.${a.apiGroup}`;
  const resource = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
  const scope =
    a.namespace === undefined ? "at the cluster scope" : `in the namespace ${JSON.stringify(a.namespace)}`;
  const reason = `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  const subject = a.name === undefined ? qualified : `${qualified} ${JSON.stringify(a.name)}`;
  return new StatusError(403, "Forbidden", `${subject} is forbidden: ${reason}`, {
    ...(a.name === undefined ? {} : { name: a.name }),
    ...(a.apiGroup === "" ? {} : { group: a.apiGroup }),
    kind: a.resource,
  });
}

function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  const resource = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
  const has = (list: readonly string[], value: string) => list.includes("*") || list.includes(value);
  return (
    has(rule.apiGroups, a.apiGroup) &&
    has(rule.resources, resource) &&
    has(rule.verbs, a.verb) &&
    (rule.resourceNames === undefined ||
      rule.resourceNames.length === 0 ||
      (a.name !== undefined && rule.resourceNames.includes(a.name)))
  );
}

// ─── The emulator ────────────────────────────────────────────────────────────────────────────

export class KubeEmulator {
  readonly token: string;
  /** Every request, in order, with the status it got. */
  readonly requests: RequestRecord[] = [];
  /** Every pod deletion with the grace period the client asked for. */
  readonly deletions: PodDeletion[] = [];
  podReadyDelayMs: number;
  podTerminationDelayMs: number;
  readonly hpaSyncMs: number;
  private readonly tls: boolean;
  private readonly identities = new Map<string, Identity>();
  private readonly nodes = new Map<string, Node>();
  /** Nodes whose kubelet stopped answering: their pods are never confirmed deleted. */
  private readonly lostNodes = new Set<string>();
  private readonly budgets = new Map<string, PodDisruptionBudget>();
  private readonly autoscalers = new Map<string, HorizontalPodAutoscaler>();
  /** Per deployment: when its rollout last made progress (ms), for the progress deadline. */
  private readonly progressAt = new Map<string, number>();
  private ca = "";

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
    this.podTerminationDelayMs = options.podTerminationDelayMs ?? 50;
    this.hpaSyncMs = options.hpaSyncMs ?? 100;
    this.tls = options.tls ?? false;
    this.identities.set(this.token, { user: "system:admin" });
    this.addNode(NODE_NAME);
  }

  /** The CA certificate (PEM file) that signed the server's certificate; "" without `tls`. */
  get caPath(): string {
    return this.ca === "" ? "" : join(this.dir ?? "", "ca.crt");
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
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      void this.handle(request, response);
    const server = this.tls
      ? createTlsServer(await this.makeCertificates(this.dir), handler)
      : createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    const scheme = this.tls ? "https" : "http";
    this.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.kubeconfig = await this.writeKubeconfig(this.token);
    return this;
  }

  /** The port clients reach (what KUBERNETES_SERVICE_PORT says inside a pod). */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /**
   * A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI (EC keys:
   * fast). The real API server's certificate is signed by the cluster CA a pod finds in ca.crt.
   */
  private async makeCertificates(dir: string): Promise<{ key: string; cert: string }> {
    const run = promisify(execFile);
    const at = (file: string) => join(dir, file);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await run("openssl", [
      "req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.crt"), "-days", "2",
      "-subj", "/CN=kube-emulator-ca",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]); // prettier-ignore
    await run("openssl", [
      "req", ...ec, "-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=kube-apiserver",
    ]); // prettier-ignore
    await writeFile(
      at("server.ext"),
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n",
    );
    await run("openssl", [
      "x509", "-req", "-in", at("server.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key"),
      "-CAcreateserial", "-out", at("server.crt"), "-days", "2", "-extfile", at("server.ext"),
    ]); // prettier-ignore
    this.ca = await readFile(at("ca.crt"), "utf8");
    return { key: await readFile(at("server.key"), "utf8"), cert: await readFile(at("server.crt"), "utf8") };
  }

  /**
   * A service account bound to Roles (per namespace) and a ClusterRole; returns its bearer token.
   * Requests with that token are authorised against exactly these rules (RBAC denies by default).
   */
  grant(account: ServiceAccountGrant): string {
    const token = account.token ?? `sa-${randomBytes(12).toString("hex")}`;
    this.identities.set(token, {
      user: `system:serviceaccount:${account.namespace}:${account.name}`,
      roles: account.roles,
      clusterRules: account.clusterRules ?? [],
    });
    return token;
  }

  /**
   * A directory laid out as a pod's /var/run/secrets/kubernetes.io/serviceaccount: `token`,
   * `ca.crt` (this server's CA) and `namespace`. Needs `tls`.
   */
  async writeServiceAccountDir(token: string, namespace: string): Promise<string> {
    if (this.dir === undefined || this.ca === "") throw new Error("start the emulator with tls first");
    const path = join(this.dir, `serviceaccount-${randomBytes(4).toString("hex")}`);
    await mkdir(path);
    await writeFile(join(path, "token"), token);
    await writeFile(join(path, "ca.crt"), this.ca);
    await writeFile(join(path, "namespace"), namespace);
    return path;
  }

  /** Another kubeconfig for this server; `token: undefined` gives one with no credentials at all. */
  async writeKubeconfig(token: string | undefined, file = `kubeconfig-${randomBytes(4).toString("hex")}`) {
    if (this.dir === undefined) throw new Error("start the emulator first");
    const path = join(this.dir, file);
    const user = token === undefined ? "{}" : `{ token: ${JSON.stringify(token)} }`;
    // client-node refuses a plain http:// server unless TLS verification is switched off.
    const trust = this.tls
      ? `certificate-authority: ${JSON.stringify(join(this.dir, "ca.crt"))}`
      : "insecure-skip-tls-verify: true";
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{ name: emulator, cluster: { server: ${JSON.stringify(this.url)}, ${trust} } }]`,
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
        // The API server's defaults (apps/v1 SetDefaults_Deployment) are written out, as it does.
        strategy:
          seed.strategy === "Recreate"
            ? { type: "Recreate" }
            : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
        progressDeadlineSeconds: seed.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            containers: [{ name: seed.containerName ?? "app", image: seed.image ?? "registry.local/app:1" }],
            terminationGracePeriodSeconds: seed.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
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

  /** A Ready node; pods are scheduled on the Ready node with the fewest pods. */
  addNode(name: string): void {
    this.lostNodes.delete(name);
    this.nodes.set(key("", name), {
      apiVersion: "v1",
      kind: "Node",
      metadata: { ...this.newMeta("", name), labels: { "kubernetes.io/hostname": name } },
      spec: {},
      status: { conditions: [{ ...condition("Ready", true), reason: "KubeletReady" }] },
    });
  }

  /**
   * The node's kubelet stops answering (powered off, cut off): as the node lifecycle controller
   * does, the node's Ready condition becomes Unknown with the unreachable taint, and its pods' Ready
   * condition False. Its pods are not replaced until deleted, and a deletion is never confirmed.
   * Source: kubernetes.io docs, "Nodes" (node status, heartbeats) and "Taints and Tolerations".
   */
  loseNode(name: string): void {
    const node = this.find(this.nodes, "", name, "nodes");
    this.lostNodes.add(name);
    node.status.conditions = [
      {
        ...condition("Ready", false, "NodeStatusUnknown"),
        status: "Unknown",
        message: "Kubelet stopped posting node status.",
      },
    ];
    node.spec.taints = [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }];
    node.metadata.resourceVersion = this.nextVersion();
    for (const pod of this.pods.values()) {
      if (pod.spec.nodeName !== name) continue;
      pod.status = { ...pod.status, conditions: notReadyConditions() };
      pod.metadata.resourceVersion = this.nextVersion();
    }
    this.reconcileAll();
  }

  /** The Node object is deleted (the machine is gone for good); its pods stay as they were. */
  removeNode(name: string): void {
    this.find(this.nodes, "", name, "nodes");
    this.lostNodes.add(name);
    this.nodes.delete(key("", name));
  }

  /** A PodDisruptionBudget (policy/v1); its status is computed on every read and eviction. */
  seedPodDisruptionBudget(seed: SeedPodDisruptionBudget): void {
    this.budgets.set(key(seed.namespace, seed.name), {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { ...this.newMeta(seed.namespace, seed.name), generation: 1 },
      spec: {
        selector: { matchLabels: { ...seed.matchLabels } },
        ...(seed.minAvailable === undefined ? {} : { minAvailable: seed.minAvailable }),
        ...(seed.maxUnavailable === undefined ? {} : { maxUnavailable: seed.maxUnavailable }),
        ...(seed.unhealthyPodEvictionPolicy === undefined
          ? {}
          : { unhealthyPodEvictionPolicy: seed.unhealthyPodEvictionPolicy }),
      },
      status: {},
    });
  }

  /** A HorizontalPodAutoscaler (autoscaling/v2) that owns the Deployment's replica count. */
  seedHorizontalPodAutoscaler(seed: SeedHorizontalPodAutoscaler): void {
    const target = this.deployment(seed.namespace, seed.deployment);
    const minReplicas = seed.minReplicas ?? 1;
    const desired = Math.min(seed.maxReplicas, Math.max(minReplicas, target.spec.replicas));
    this.autoscalers.set(key(seed.namespace, seed.name), {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { ...this.newMeta(seed.namespace, seed.name) },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: seed.deployment },
        minReplicas,
        maxReplicas: seed.maxReplicas,
      },
      status: { currentReplicas: target.spec.replicas, desiredReplicas: desired },
    });
  }

  /** A pod as stored (Terminating ones included), or undefined once it is gone. */
  pod(namespace: string, name: string): Readonly<Pod> | undefined {
    return this.pods.get(key(namespace, name));
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

  /** The names of the deployment's current pods (not Terminating), oldest first. */
  podNames(namespace: string, deployment: string): string[] {
    const owners = new Set(this.ownedReplicaSets(namespace, deployment).map((rs) => rs.metadata.uid));
    return [...this.pods.values()]
      .filter(
        (pod) =>
          pod.metadata.namespace === namespace &&
          pod.metadata.deletionTimestamp === undefined &&
          owners.has(pod.metadata.ownerReferences[0]?.uid ?? ""),
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
    const method = request.method ?? "GET";
    const attributes = requestAttributes(method, url);
    let body: unknown;
    let status: number;
    let user: string | undefined;
    try {
      const raw = await readBody(request);
      if (raw.length > 0) body = parseJson(raw);
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      const identity = bearer === undefined ? undefined : this.identities.get(bearer);
      if (identity === undefined) throw new StatusError(401, "Unauthorized", "Unauthorized");
      user = identity.user;
      if (attributes === undefined)
        throw new StatusError(404, "NotFound", "the server could not find the requested resource");
      if (!allows(identity, attributes)) throw forbidden(identity.user, attributes);
      const answer = this.route(method, attributes, url, contentType, body);
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
      ...(attributes === undefined ? {} : { attributes }),
      ...(user === undefined ? {} : { user }),
      method,
      path: url.pathname,
      query,
      ...(contentType === undefined ? {} : { contentType }),
      ...(body === undefined ? {} : { body }),
      status,
    });
  }

  private route(
    method: string,
    a: RequestAttributes,
    url: URL,
    contentType: string | undefined,
    body: unknown,
  ): { status?: number; body: unknown } {
    const target = `${method} ${a.apiGroup === "" ? "" : `${a.apiGroup}/`}${a.resource}${a.name === undefined ? "" : "/name"}${a.subresource === undefined ? "" : `/${a.subresource}`}`;
    const namespace = a.namespace;
    const ns = namespace ?? "";
    const n = a.name ?? "";
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
      case "POST pods/name/eviction":
        return { status: 201, body: this.evict(ns, n, body) };
      case "GET pods/name/log":
        return { body: this.podLog(ns, n, params) };
      case "GET events":
        return { body: this.list("EventList", "v1", eventMap(this.events), namespace, params) };
      case "GET nodes":
        return { body: this.list("NodeList", "v1", this.nodes, undefined, params) };
      case "GET nodes/name":
        return { body: this.find(this.nodes, "", n, "nodes") };
      case "GET policy/poddisruptionbudgets":
        this.budgets.forEach((pdb) => this.writeBudgetStatus(pdb));
        return { body: this.list("PodDisruptionBudgetList", "policy/v1", this.budgets, namespace, params) };
      case "GET policy/poddisruptionbudgets/name": {
        const pdb = this.find(this.budgets, ns, n, "poddisruptionbudgets.policy");
        this.writeBudgetStatus(pdb);
        return { body: pdb };
      }
      case "GET autoscaling/horizontalpodautoscalers":
        return {
          body: this.list(
            "HorizontalPodAutoscalerList",
            "autoscaling/v2",
            this.autoscalers,
            namespace,
            params,
          ),
        };
      case "GET autoscaling/horizontalpodautoscalers/name":
        return { body: this.find(this.autoscalers, ns, n, "horizontalpodautoscalers.autoscaling") };
      default:
        if (/^(GET|PATCH|PUT|DELETE|POST) /.test(target) && KNOWN_RESOURCES.has(a.resource)) {
          throw new StatusError(
            405,
            "MethodNotAllowed",
            `the server does not allow this method on ${a.resource}`,
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
    this.syncAutoscalers(stored);
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
    return this.terminate(pod, grace);
  }

  /**
   * A graceful deletion (pod termination in the kubernetes.io docs, "Pod Lifecycle"): the API server
   * sets deletionTimestamp to now plus the grace period (the request's, else the pod's
   * terminationGracePeriodSeconds) and keeps the object; the kubelet stops the containers and then
   * confirms, which removes it. A pod on a lost node is never confirmed: it stays Terminating until
   * deleted with grace period 0 (`--force`). The ReplicaSet replaces it at once: Terminating pods
   * are not counted. A second deletion may only shorten the grace period.
   */
  private terminate(pod: Pod, requested: number | undefined): Pod {
    const { namespace, name } = pod.metadata;
    const own =
      typeof pod.spec.terminationGracePeriodSeconds === "number"
        ? pod.spec.terminationGracePeriodSeconds
        : DEFAULT_GRACE_SECONDS;
    const grace = Math.max(
      0,
      Math.min(requested ?? own, pod.metadata.deletionGracePeriodSeconds ?? Infinity),
    );
    const first = pod.metadata.deletionTimestamp === undefined;
    if (first || grace < (pod.metadata.deletionGracePeriodSeconds ?? Infinity)) {
      pod.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000)
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z");
      pod.metadata.deletionGracePeriodSeconds = grace;
      pod.metadata.resourceVersion = this.nextVersion();
    }
    if (first) {
      pod.status = { ...pod.status, conditions: notReadyConditions() };
      const container = pod.spec.containers[0]?.name ?? "app";
      if (!this.lostNodes.has(pod.spec.nodeName)) {
        this.recordEvent(
          namespace,
          { kind: "Pod", name },
          "Killing",
          `Stopping container ${container}`,
          "Normal",
        );
      }
    }
    const stored = structuredClone(pod);
    const owner = this.ownerDeployment(pod);
    const gone = () => {
      if (this.pods.get(key(namespace, name)) !== pod) return;
      this.pods.delete(key(namespace, name));
      if (owner !== undefined) this.reconcileByName(namespace, owner);
    };
    if (grace === 0) gone();
    else if (!this.lostNodes.has(pod.spec.nodeName)) {
      this.later(Math.min(grace * 1000, this.podTerminationDelayMs), gone);
    }
    if (owner !== undefined) this.later(0, () => this.reconcileByName(namespace, owner));
    return stored;
  }

  /**
   * POST pods/{name}/eviction (policy/v1 Eviction), as the API server's eviction REST handler does:
   * a pod that is already Terminating, or not Running, is deleted without looking at budgets; with
   * no PodDisruptionBudget it is deleted; more than one is a 500; an unhealthy pod may go when its
   * budget is healthy (IfHealthyBudget, the default) or always (AlwaysAllow); otherwise one
   * disruption must be allowed, else 429 TooManyRequests "Cannot evict pod as it would violate the
   * pod's disruption budget." with a DisruptionBudget cause. Sources: kubernetes.io "API-initiated
   * Eviction" and "Specifying a Disruption Budget"; the 429 body as in kubernetes/kubernetes#36409.
   */
  private evict(namespace: string, name: string, body: unknown): JsonObject {
    const pod = this.find(this.pods, namespace, name, "pods");
    const eviction = z
      .looseObject({
        metadata: z.looseObject({ name: z.string().optional() }).optional(),
        deleteOptions: z.looseObject({ gracePeriodSeconds: z.number().int().optional() }).optional(),
      })
      .safeParse(body ?? {});
    if (!eviction.success) throw badRequest("the body is not an Eviction");
    if (eviction.data.metadata?.name !== undefined && eviction.data.metadata.name !== name) {
      throw badRequest("name in URL does not match name in Eviction object");
    }
    const grace = eviction.data.deleteOptions?.gracePeriodSeconds;
    const evicted = (): JsonObject => {
      this.deletions.push({
        namespace,
        name,
        ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
        eviction: true,
      });
      this.terminate(pod, grace);
      return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
    };
    const phase = pod.status.phase;
    if (pod.metadata.deletionTimestamp !== undefined || phase !== "Running") return evicted();
    const budgets = [...this.budgets.values()].filter(
      (pdb) =>
        pdb.metadata.namespace === namespace &&
        Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => pod.metadata.labels[k] === v),
    );
    const [budget, another] = budgets;
    if (budget === undefined) return evicted();
    if (another !== undefined) {
      throw new StatusError(
        500,
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    }
    const status = this.writeBudgetStatus(budget);
    if (!isReady(pod)) {
      const policy = budget.spec.unhealthyPodEvictionPolicy ?? "IfHealthyBudget";
      if (policy === "AlwaysAllow" || status.currentHealthy >= status.desiredHealthy) return evicted();
    }
    if (status.disruptionsAllowed <= 0) {
      throw new StatusError(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
            },
          ],
        },
      );
    }
    const answer = evicted();
    this.writeBudgetStatus(budget);
    return answer;
  }

  /**
   * The disruption controller's arithmetic: healthy pods are the selected, Ready, not Terminating
   * ones; minAvailable, else the expected count less maxUnavailable, is the healthy floor.
   */
  private writeBudgetStatus(pdb: PodDisruptionBudget) {
    const selected = [...this.pods.values()].filter(
      (pod) =>
        pod.metadata.namespace === pdb.metadata.namespace &&
        Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => pod.metadata.labels[k] === v),
    );
    const live = selected.filter((pod) => pod.metadata.deletionTimestamp === undefined);
    const currentHealthy = live.filter(isReady).length;
    const expectedPods = live.length;
    const desiredHealthy =
      pdb.spec.minAvailable ?? Math.max(0, expectedPods - (pdb.spec.maxUnavailable ?? 0));
    const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
    const status = {
      observedGeneration: pdb.metadata.generation ?? 1,
      currentHealthy,
      desiredHealthy,
      expectedPods,
      disruptionsAllowed,
    };
    pdb.status = {
      ...status,
      conditions: [
        {
          type: "DisruptionAllowed",
          status: disruptionsAllowed > 0 ? "True" : "False",
          reason: disruptionsAllowed > 0 ? "SufficientPods" : "InsufficientPods",
          lastTransitionTime: new Date().toISOString(),
          observedGeneration: pdb.metadata.generation ?? 1,
        },
      ],
    };
    return status;
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
    if (strategyOf(deployment) === "Recreate") {
      // Recreate (kubernetes.io "Deployments", Strategy): every old pod is killed, and new ones are
      // created only once no old pod is left, Terminating ones included; downtime is expected.
      for (const rs of old) this.scaleReplicaSet(deployment, rs, 0, options);
      const oldLeft = old.some((rs) => this.allPodsOf(rs).length > 0);
      this.scaleReplicaSet(deployment, newRs, oldLeft ? newRs.spec.replicas : desired, options);
    } else {
      this.scaleReplicaSet(deployment, newRs, desired, options);
      // Old pods go only as new ones become Ready, so the deployment never drops below its replicas.
      let oldBudget = Math.max(0, desired - this.readyPods(newRs).length);
      for (const rs of old.sort((a, b) => revisionOf(b) - revisionOf(a))) {
        const keep = Math.min(rs.spec.replicas, oldBudget);
        oldBudget -= keep;
        this.scaleReplicaSet(deployment, rs, keep, options);
      }
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
    // Scale down deletes pods that are not Ready first, then the newest; each terminates gracefully.
    const surplus = pods
      .sort(
        (a, b) => Number(isReady(a)) - Number(isReady(b)) || b.metadata.name.localeCompare(a.metadata.name),
      )
      .slice(0, Math.max(0, pods.length - replicas));
    for (const pod of surplus) {
      if (options.podsReadyNow === true) this.pods.delete(key(pod.metadata.namespace, pod.metadata.name));
      else this.terminate(pod, undefined);
    }
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
      spec: { ...structuredClone(rs.spec.template.spec), nodeName: this.schedule(rs.metadata.uid) },
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
      const now = this.pods.get(key(namespace, name));
      if (now === undefined || now.metadata.deletionTimestamp !== undefined) return;
      // No Ready node: the pod stays Pending (unschedulable), as on a cluster whose nodes are all gone.
      if (pod.spec.nodeName === "" || this.lostNodes.has(pod.spec.nodeName)) return;
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
    const exceeded =
      !complete && this.progressDeadlinePassed(deployment, `${newRs.metadata.name}/${updated}/${ready}`);
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
        // kubernetes.io "Deployments", Failed Deployment: past progressDeadlineSeconds without
        // progress, Progressing turns False with reason ProgressDeadlineExceeded.
        {
          type: "Progressing",
          status: exceeded ? "False" : "True",
          reason: complete
            ? "NewReplicaSetAvailable"
            : exceeded
              ? "ProgressDeadlineExceeded"
              : "ReplicaSetUpdated",
          message: complete
            ? `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`
            : exceeded
              ? `ReplicaSet "${newRs.metadata.name}" has timed out progressing.`
              : `ReplicaSet "${newRs.metadata.name}" is progressing.`,
          lastUpdateTime: now,
          lastTransitionTime: now,
        },
      ],
    };
  }

  /**
   * Whether a rollout that is not complete has gone `progressDeadlineSeconds` without progress (a new
   * pod created or becoming Ready); schedules the controller's look at the deadline.
   */
  private progressDeadlinePassed(deployment: Deployment, progress: string): boolean {
    if (deployment.spec.paused === true) return false;
    const id = `${key(deployment.metadata.namespace, deployment.metadata.name)}#${progress}`;
    const deadlineMs = progressDeadlineOf(deployment) * 1000;
    const since = this.progressAt.get(id);
    if (since === undefined) {
      for (const k of this.progressAt.keys())
        if (k.startsWith(`${key(deployment.metadata.namespace, deployment.metadata.name)}#`))
          this.progressAt.delete(k);
      this.progressAt.set(id, Date.now());
      const { namespace, name } = deployment.metadata;
      this.later(deadlineMs + 10, () => this.reconcileByName(namespace, name));
      return false;
    }
    return Date.now() - since >= deadlineMs;
  }

  /**
   * The scheduler, reduced to its spreading: the Ready node with the fewest live pods of this
   * ReplicaSet, then the fewest live pods at all ("" when no node is Ready).
   */
  private schedule(owner: string): string {
    const live = [...this.pods.values()].filter((pod) => pod.metadata.deletionTimestamp === undefined);
    const load = (node: string, own: boolean) =>
      live.filter(
        (pod) =>
          pod.spec.nodeName === node && (!own || pod.metadata.ownerReferences.some((o) => o.uid === owner)),
      ).length;
    const ready = [...this.nodes.values()]
      .map((node) => node.metadata.name)
      .filter((node) => !this.lostNodes.has(node))
      .sort((a, b) => load(a, true) - load(b, true) || load(a, false) - load(b, false) || a.localeCompare(b));
    return ready[0] ?? "";
  }

  /** The HPA controller: a target whose replicas differ from the autoscaler's count is put back. */
  private syncAutoscalers(deployment: Deployment): void {
    const { namespace, name } = deployment.metadata;
    for (const hpa of this.autoscalers.values()) {
      if (hpa.metadata.namespace !== namespace || hpa.spec.scaleTargetRef.name !== name) continue;
      if (hpa.spec.scaleTargetRef.kind !== "Deployment") continue;
      const desired = hpa.status.desiredReplicas;
      if (deployment.spec.replicas === desired) continue;
      this.later(this.hpaSyncMs, () => {
        const current = this.deployments.get(key(namespace, name));
        if (current === undefined || current.spec.replicas === desired) return;
        this.recordEvent(
          namespace,
          { kind: "HorizontalPodAutoscaler", name: hpa.metadata.name },
          "SuccessfulRescale",
          `New size: ${desired}; reason: the replica count is the autoscaler's`,
          "Normal",
        );
        this.store(current, { ...current, spec: { ...current.spec, replicas: desired } });
        hpa.status = { currentReplicas: desired, desiredReplicas: desired };
      });
    }
  }

  // ─── Helpers over the stores ───────────────────────────────────────────────────────────────

  private ownedReplicaSets(namespace: string, deployment: string): ReplicaSet[] {
    const uid = this.deployments.get(key(namespace, deployment))?.metadata.uid;
    return [...this.replicaSets.values()].filter(
      (rs) => rs.metadata.namespace === namespace && rs.metadata.ownerReferences.some((o) => o.uid === uid),
    );
  }

  /** The ReplicaSet's live pods: Terminating ones no longer count (the controller replaces them). */
  private podsOf(rs: ReplicaSet): Pod[] {
    return this.allPodsOf(rs).filter((pod) => pod.metadata.deletionTimestamp === undefined);
  }

  private allPodsOf(rs: ReplicaSet): Pod[] {
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
    // the server keeps the process alive while it listens; a 600 s progress deadline must not
    timer.unref();
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

function notReadyConditions(): JsonObject[] {
  return [
    condition("PodScheduled", true),
    condition("Initialized", true),
    condition("ContainersReady", false, "ContainersNotReady"),
    condition("Ready", false, "ContainersNotReady"),
  ];
}

function strategyOf(deployment: Deployment): string {
  const strategy = (deployment.spec as { strategy?: { type?: unknown } }).strategy;
  return typeof strategy?.type === "string" ? strategy.type : "RollingUpdate";
}

function progressDeadlineOf(deployment: Deployment): number {
  const seconds = (deployment.spec as { progressDeadlineSeconds?: unknown }).progressDeadlineSeconds;
  return typeof seconds === "number" ? seconds : DEFAULT_PROGRESS_DEADLINE_SECONDS;
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
  "nodes",
  "poddisruptionbudgets",
  "horizontalpodautoscalers",
]);

/** The API groups and versions served; any other path is a 404. */
const SERVED_VERSIONS: Readonly<Record<string, string>> = {
  "": "v1",
  apps: "v1",
  policy: "v1",
  autoscaling: "v2",
};

/**
 * A request as the authoriser sees it (apiserver's RequestInfo): verb from the method (GET of one
 * object `get`, of a collection `list`, or `watch`), group, resource, subresource, namespace, name.
 */
function requestAttributes(method: string, url: URL): RequestAttributes | undefined {
  const match =
    /^\/(?:api\/(v1)|apis\/([a-z0-9.]+)\/(v[0-9a-z]+))(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(
      url.pathname,
    );
  if (match === null) return undefined;
  const [, core, group = "", version, namespace, resource = "", name, subresource] = match;
  const apiGroup = core === undefined ? group : "";
  if (SERVED_VERSIONS[apiGroup] !== (core ?? version)) return undefined;
  const verbs: Record<string, string> = {
    GET: name === undefined ? (url.searchParams.get("watch") === "true" ? "watch" : "list") : "get",
    POST: "create",
    PUT: "update",
    PATCH: "patch",
    DELETE: name === undefined ? "deletecollection" : "delete",
  };
  return {
    verb: verbs[method] ?? method.toLowerCase(),
    apiGroup,
    resource,
    ...(subresource === undefined ? {} : { subresource }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
  };
}

/** RBAC: a namespaced request is allowed by a Role in its namespace or a ClusterRole; others only by a ClusterRole. */
function allows(identity: Identity, a: RequestAttributes): boolean {
  if (identity.roles === undefined) return true;
  const rules = [
    ...(a.namespace === undefined ? [] : (identity.roles[a.namespace] ?? [])),
    ...(identity.clusterRules ?? []),
  ];
  return rules.some((rule) => ruleAllows(rule, a));
}

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

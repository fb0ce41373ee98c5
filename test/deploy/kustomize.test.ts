// The Kubernetes manifests as `kubectl apply -k deploy/` would send them: rendered by kubectl's
// own kustomize, then checked object by object against what the code expects (the settings it
// reads, the health routes it serves, the roles it knows, its shutdown limit). Also the Secret
// template (refused by the bot unchanged), the NodePort override and the Alertmanager snippet.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { SHUTDOWN_LIMIT_MS } from "../../app/infrastructure.js";
import { testEnv } from "../../dev/env.js";
import { ConfigError, parseConfig, SECRET_KEYS, SETTING_NAMES } from "../../registry/config.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface Probe {
  httpGet: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  strategy?: { type: string; rollingUpdate?: { maxSurge: number; maxUnavailable: number } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

async function kustomize(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run("kubectl", ["kustomize", dir], { maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: unknown) => {
      const message = (error as Error & { stderr?: string }).stderr ?? (error as Error).message;
      throw new Error(`kubectl kustomize ${dir} failed (kubectl must be installed): ${message}`);
    },
  );
  return parseAllDocuments(stdout).map((document) => document.toJS() as K8sObject);
}

/** Mebibytes of a Kubernetes memory quantity (Mi or Gi only, as these manifests use). */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (match?.[1] === undefined) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/**
 * Measured peak RSS (MB) of `node dist/main.js` per role, as the pods run it: see the README's
 * "Deploy on K3s" (http: its peak under the bench's 100-alert load).
 */
const MEASURED_RSS_MB = { http: 118, worker: 147, bot: 145 };

let objects: K8sObject[];
const find = (kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);
const deployment = (role: string) =>
  find("Deployment", `chatops-bot-${role}`)?.spec as unknown as DeploymentSpec;
const configMap = (prefix: string) =>
  objects.find((object) => object.kind === "ConfigMap" && object.metadata.name.startsWith(prefix));

beforeAll(async () => {
  objects = await kustomize(path.join(ROOT, "deploy"));
});

describe("kubectl kustomize deploy/", () => {
  it("renders the namespace, RBAC, both ConfigMaps, three Deployments, the Service and the budgets", async () => {
    const kinds = objects.map(
      (object) => `${object.kind}/${object.metadata.name.replace(/-[a-z0-9]{10}$/, "")}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Namespace/chatops",
        "ServiceAccount/chatops-bot",
        "ConfigMap/chatops-bot-config",
        "ConfigMap/chatops-bot-registry",
        "Deployment/chatops-bot-http",
        "Deployment/chatops-bot-worker",
        "Deployment/chatops-bot-bot",
        "Service/chatops-bot",
        "PodDisruptionBudget/chatops-bot-http",
        "PodDisruptionBudget/chatops-bot-worker",
        "PodDisruptionBudget/chatops-bot-bot",
      ]),
    );
    // The same objects without the local layer (deploy/k8s), apart from the image tag.
    const plain = await kustomize(path.join(ROOT, "deploy/k8s"));
    expect(plain.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(
      objects.map((object) => `${object.kind}/${object.metadata.name}`).sort(),
    );
    // Every object in the bot's namespace but the Roles, which sit where they grant access, and the
    // cluster-wide ones (the ClusterRole that reads nodes, which are not namespaced, and its binding).
    for (const object of objects) {
      if (["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(object.kind)) continue;
      if (object.kind === "Role" || object.kind === "RoleBinding") continue;
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe("chatops");
    }
  });

  it("runs each role with its replica count, every one rolled one pod at a time with none down", () => {
    const expected = { http: 2, worker: 2, bot: 2 };
    for (const [role, replicas] of Object.entries(expected)) {
      const spec = deployment(role);
      expect(spec.replicas, role).toBe(replicas);
      expect(matches(spec.selector.matchLabels, spec.template.metadata.labels), role).toBe(true);
      const [container] = spec.template.spec.containers;
      expect(container?.env?.find((env) => env.name === "ROLES")?.value, role).toBe(role);
      expect(container?.image, role).toBe("chatops-bot:0.1.0");
    }
    // The bot too: the poller lease keeps a second bot process a standby, never a second poller
    // (test/e2e/replica-processes.test.ts), so its pods are replaced as the others' are.
    for (const role of Object.keys(expected))
      expect(deployment(role).strategy, role).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
      });
  });

  it("gives every pod settings the bot accepts, with the secrets only in the Secret", () => {
    const config = configMap("chatops-bot-config")?.data ?? {};
    for (const name of Object.keys(config)) {
      expect(SETTING_NAMES, name).toContain(name);
      expect(SECRET_KEYS.has(name), `${name} is a secret and must not be in a ConfigMap`).toBe(false);
    }
    for (const role of ["http", "worker", "bot"]) {
      const [container] = deployment(role).template.spec.containers;
      const refs = container?.envFrom ?? [];
      expect(refs.map((ref) => ref.configMapRef?.name ?? ref.secretRef?.name)).toEqual([
        configMap("chatops-bot-config")?.metadata.name,
        "chatops-bot-secrets",
      ]);
      const env = Object.fromEntries((container?.env ?? []).map((item) => [item.name, item.value]));
      for (const name of Object.keys(env)) {
        if (name !== "NODE_OPTIONS") expect(SETTING_NAMES, name).toContain(name);
      }
      // What the pod's process would read, with the secrets of a test run in place of the Secret.
      const parsed = parseConfig(
        testEnv({ ...config, ...env, REGISTRY_PATH: path.join(ROOT, "registry/services.yaml") }),
      );
      expect(parsed.roles).toEqual([role]);
      expect(parsed.local.mode).toBe("off");
      // Roles without `http` answer their probes on HEALTH_PORT, which must be the probed port.
      const probed = container?.ports?.find((port) => port.name === "http")?.containerPort;
      expect(role === "http" ? parsed.http.port : parsed.http.healthPort).toBe(probed);
    }
  });

  it("probes liveness on /api/v1/health/live and readiness on /api/v1/health, and drains within the grace period", () => {
    const config = configMap("chatops-bot-config")?.data ?? {};
    const delaySeconds = Number(config.SHUTDOWN_DELAY_SECONDS);
    expect(delaySeconds).toBeGreaterThan(0);
    for (const role of ["http", "worker", "bot"]) {
      const pod = deployment(role).template.spec;
      const [container] = pod.containers;
      expect(container?.livenessProbe?.httpGet).toEqual({ path: "/api/v1/health/live", port: "http" });
      expect(container?.startupProbe?.httpGet).toEqual({ path: "/api/v1/health/live", port: "http" });
      expect(container?.readinessProbe?.httpGet).toEqual({ path: "/api/v1/health", port: "http" });
      // Readiness must be seen false within the drain delay, so the Service stops sending first.
      const readiness = container?.readinessProbe;
      expect((readiness?.periodSeconds ?? 10) * (readiness?.failureThreshold ?? 3)).toBeLessThanOrEqual(
        delaySeconds,
      );
      // The start-up probe allows the 5 minutes start-up waits for PostgreSQL and Redis.
      const startup = container?.startupProbe;
      expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(300);
      // The whole stop (drain delay + shutdown steps) ends before Kubernetes kills the pod.
      expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(
        delaySeconds + SHUTDOWN_LIMIT_MS / 1000,
      );
    }
  });

  it("sets requests and limits above the measured footprint, and runs as uid 1000 without privileges", () => {
    for (const role of ["http", "worker", "bot"]) {
      const pod = deployment(role).template.spec;
      const [container] = pod.containers;
      const requests = container?.resources?.requests ?? {};
      const limits = container?.resources?.limits ?? {};
      // RSS of the compiled process per role, measured after alerts with the Kubernetes client
      // loaded (README, "Deploy on K3s"): a pod must be scheduled with it and may double it.
      const measuredMb = MEASURED_RSS_MB[role as keyof typeof MEASURED_RSS_MB];
      expect(mebibytes(requests.memory ?? "0Mi")).toBeGreaterThan(measuredMb);
      expect(mebibytes(limits.memory ?? "0Mi")).toBeGreaterThanOrEqual(2 * measuredMb);
      expect(requests.cpu).toBeDefined();
      const heap = container?.env?.find((env) => env.name === "NODE_OPTIONS")?.value ?? "";
      const heapMb = Number(/--max-old-space-size=(\d+)/.exec(heap)?.[1]);
      expect(heapMb).toBeLessThan(mebibytes(limits.memory ?? "0Mi"));
      expect(pod.serviceAccountName).toBe("chatops-bot");
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container?.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("runs a pod's own node flags on the image's program and script (the http pod's: a smaller young generation)", async () => {
    // the image's CMD, exec form: ["node", flags…, "main.js"]
    const dockerfile = await readFile(path.join(ROOT, "Dockerfile"), "utf8");
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(cmd[0]).toBe("node");
    for (const role of ["http", "worker", "bot"]) {
      const args = deployment(role).template.spec.containers[0]?.args;
      if (args === undefined) continue;
      expect([args[0], args.at(-1)], role).toEqual([cmd[0], cmd.at(-1)]);
      expect(
        args.slice(1, -1).every((flag) => flag.startsWith("--")),
        role,
      ).toBe(true);
    }
    // what the bench measures the intake-only figure with (bench/bot-process.ts, podCommand)
    expect(deployment("http").template.spec.containers[0]?.args).toContain("--max-semi-space-size=8");
  });

  it("mounts the registry ConfigMap where REGISTRY_PATH points, with the repository's registry in it", async () => {
    const registry = configMap("chatops-bot-registry");
    // kustomize reads no file outside deploy/: the copy must be refreshed when the registry changes
    // (cp registry/services.yaml deploy/k8s/base/registry/services.yaml)
    expect(registry?.data?.["services.yaml"]).toBe(
      await readFile(path.join(ROOT, "registry/services.yaml"), "utf8"),
    );
    const registryPath = configMap("chatops-bot-config")?.data?.REGISTRY_PATH ?? "";
    for (const role of ["http", "worker", "bot"]) {
      const pod = deployment(role).template.spec;
      const volume = pod.volumes?.find((item) => item.configMap?.name === registry?.metadata.name);
      const mount = pod.containers[0]?.volumeMounts?.find((item) => item.name === volume?.name);
      expect(mount, role).toBeDefined();
      expect(`${mount?.mountPath}/services.yaml`).toBe(registryPath);
    }
  });

  it("exposes only the http pods on NodePort 32334, and budgets keep one http and one worker pod", () => {
    const service = find("Service", "chatops-bot")?.spec as {
      type: string;
      selector: Record<string, string>;
      ports: { port: number; targetPort: string; nodePort: number }[];
    };
    expect(service.type).toBe("NodePort");
    expect(service.ports[0]).toMatchObject({ port: 8080, targetPort: "http", nodePort: 32334 });
    for (const role of ["http", "worker", "bot"]) {
      expect(matches(service.selector, deployment(role).template.metadata.labels), role).toBe(
        role === "http",
      );
    }
    for (const role of ["http", "worker", "bot"]) {
      const budget = find("PodDisruptionBudget", `chatops-bot-${role}`)?.spec as {
        minAvailable: number;
        selector: { matchLabels: Record<string, string> };
      };
      expect(budget.minAvailable).toBeLessThan(deployment(role).replicas);
      for (const other of ["http", "worker", "bot"]) {
        const labels = deployment(other).template.metadata.labels;
        expect(matches(budget.selector.matchLabels, labels), `${role} budget vs ${other}`).toBe(
          other === role,
        );
      }
    }
  });

  it("lets an overlay move the NodePort", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chatops-overlay-"));
    try {
      await writeFile(
        path.join(dir, "kustomization.yaml"),
        [
          // kustomize takes only relative paths to a base
          `resources: [${path.relative(dir, path.join(ROOT, "deploy/k8s/base"))}]`,
          "patches:",
          "  - target: { kind: Service, name: chatops-bot }",
          "    patch: |-",
          "      - op: replace",
          "        path: /spec/ports/0/nodePort",
          "        value: 30080",
          "",
        ].join("\n"),
      );
      const rendered = await kustomize(dir);
      const service = rendered.find((object) => object.kind === "Service")?.spec as {
        ports: { nodePort: number }[];
      };
      expect(service.ports[0]?.nodePort).toBe(30080);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("deploy/k8s/secret.example.yaml", () => {
  it("names every required secret, only known settings, and is refused by the bot unchanged", async () => {
    const secret = parse(
      await readFile(path.join(ROOT, "deploy/k8s/secret.example.yaml"), "utf8"),
    ) as K8sObject;
    expect(secret.metadata).toEqual({ name: "chatops-bot-secrets", namespace: "chatops" });
    const data = secret.stringData ?? {};
    for (const name of Object.keys(data)) expect(SETTING_NAMES, name).toContain(name);
    for (const name of [
      "API_TOKEN",
      "TELEGRAM_BOT_TOKEN",
      "TELEGRAM_CHAT_ID",
      "ALERTMANAGER_WEBHOOK_SECRET",
      "REDIS_URL",
      "DATABASE_URL",
    ]) {
      expect(Object.keys(data), name).toContain(name);
    }
    // The pods' settings with the template's values, as a pod started before editing it would read.
    const config = configMap("chatops-bot-config")?.data ?? {};
    let refused: unknown;
    try {
      parseConfig({ ...config, ...data, ROLES: "http" });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    const message = (refused as Error).message;
    for (const name of ["API_TOKEN", "ALERTMANAGER_WEBHOOK_SECRET", "SENTRY_WEBHOOK_SECRET"]) {
      expect(message).toContain(`${name} is a placeholder`);
    }
    for (const name of ["TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID"]) expect(message).toContain(name);
    // No secret's value ever shows up in the error.
    for (const [name, value] of Object.entries(data)) {
      if (SECRET_KEYS.has(name) && value !== "") expect(message, name).not.toContain(value);
    }
  });
});

describe("deploy/k8s/alertmanager-receiver.yaml", () => {
  it("posts to the Service's webhook route with basic auth as user alertmanager", async () => {
    const snippet = parse(
      await readFile(path.join(ROOT, "deploy/k8s/alertmanager-receiver.yaml"), "utf8"),
    ) as {
      route: { receiver: string };
      receivers: {
        name: string;
        webhook_configs: { url: string; http_config: { basic_auth: { username: string } } }[];
      }[];
    };
    const receiver = snippet.receivers.find((item) => item.name === snippet.route.receiver);
    const webhook = receiver?.webhook_configs[0];
    const url = new URL(webhook?.url ?? "");
    const service = find("Service", "chatops-bot");
    const port = (service?.spec as { ports: { port: number }[] }).ports[0]?.port;
    expect(url.host).toBe(
      `${service?.metadata.name}.${service?.metadata.namespace}.svc.cluster.local:${port}`,
    );
    expect(url.pathname).toBe("/api/v1/webhooks/alertmanager");
    expect(webhook?.http_config.basic_auth.username).toBe("alertmanager");
  });

  it("is a configuration Alertmanager accepts (amtool check-config)", async () => {
    const { stdout } = await run("amtool", [
      "check-config",
      path.join(ROOT, "deploy/k8s/alertmanager-receiver.yaml"),
    ]);
    expect(stdout).toContain("SUCCESS");
  });
});

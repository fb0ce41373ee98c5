// The RBAC manifest (deploy/k8s/base/rbac.yaml) against the code's Kubernetes calls, both ways:
// the Roles grant exactly what the gateway declares it calls (KUBE_API_CALLS), and a run of every
// Kubernetes executor, the analysis context reader, the workload read and the status probe against
// the emulator, as the manifest's service account, makes exactly those calls and meets no 403.
// A new call without a rule, or a rule no code uses any more, fails here.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { buildAnalysisContext } from "../../ai/context.js";
import { clusterGateway, deploymentReplicas } from "../../app/executors.js";
import { type ExecutionResult, type VerifyResult } from "../../executors/executor.js";
import {
  deletePod,
  restartPod,
  rollback,
  scaleUp,
  type KubeExecutorDeps,
} from "../../executors/kubernetes.js";
import { KUBE_API_CALLS, type ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import { parseConfig } from "../../registry/config.js";
import { testEnv } from "../../dev/env.js";
import { startKubeEmulator, type KubeEmulator, type PolicyRule } from "../../dev/emulators/kubernetes.js";

const MANIFEST = new URL("../../deploy/k8s/base/rbac.yaml", import.meta.url);
const ACCOUNT = { namespace: "chatops", name: "chatops-bot" };

const Rule = z.strictObject({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});
const Meta = z.looseObject({ name: z.string(), namespace: z.string().optional() });
const Subject = z.looseObject({ kind: z.string(), name: z.string(), namespace: z.string().optional() });
const Document = z.discriminatedUnion("kind", [
  z.looseObject({ kind: z.literal("ServiceAccount"), metadata: Meta }),
  z.looseObject({ kind: z.literal("Role"), metadata: Meta, rules: z.array(Rule) }),
  z.looseObject({ kind: z.literal("ClusterRole"), metadata: Meta, rules: z.array(Rule) }),
  z.looseObject({
    kind: z.enum(["RoleBinding", "ClusterRoleBinding"]),
    metadata: Meta,
    roleRef: z.looseObject({ kind: z.string(), name: z.string() }),
    subjects: z.array(Subject),
  }),
]);
type Document = z.infer<typeof Document>;

async function manifest(): Promise<Document[]> {
  const text = await readFile(MANIFEST, "utf8");
  return parseAllDocuments(text).map((doc) => Document.parse(doc.toJSON()));
}

/** "apps deployments/scale patch" for every group × resource × verb a rule grants. */
function triples(rules: readonly PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs) out.add(`${group} ${resource} ${verb}`);
  return out;
}

const declared = (scope: "namespace" | "cluster") =>
  new Set(
    KUBE_API_CALLS.filter((c) => c.scope === scope).map((c) => `${c.apiGroup} ${c.resource} ${c.verb}`),
  );

const sorted = (set: Set<string>) => [...set].sort();

describe("the manifest against the gateway's declared calls", () => {
  it("grants every allowed namespace exactly the namespaced calls, bound to the bot's service account", async () => {
    const docs = await manifest();
    expect(docs.filter((d) => d.kind === "ServiceAccount").map((d) => d.metadata)).toEqual([
      { name: ACCOUNT.name, namespace: ACCOUNT.namespace },
    ]);
    const roles = docs.flatMap((d) => (d.kind === "Role" ? [d] : []));
    // the manifest's namespaces are the ones the bot is allowed to repair by default
    const allowed = parseConfig(testEnv()).autoRepair.allowedNamespaces;
    expect(roles.map((role) => role.metadata.namespace).sort()).toEqual([...allowed].sort());
    for (const role of roles) {
      expect(
        role.rules.every((rule) => !JSON.stringify(rule).includes('"*"')),
        "no wildcards",
      ).toBe(true);
      expect(role.rules.every((rule) => rule.resourceNames === undefined)).toBe(true);
      expect(sorted(triples(role.rules)), `Role in ${role.metadata.namespace ?? "?"}`).toEqual(
        sorted(declared("namespace")),
      );
      const binding = docs.find(
        (d) => d.kind === "RoleBinding" && d.metadata.namespace === role.metadata.namespace,
      );
      expect(binding).toMatchObject({
        roleRef: { kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", ...ACCOUNT }],
      });
    }
  });

  it("grants exactly the cluster-scoped calls through one ClusterRole", async () => {
    const docs = await manifest();
    const clusterRoles = docs.flatMap((d) => (d.kind === "ClusterRole" ? [d] : []));
    expect(sorted(triples(clusterRoles.flatMap((role) => role.rules)))).toEqual(sorted(declared("cluster")));
    for (const role of clusterRoles) {
      expect(
        docs.find((d) => d.kind === "ClusterRoleBinding" && d.roleRef.name === role.metadata.name),
      ).toMatchObject({ subjects: [{ kind: "ServiceAccount", ...ACCOUNT }] });
    }
  });
});

describe("the gateway's declared calls against what the code really calls", () => {
  const NS = "awoooi-prod";
  let kube: KubeEmulator;
  let gateway: ClusterKubeGateway;
  let deps: KubeExecutorDeps;

  beforeAll(async () => {
    // the evicted pod stays Terminating through verification, which then asks about its node
    kube = await startKubeEmulator({ tls: true, podReadyDelayMs: 20, podTerminationDelayMs: 60_000 });
    const docs = await manifest();
    const token = kube.grant({
      ...ACCOUNT,
      roles: Object.fromEntries(
        docs.flatMap((d) => (d.kind === "Role" ? [[d.metadata.namespace ?? "", d.rules]] : [])),
      ),
      clusterRules: docs.flatMap((d) => (d.kind === "ClusterRole" ? d.rules : [])),
    });
    const serviceAccountDir = await kube.writeServiceAccountDir(token, ACCOUNT.namespace);
    const config = parseConfig(
      testEnv({
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: String(kube.port),
        KUBERNETES_SERVICE_ACCOUNT_DIR: serviceAccountDir,
      }),
    );
    const found = await clusterGateway(config);
    if (found === undefined) throw new Error("no in-cluster gateway");
    gateway = found;
    deps = { kube: gateway, minHealthyReplicas: 1, maxReplicas: 5 };
    kube.seedDeployment({ namespace: NS, name: "awoooi-api", replicas: 2 });
    kube.addEvent({
      namespace: NS,
      involvedObject: { kind: "Pod", name: kube.podNames(NS, "awoooi-api")[0] ?? "" },
      reason: "BackOff",
      message: "Back-off restarting failed container app",
      type: "Warning",
    });
  });
  afterAll(async () => {
    await kube?.close();
  });

  async function verified(verify: () => Promise<VerifyResult>): Promise<VerifyResult> {
    for (let i = 0; i < 200; i++) {
      const verdict = await verify();
      if (verdict.outcome !== "pending") return verdict;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return verify();
  }

  async function run<P>(
    executor: {
      guard: (d: KubeExecutorDeps, p: P) => Promise<{ ok: boolean }>;
      execute: (d: KubeExecutorDeps, p: P, c: { dryRun: boolean }) => Promise<ExecutionResult>;
      verify: (d: KubeExecutorDeps, p: P, r: ExecutionResult) => Promise<VerifyResult>;
    },
    params: P,
  ): Promise<VerifyResult> {
    expect(await executor.guard(deps, params)).toMatchObject({ ok: true });
    const result = await executor.execute(deps, params, { dryRun: false });
    return verified(() => executor.verify(deps, params, result));
  }

  it("makes exactly the declared calls, and the manifest's service account is never refused", async () => {
    const target = { namespace: NS, deployment: "awoooi-api" };
    const [pod = ""] = kube.podNames(NS, "awoooi-api");
    // what an analysis reads: the workload for the guardrails, the pod's logs and events
    expect(await deploymentReplicas(gateway)(NS, "awoooi-api")).toMatchObject({ replicas: 2 });
    const context = await buildAnalysisContext(
      { kube: gateway },
      {
        alert: {
          source: "alertmanager",
          title: "KubePodCrashLooping",
          severity: "P1",
          status: "firing",
          labels: { alertname: "KubePodCrashLooping", namespace: NS, pod },
          annotations: {},
          startsAt: new Date(),
        },
      },
    );
    expect(context.events.map((event) => event.reason)).toContain("BackOff");
    await gateway.reachable(NS);
    // every Kubernetes action, as an approval runs it
    expect((await run(restartPod, target)).outcome).toBe("recovered");
    expect((await run(rollback, target)).outcome).toBe("recovered");
    expect((await run(scaleUp, target)).outcome).toBe("recovered");
    const victim = kube.podNames(NS, "awoooi-api")[0] ?? "";
    const evicted = await run(deletePod, { namespace: NS, pod: victim });
    expect(evicted).toMatchObject({ outcome: "recovered" });
    expect(evicted.detail).toContain(`${victim} still Terminating on node emulator-node`);

    const requests = kube.requests.filter(
      (request) => request.user === `system:serviceaccount:chatops:chatops-bot`,
    );
    expect(requests.filter((request) => request.status === 403)).toEqual([]);
    const made = new Set(
      requests.flatMap((request) => {
        const a = request.attributes;
        if (a === undefined) return [];
        return [
          `${a.apiGroup} ${a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`} ${a.verb}`,
        ];
      }),
    );
    const all = new Set([...declared("namespace"), ...declared("cluster")]);
    expect(sorted(made), "calls made that KUBE_API_CALLS does not declare").toEqual(
      sorted(new Set([...made].filter((call) => all.has(call)))),
    );
    expect(sorted(all), "declared calls no code made").toEqual(sorted(made));
  });
});

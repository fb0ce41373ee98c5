// The cluster's own rules, end to end: an alert, an analysis, a card, a button press, and the
// Kubernetes API emulator answering as a real cluster would. The bot acts as the service account
// of deploy/k8s/base/rbac.yaml (in `monitoring` its Role lacks pods/eviction, as a namespace whose
// Role was never updated would). Covered: DELETE_POD refused by a PodDisruptionBudget ("not now",
// once, nothing changed); DELETE_POD of a pod on a dead node (it stays Terminating, the replacement
// becomes Ready, and the repair is verified); a Recreate Deployment that is never restarted by
// itself; and a 403 named on the card and in the audit log.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { auditTrail, latestAction } from "../../db/actions.js";
import { getIncident } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { startKubeEmulator, type KubeEmulator, type PolicyRule } from "../../dev/emulators/kubernetes.js";
import { startFakes, validAnswer, type Fakes } from "../../dev/llm-incident.js";
import {
  alertmanagerAuth,
  buttonData,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";

const NS = "awoooi-prod";
const SA = "system:serviceaccount:chatops:chatops-bot";
let kube: KubeEmulator;
let fakes: Fakes;
let stack: Stack;

/** The Roles and ClusterRole of the shipped manifest, by namespace. */
async function manifestRules(): Promise<{ roles: Record<string, PolicyRule[]>; cluster: PolicyRule[] }> {
  const text = await readFile(new URL("../../deploy/k8s/base/rbac.yaml", import.meta.url), "utf8");
  const docs = parseAllDocuments(text).map(
    (doc) => doc.toJSON() as { kind: string; metadata: { namespace?: string }; rules?: PolicyRule[] },
  );
  const roles: Record<string, PolicyRule[]> = {};
  for (const doc of docs) if (doc.kind === "Role") roles[doc.metadata.namespace ?? ""] = doc.rules ?? [];
  return { roles, cluster: docs.flatMap((doc) => (doc.kind === "ClusterRole" ? (doc.rules ?? []) : [])) };
}

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 50, podTerminationDelayMs: 100 });
  kube.seedDeployment({ namespace: NS, name: "shop-web", replicas: 2 });
  kube.seedPodDisruptionBudget({
    namespace: NS,
    name: "shop-web",
    matchLabels: { app: "shop-web" },
    minAvailable: 2,
  });
  kube.seedDeployment({ namespace: NS, name: "awoooi-api", replicas: 2, strategy: "Recreate" });
  kube.seedDeployment({ namespace: "monitoring", name: "grafana", replicas: 2 });
  // a second node, then a deployment spread over both, then that node is lost
  kube.addNode("node-b");
  kube.seedDeployment({ namespace: NS, name: "shop-worker", replicas: 2 });
  kube.loseNode("node-b");

  const { roles, cluster } = await manifestRules();
  const token = kube.grant({
    namespace: "chatops",
    name: "chatops-bot",
    roles: {
      ...roles,
      monitoring: (roles.monitoring ?? []).filter((rule) => !rule.resources.includes("pods/eviction")),
    },
    clusterRules: cluster,
  });
  fakes = await startFakes(validAnswer);
  stack = await startStack({
    env: {
      KUBECONFIG: await kube.writeKubeconfig(token),
      AUTO_REPAIR_ENABLED: "true",
      TELEGRAM_APPROVER_IDS: "1001",
      LLM_CHAIN: "ollama",
      OLLAMA_HOST: fakes.ollama.url,
      OLLAMA_MODEL: "qwen2.5:7b",
    },
    // Telegram's flood limits lifted: this file is about the cluster's rules, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 100, verifyWithinMs: 10_000 } },
  });
});
afterAll(async () => {
  await stack?.close();
  await fakes?.close();
  await kube?.close();
});

/** The model proposes `answer`; an alert about `deployment`'s `pod` arrives. Returns the incident id. */
async function fire(
  answer: object,
  labels: { namespace: string; deployment: string; pod: string; alertname?: string; service?: string },
  fingerprint: string,
): Promise<string> {
  fakes.ollama.respondWith({ kind: "answer", output: { ...validAnswer(), ...answer } });
  const response = await postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({
      fingerprint,
      labels: {
        alertname: "KubePodNotReady",
        service: labels.deployment,
        job: labels.deployment,
        ...labels,
      },
    }),
    alertmanagerAuth,
  );
  const { jobId } = response.body as { jobId: string };
  await expect
    .poll(async () => (await stack.runtime.queues.ingest.getJob(jobId))?.getState(), { timeout: 5_000 })
    .toBe("completed");
  const job = await stack.runtime.queues.ingest.getJob(jobId);
  return (job?.returnvalue as { incidents: string[] }).incidents[0] ?? "";
}

async function cardOf(incidentId: string, predicate: (text: string) => boolean) {
  const messages = await waitForChat(
    stack.telegram,
    (all) => all.some((m) => m.text.includes(incidentId) && predicate(m.text)),
    15_000,
  );
  const card = messages.find((m) => m.text.includes(incidentId) && predicate(m.text));
  if (card === undefined) throw new Error("no card");
  return card;
}

async function approve(incidentId: string): Promise<void> {
  const card = await cardOf(incidentId, (text) => text.includes("needs approval"));
  const press = stack.telegram.pressButton({
    chatId: CHAT_ID,
    messageId: card.message_id,
    fromUserId: 1001,
    username: "alice",
    data: buttonData(stack.telegram, card.message_id, "approve"),
  });
  await expect.poll(() => stack.telegram.answerOf(press)?.text, { timeout: 5_000 }).toMatch(/^Approved/);
}

const deletePod = (namespace: string, pod: string) => ({
  suggested_action: "DELETE_POD",
  target: { kind: "Pod", namespace, name: pod },
  blast_radius: { affected_pods: 1, estimated_downtime_seconds: 0 },
});

describe("DELETE_POD against a PodDisruptionBudget", () => {
  it("evicts once, is told 'not now: budget', changes nothing and does not retry", async () => {
    const [pod = ""] = kube.podNames(NS, "shop-web");
    const id = await fire(deletePod(NS, pod), { namespace: NS, deployment: "shop-web", pod }, "pdb-1");
    await approve(id);
    const card = await cardOf(id, (text) => text.includes("not now: budget"));
    expect(card.text).toContain(
      "DELETE_POD not now: budget: a PodDisruptionBudget allows no disruption of shop-web (The disruption budget shop-web needs 2 healthy pods and has 2 currently). Nothing changed",
    );
    expect(kube.pod(NS, pod)?.metadata.deletionTimestamp).toBeUndefined();
    const evictions = kube.requests.filter((r) => r.path.endsWith(`/pods/${pod}/eviction`));
    expect(evictions.map((r) => r.status)).toEqual([429]);

    const action = await latestAction(stack.db.pool, id);
    expect(action).toMatchObject({ status: "failed", action: "DELETE_POD" });
    const job = await stack.runtime.queues.execute.getJob(`execute-${action?.id ?? 0}`);
    expect(await job?.getState()).toBe("completed");
    expect(job?.attemptsMade).toBe(1);
    expect((await getIncident(stack.db.pool, id))?.status).toBe("open");
    const entry = (await auditTrail(stack.db.pool, id)).find((e) => e.what === "DELETE_POD");
    expect(entry).toMatchObject({ actor: "system", outcome: "not_now" });
    // still exactly one eviction after the card settled: no retry storm
    expect(kube.requests.filter((r) => r.path.endsWith(`/pods/${pod}/eviction`))).toHaveLength(1);
  });
});

describe("DELETE_POD of a pod on a dead node", () => {
  it("leaves it Terminating, verifies on the Ready replacement, and resolves the card", async () => {
    const pods = (await import("../../gateways/kube-gateway.js")).ClusterKubeGateway.fromKubeconfig(
      kube.kubeconfigPath,
    );
    const stranded = (await pods.listPods(NS, { app: "shop-worker" })).find((p) => p.nodeName === "node-b");
    const pod = stranded?.name ?? "";
    expect(stranded?.ready).toBe(false);
    const id = await fire(
      deletePod(NS, pod),
      { namespace: NS, deployment: "shop-worker", pod },
      "dead-node-1",
    );
    await approve(id);
    const card = await cardOf(id, (text) => text.includes("RESOLVED"));
    expect(card.text).toContain(
      `${NS}/shop-worker: 2/2 ready, rollout complete; ${pod} still Terminating on node node-b, which is not ready (Ready=Unknown (NodeStatusUnknown))`,
    );
    // the old pod never went: its kubelet is gone
    expect(kube.pod(NS, pod)?.metadata.deletionTimestamp).toBeDefined();
    expect(await latestAction(stack.db.pool, id)).toMatchObject({
      status: "succeeded",
      action: "DELETE_POD",
    });
  });
});

describe("a Recreate Deployment", () => {
  it("is never restarted automatically: the card asks a person and says downtime is expected", async () => {
    const writesBefore = kube.requests.filter(
      (r) => r.method !== "GET" && r.path.includes("/deployments/awoooi-api"),
    ).length;
    const [pod = ""] = kube.podNames(NS, "awoooi-api");
    const id = await fire(
      { suggested_action: "RESTART_POD", target: { kind: "Deployment", namespace: NS, name: "awoooi-api" } },
      { namespace: NS, deployment: "awoooi-api", pod, alertname: "AWOOOIAPIDown", service: "awoooi-api" },
      "recreate-1",
    );
    const card = await cardOf(id, (text) => text.includes("needs approval"));
    expect(card.text).toContain(
      "needs approval: strategy Recreate: every pod stops before new ones start, downtime expected; risk MEDIUM (raised from LOW: Recreate) above LOW",
    );
    expect(card.text).toContain("⏱️ Downtime: every pod stops first (Recreate)\n");
    expect(await latestAction(stack.db.pool, id)).toMatchObject({ status: "pending", action: "RESTART_POD" });
    const decision = (await auditTrail(stack.db.pool, id)).find((e) => e.what === "decision on RESTART_POD");
    expect(decision?.detail.verdicts).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "rollout_strategy", ok: false })]),
    );
    // nothing was written to the deployment
    expect(
      kube.requests.filter((r) => r.method !== "GET" && r.path.includes("/deployments/awoooi-api")),
    ).toHaveLength(writesBefore);
  });
});

describe("a 403 from the cluster", () => {
  it("becomes a refusal naming the verb and the resource, on the card and in the audit log", async () => {
    const [pod = ""] = kube.podNames("monitoring", "grafana");
    const id = await fire(
      deletePod("monitoring", pod),
      { namespace: "monitoring", deployment: "grafana", pod },
      "forbidden-1",
    );
    await approve(id);
    const card = await cardOf(id, (text) => text.includes("refused by the cluster"));
    expect(card.text).toContain(
      `DELETE_POD refused by the cluster: RBAC: ${SA} may not create pods/eviction in monitoring. Nothing changed`,
    );
    const entry = (await auditTrail(stack.db.pool, id)).find((e) => e.what === "DELETE_POD");
    expect(entry).toMatchObject({
      outcome: "forbidden",
      detail: {
        forbidden: {
          user: SA,
          verb: "create",
          resource: "pods/eviction",
          apiGroup: "",
          namespace: "monitoring",
        },
      },
    });
    expect(
      kube.requests.filter((r) => r.path.endsWith(`/pods/${pod}/eviction`)).map((r) => r.status),
    ).toEqual([403]);
    expect(kube.pod("monitoring", pod)?.metadata.deletionTimestamp).toBeUndefined();
  });
});

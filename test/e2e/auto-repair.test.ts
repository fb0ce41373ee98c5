// The whole loop without a human: an alert, an analysis the guardrails allow, a rollout restart
// in the Kubernetes API emulator, verification, and a learned playbook the next analysis sees.
// When a repair does not recover, the incident fails, is escalated and its resource cools off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail, latestAction } from "../../db/actions.js";
import { getIncident } from "../../db/incidents.js";
import { ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import { RepairCountersStore } from "../../kv/repair-counters.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import { startFakes, validAnswer, type Fakes } from "../../dev/llm-incident.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

const NAMESPACE = "awoooi-prod";
let kube: KubeEmulator;
let fakes: Fakes;
let stack: Stack;

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 50 });
  for (const name of ["awoooi-api", "awoooi-api-canary", "awoooi-api-blue", "awoooi-api-green"])
    kube.seedDeployment({ namespace: NAMESPACE, name, replicas: 2 });
  kube.addEvent({
    namespace: NAMESPACE,
    involvedObject: { kind: "Pod", name: "awoooi-api-7d4b8c9f5-abc12" },
    reason: "BackOff",
    message: "Back-off restarting failed container api",
    type: "Warning",
  });
  fakes = await startFakes();
  stack = await startStack({
    env: {
      KUBECONFIG: kube.kubeconfigPath,
      AUTO_REPAIR_ENABLED: "true",
      LLM_CHAIN: "ollama",
      OLLAMA_HOST: fakes.ollama.url,
      OLLAMA_MODEL: "qwen2.5:7b",
    },
    // Telegram's flood limits lifted: this file is about auto-repair, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 100, verifyWithinMs: 3_000 } },
  });
});
afterAll(async () => {
  await stack?.close();
  await fakes?.close();
  await kube?.close();
});

/** The model proposes a rollout restart of `deployment`; an alert about it arrives. Returns the incident id. */
async function fire(deployment: string, fingerprint: string): Promise<string> {
  fakes.ollama.respondWith({
    kind: "answer",
    output: { ...validAnswer(), target: { kind: "Deployment", namespace: NAMESPACE, name: deployment } },
  });
  const response = await postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint, labels: { deployment, pod: `${deployment}-7d4b8c9f5-abc12` } }),
    alertmanagerAuth,
  );
  const { jobId } = response.body as { jobId: string };
  await expect
    .poll(async () => (await stack.runtime.queues.ingest.getJob(jobId))?.getState(), { timeout: 5_000 })
    .toBe("completed");
  const job = await stack.runtime.queues.ingest.getJob(jobId);
  return (job?.returnvalue as { incidents: string[] }).incidents[0] ?? "";
}

async function cardOf(incidentId: string, predicate: (text: string) => boolean): Promise<string> {
  const messages = await waitForChat(
    stack.telegram,
    (all) => all.some((m) => m.text.includes(incidentId) && predicate(m.text)),
    15_000,
  );
  return messages.find((m) => m.text.includes(incidentId) && predicate(m.text))?.text ?? "";
}

async function getJson(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.url}${path}`, {
    headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
  });
  return { status: response.status, body: await response.json() };
}

describe("automatic repair", () => {
  it("restarts the deployment without a human, verifies it and resolves the card", async () => {
    const id = await fire("awoooi-api", "auto-1");
    const card = await cardOf(id, (text) => text.includes("RESOLVED"));
    expect(card).toContain("auto: confidence 0.90 ≥ 0.85, risk LOW, 1/5 this hour");
    expect(card).not.toContain("not run");
    expect(card).toContain("RESTART_POD approved by guardrails");
    expect(card).toContain("verified: awoooi-prod/awoooi-api: 2/2 ready, rollout complete");

    const revisions = await ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath).replicaSetRevisions(
      NAMESPACE,
      "awoooi-api",
    );
    expect(revisions.map((revision) => revision.revision)).toEqual([2, 1]);
    const action = await latestAction(stack.db.pool, id);
    expect(action).toMatchObject({ status: "succeeded", decidedBy: "guardrails", action: "RESTART_POD" });
    // the approval is audited with every rule's verdict; nobody acknowledged the card
    const approval = (await auditTrail(stack.db.pool, id)).find(
      (entry) => entry.what === "approve RESTART_POD",
    );
    expect(approval).toMatchObject({ actor: "guardrails", outcome: "approved" });
    expect(approval?.detail.verdicts).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "confidence", ok: true })]),
    );
    expect((await getIncident(stack.db.pool, id))?.acknowledgedAt).toBeNull();
    // the analysis saw the cluster: the pod's events came through the configured KUBECONFIG
    expect(fakes.ollama.modelRequests()[0]?.rawBody).toContain("Back-off restarting failed container api");
    // the execution ran once, as job execute-<actionId>
    const job = await stack.runtime.queues.execute.getJob(`execute-${action?.id ?? 0}`);
    expect(await job?.getState()).toBe("completed");
    expect(job?.attemptsMade).toBe(1);
  });

  it("learns a playbook from the verified fix and shows it to the next similar incident's analysis", async () => {
    const playbooks = await getJson("/api/v1/playbooks");
    expect(playbooks.status).toBe(200);
    expect((playbooks.body as { playbooks: unknown[] }).playbooks).toEqual([
      expect.objectContaining({
        signature: "alertmanager:AWOOOIAPIDown:awoooi-prod:awoooi-api",
        action: "RESTART_POD",
        successes: 1,
        failures: 0,
        lastOutcome: "success",
      }),
    ]);
    expect((await fetch(`${stack.url}/api/v1/playbooks`)).status).toBe(401);

    // `rollout restart` stamps whole seconds (as kubectl does): a restart within the same second
    // as the last one would not change the template
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = fakes.ollama.modelRequests().length;
    const second = await fire("awoooi-api", "auto-2");
    await cardOf(second, (text) => text.includes("RESOLVED"));
    const request = fakes.ollama.modelRequests()[before];
    expect(request?.rawBody).toContain("learned_playbooks");
    expect(request?.rawBody).toContain("alertmanager:AWOOOIAPIDown:awoooi-prod:awoooi-api");
    const after = (await getJson("/api/v1/playbooks")).body as { playbooks: { successes: number }[] };
    expect(after.playbooks[0]?.successes).toBe(2);
  });

  it("fails and escalates a repair that does not recover, and cools the resource off", async () => {
    kube.failNewPods(NAMESPACE, "awoooi-api-canary");
    const id = await fire("awoooi-api-canary", "auto-3");
    const card = await cardOf(id, (text) => text.includes("not recovered before the deadline"));
    expect(card).toContain("RESTART_POD failed");
    expect((await getIncident(stack.db.pool, id))?.status).toBe("failed");
    const escalations = await stack.runtime.queues.escalate.getJobs([
      "waiting",
      "delayed",
      "active",
      "completed",
      "failed",
    ]);
    expect(escalations.map((job) => job.data)).toContainEqual(
      expect.objectContaining({ incidentId: id, reason: "repair_failed" }),
    );
    const counters = new RepairCountersStore(stack.runtime.redis, stack.prefix);
    expect(
      (await counters.read(`Deployment/${NAMESPACE}/awoooi-api-canary`)).cooldownSeconds,
    ).toBeGreaterThan(0);
    // no automatic rollback unless enabled: the broken revision stays
    const revisions = await ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath).replicaSetRevisions(
      NAMESPACE,
      "awoooi-api-canary",
    );
    expect(revisions.map((revision) => revision.revision)).toEqual([2, 1]);
    const { playbooks } = (await getJson("/api/v1/playbooks")).body as {
      playbooks: { signature: string; failures: number }[];
    };
    expect(playbooks.find((p) => p.signature.endsWith(":awoooi-api-canary"))?.failures).toBe(1);
    // the next incident of the cooling resource waits for a human
    const next = await fire("awoooi-api-canary", "auto-4");
    const nextCard = await cardOf(next, (text) => text.includes("needs approval"));
    expect(nextCard).toContain("cooling off after a failed repair");
  });

  it("asks a human when another process spent the hourly budget", async () => {
    // another bot process reserves every remaining automatic repair of the hour
    const other = new RepairCountersStore(stack.runtime.redis, stack.prefix);
    for (;;) {
      const slot = await other.reserve("Deployment/awoooi-prod/elsewhere", {
        maxPerHour: 5,
        maxPerResourcePerHour: 100,
      });
      if (!slot.reserved) break;
    }
    const id = await fire("awoooi-api-blue", "auto-5");
    const card = await cardOf(id, (text) => text.includes("needs approval"));
    expect(card).toContain("5/5 this hour");
    await expect.poll(async () => (await latestAction(stack.db.pool, id))?.status).toBe("pending");
    const revisions = await ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath).replicaSetRevisions(
      NAMESPACE,
      "awoooi-api-blue",
    );
    expect(revisions.map((revision) => revision.revision)).toEqual([1]);
  });
});

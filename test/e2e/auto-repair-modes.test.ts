// The switches around automatic repair, end to end against the Kubernetes API emulator:
// AUTO_REPAIR_DRY_RUN runs the whole loop and changes nothing, AUTO_REPAIR_ENABLED=false sends
// everything to a human, and AUTO_REPAIR_AUTO_ROLLBACK undoes a rollout that never completed.
import { afterEach, describe, expect, it } from "vitest";
import { auditTrail, latestAction } from "../../db/actions.js";
import { getIncident } from "../../db/incidents.js";
import { ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import { startFakes, validAnswer, type Fakes } from "../../dev/llm-incident.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

const NAMESPACE = "awoooi-prod";
const DEPLOYMENT = "awoooi-api";
let kube: KubeEmulator | undefined;
let fakes: Fakes | undefined;
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  await fakes?.close();
  await kube?.close();
  stack = undefined;
  fakes = undefined;
  kube = undefined;
});

async function start(env: Record<string, string>, verifyWithinMs = 3_000) {
  kube = await startKubeEmulator({ podReadyDelayMs: 50 });
  kube.seedDeployment({ namespace: NAMESPACE, name: DEPLOYMENT, replicas: 2 });
  // a high-confidence, LOW-risk rollout restart of the alert's own deployment
  fakes = await startFakes(validAnswer);
  stack = await startStack({
    env: {
      KUBECONFIG: kube.kubeconfigPath,
      LLM_CHAIN: "ollama",
      OLLAMA_HOST: fakes.ollama.url,
      OLLAMA_MODEL: "qwen2.5:7b",
      ...env,
    },
    // Telegram's flood limits lifted: this file is about auto-repair modes, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 100, verifyWithinMs } },
  });
  return { kube, stack };
}

async function fire(s: Stack): Promise<string> {
  const response = await postJson(
    `${s.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint: "modes-1" }),
    alertmanagerAuth,
  );
  const { jobId } = response.body as { jobId: string };
  await expect
    .poll(async () => (await s.runtime.queues.ingest.getJob(jobId))?.getState(), { timeout: 5_000 })
    .toBe("completed");
  const job = await s.runtime.queues.ingest.getJob(jobId);
  return (job?.returnvalue as { incidents: string[] }).incidents[0] ?? "";
}

async function revisions(k: KubeEmulator): Promise<number[]> {
  const gateway = ClusterKubeGateway.fromKubeconfig(k.kubeconfigPath);
  return (await gateway.replicaSetRevisions(NAMESPACE, DEPLOYMENT)).map((revision) => revision.revision);
}

describe("AUTO_REPAIR_DRY_RUN", () => {
  it("runs the whole loop, reports exactly the calls it would make, and changes nothing", async () => {
    const { kube: k, stack: s } = await start({ AUTO_REPAIR_ENABLED: "true", AUTO_REPAIR_DRY_RUN: "true" });
    const template = (
      await ClusterKubeGateway.fromKubeconfig(k.kubeconfigPath).getDeployment(NAMESPACE, DEPLOYMENT)
    ).revision;
    const id = await fire(s);
    const [card] = await waitForChat(s.telegram, (all) => all[0]?.text.includes("dry run") ?? false, 15_000);
    expect(card?.text).toContain("auto: confidence 0.90 ≥ 0.85, risk LOW, 1/5 this hour");
    expect(card?.text).toContain("RESTART_POD approved by guardrails");
    expect(card?.text).toContain("RESTART_POD dry run: nothing changed");

    const response = await fetch(`${s.url}/api/v1/incidents/${id}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
    });
    const body = (await response.json()) as {
      timeline: { kind: string; detail: { calls?: unknown } }[];
      audit: { what: string; outcome: string; detail: { calls?: unknown } }[];
    };
    const expectedCalls = [
      {
        api: "kubernetes",
        method: "AppsV1Api.patchNamespacedDeployment",
        args: {
          namespace: NAMESPACE,
          deployment: DEPLOYMENT,
          patch: "spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]=<now>",
        },
      },
    ];
    expect(body.timeline.find((event) => event.kind === "dry_run")?.detail.calls).toEqual(expectedCalls);
    expect(body.audit.find((entry) => entry.outcome === "dry_run")?.detail.calls).toEqual(expectedCalls);

    // nothing changed: no write reached the API server, the deployment has its one revision
    expect(k.requests.filter((request) => request.method !== "GET")).toEqual([]);
    expect(await revisions(k)).toEqual([1]);
    expect(
      (await ClusterKubeGateway.fromKubeconfig(k.kubeconfigPath).getDeployment(NAMESPACE, DEPLOYMENT))
        .revision,
    ).toBe(template);
    expect((await latestAction(s.db.pool, id))?.result).toMatchObject({ dryRun: true, calls: expectedCalls });
  });
});

describe("AUTO_REPAIR_ENABLED=false", () => {
  it("sends even a safe, confident proposal to a human", async () => {
    const { kube: k, stack: s } = await start({ AUTO_REPAIR_ENABLED: "false" });
    const id = await fire(s);
    const [card] = await waitForChat(
      s.telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
      15_000,
    );
    expect(card?.text).toContain("needs approval: AUTO_REPAIR_ENABLED=false");
    await expect.poll(async () => (await latestAction(s.db.pool, id))?.status).toBe("pending");
    expect((await getIncident(s.db.pool, id))?.status).toBe("awaiting_approval");
    // give a wrongly queued execution time to show itself
    await new Promise((resolve) => setTimeout(resolve, 500));
    // (the periodic sweep shares the queue; only execute jobs count)
    const jobs = await s.runtime.queues.execute.getJobs([
      "waiting",
      "active",
      "delayed",
      "completed",
      "failed",
    ]);
    expect(jobs.filter((job) => job.name !== "sweep")).toEqual([]);
    expect(k.requests.filter((request) => request.method !== "GET")).toEqual([]);
    expect(await revisions(k)).toEqual([1]);
  });
});

describe("AUTO_REPAIR_AUTO_ROLLBACK", () => {
  it("rolls a restart whose rollout never completes back, and still asks a human", async () => {
    const { kube: k, stack: s } = await start(
      { AUTO_REPAIR_ENABLED: "true", AUTO_REPAIR_AUTO_ROLLBACK: "true" },
      1_500,
    );
    k.failNewPods(NAMESPACE, DEPLOYMENT);
    const id = await fire(s);
    const [card] = await waitForChat(
      s.telegram,
      (all) => all[0]?.text.includes("rolled back automatically") ?? false,
      15_000,
    );
    expect(card?.text).toContain("RESTART_POD failed: not recovered before the deadline");
    expect(card?.text).toContain("awoooi-prod/awoooi-api rolled back automatically to revision 1");
    // rollout undo re-labels revision 1 as 3, like kubectl; the broken revision 2 stays in history
    expect(await revisions(k)).toEqual([3, 2]);
    await expect
      .poll(() => ClusterKubeGateway.fromKubeconfig(k.kubeconfigPath).rolloutComplete(NAMESPACE, DEPLOYMENT))
      .toBe(true);
    const rollback = (await auditTrail(s.db.pool, id)).find((entry) => entry.what.startsWith("ROLLBACK"));
    expect(rollback).toMatchObject({ actor: "system", outcome: "executed" });
    const escalations = await s.runtime.queues.escalate.getJobs([
      "waiting",
      "delayed",
      "active",
      "completed",
    ]);
    expect(escalations.map((job) => job.data)).toContainEqual({
      incidentId: id,
      reason: "repair_failed",
      detail: expect.stringContaining("rolled back automatically to revision 1") as unknown,
    });
  });
});

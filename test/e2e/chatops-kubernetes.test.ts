// The chat commands that reach Kubernetes, through the Telegram emulator and the Kubernetes API
// emulator: the drill-down's pod logs and events, and /rollback: cancel, a foreign namespace
// refused by the guardrails with the rule named, and the happy path where the filed action's
// card is approved and the deployment rolls back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestAction } from "../../db/actions.js";
import { latestAnalysis } from "../../db/analyses.js";
import { ClusterKubeGateway, RESTARTED_AT_ANNOTATION } from "../../gateways/kube-gateway.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import { button, buttons, chatUser } from "../support/chat-user.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

const APPROVER = 1001;
const OUTSIDER = 4242;
const NS = "awoooi-prod";

let kube: KubeEmulator;
let gateway: ClusterKubeGateway;
let stack: Stack;

/** A deployment with two revisions: seeded, then restarted by rollout. */
async function deploymentWithHistory(namespace: string, name: string): Promise<void> {
  kube.seedDeployment({ namespace, name, replicas: 2, image: `registry.example/${name}:1.0` });
  await gateway.restartDeployment(namespace, name, new Date());
  const deadline = Date.now() + 5_000;
  while (!(await gateway.rolloutComplete(namespace, name))) {
    if (Date.now() > deadline) throw new Error(`${namespace}/${name} did not roll out`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 20 });
  gateway = ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath);
  stack = await startStack({
    env: { KUBECONFIG: kube.kubeconfigPath, TELEGRAM_APPROVER_IDS: String(APPROVER) },
    // Telegram's flood limits lifted: this file is about the Kubernetes commands, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 100, verifyWithinMs: 10_000 } },
  });
});
afterAll(async () => {
  await stack?.close();
  await kube?.close();
});

const { say, press } = chatUser(() => stack, APPROVER);

/** The bot's first message after `after` that satisfies `predicate`. */
async function nextBotMessage(after: number, predicate: (m: EmulatedMessage) => boolean, timeoutMs = 10_000) {
  const find = (all: EmulatedMessage[]) =>
    all.find((m) => m.from_bot && m.message_id > after && predicate(m));
  return find(
    await waitForChat(stack.telegram, (all) => find(all) !== undefined, timeoutMs),
  ) as EmulatedMessage;
}

async function chatopsIncidents(): Promise<number> {
  const { rows } = await stack.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM incidents WHERE source = 'chatops'",
  );
  return rows[0]?.n ?? 0;
}

describe("/status with Kubernetes configured", () => {
  it("reports the API server reachable", async () => {
    const reply = await say("/status", (m) => m.text.includes("Status"));
    expect(reply.text).toContain("🟢 Kubernetes: reachable");
    expect(reply.text).toContain("⚫ Docker: not configured");
  });
});

describe("the drill-down's logs and events", () => {
  it("shows the pod's recent logs (escaped) and its events from the cluster", async () => {
    kube.seedDeployment({ namespace: NS, name: "logs-api", replicas: 1 });
    await expect.poll(() => kube.podNames(NS, "logs-api").length, { timeout: 5_000 }).toBe(1);
    const pod = kube.podNames(NS, "logs-api")[0] ?? "";
    kube.setLogs(
      NS,
      pod,
      ["starting", "GET /health 500 <upstream timeout> & retry", "fatal: db refused"].join("\n"),
    );
    kube.addEvent({
      namespace: NS,
      involvedObject: { kind: "Pod", name: pod },
      reason: "BackOff",
      message: "Back-off restarting failed container",
      type: "Warning",
      count: 7,
    });
    await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      alertmanagerPayload({
        fingerprint: "drill-logs",
        labels: { pod, deployment: "logs-api", service: "logs-api", job: "logs-api" },
      }),
      alertmanagerAuth,
    );
    const card = await nextBotMessage(
      0,
      (m) => m.text.includes(pod.slice(0, 8)) || m.text.includes("logs-api"),
      15_000,
    );
    const incidentId = /INC-\d{8}-\d{4}/.exec(card.text)?.[0] ?? "";
    await press(card, `v1:details:${incidentId}`, OUTSIDER);
    const drill = await nextBotMessage(card.message_id, (m) => m.text.startsWith(`🔎 ${incidentId}`));
    await press(drill, button(drill, "📜 Logs & events").callback_data, OUTSIDER);
    await expect
      .poll(() => stack.telegram.message(CHAT_ID, drill.message_id)?.text ?? "", { timeout: 5_000 })
      .toContain("— 📜 Logs & events —");
    const shown = stack.telegram.message(CHAT_ID, drill.message_id) as EmulatedMessage;
    expect(shown.text).toContain(`Object: ${NS}/${pod}`);
    expect(shown.text).toContain("⚠️ BackOff ×7: Back-off restarting failed container");
    expect(shown.text).toContain("GET /health 500 <upstream timeout> & retry");
    expect(shown.text).toContain("fatal: db refused");
    expect(shown.html).toContain("&lt;upstream timeout&gt; &amp; retry");
  });
});

describe("/rollback", () => {
  beforeAll(async () => {
    await deploymentWithHistory(NS, "awoooi-api");
    await deploymentWithHistory("other-team", "their-api");
  });

  it("shows the current and previous revision and creates nothing on Cancel", async () => {
    const preview = await say("/rollback awoooi-prod/awoooi-api", (m) => m.text.includes("Roll back"));
    expect(preview.text).toContain("Roll back awoooi-prod/awoooi-api?");
    expect(preview.text).toMatch(/Current: revision 2 · registry\.example\/awoooi-api:1\.0/);
    expect(preview.text).toMatch(/Back to: revision 1 · registry\.example\/awoooi-api:1\.0/);
    expect(preview.text).toContain("2/2 replicas ready now.");
    const answer = await press(preview, button(preview, "Cancel").callback_data);
    expect(answer.text).toBe("Cancelled.");
    await nextBotMessage(preview.message_id, (m) => m.text === "Rollback cancelled; nothing was created.");
    expect(await chatopsIncidents()).toBe(0);
    // the dialogue is over and its keyboard gone; a replayed Confirm files nothing
    expect(preview.reply_markup).toBeDefined();
    expect(stack.telegram.message(CHAT_ID, preview.message_id)?.reply_markup).toBeUndefined();
    const late = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: preview.message_id,
      fromUserId: APPROVER,
      data: "rb:confirm",
      allowMissingButton: true,
    });
    await expect
      .poll(() => stack.telegram.answerOf(late)?.text, { timeout: 5_000 })
      .toBe("This confirmation has expired or is not yours; run /rollback again.");
    expect(await chatopsIncidents()).toBe(0);
  });

  it("refuses a deployment in a namespace the guardrails do not allow, naming the rule", async () => {
    const preview = await say("/rollback other-team/their-api", (m) => m.text.includes("Roll back"));
    await press(preview, button(preview, "⏪ Confirm").callback_data);
    const refusal = await nextBotMessage(preview.message_id, (m) => m.text.includes("Refused"));
    expect(refusal.text).toContain("⛔ Refused by the guardrails; nothing was created.");
    expect(refusal.text).toContain("namespace_allowed: namespace other-team is not in");
    expect(await chatopsIncidents()).toBe(0);
    const { rows } = await stack.db.pool.query<{ outcome: string }>(
      "SELECT outcome FROM audit_log WHERE what = 'request ROLLBACK other-team/their-api'",
    );
    expect(rows.map((row) => row.outcome)).toEqual(["refused"]);
  });

  it("refuses someone who is not an approver before showing anything", async () => {
    const reply = await say("/rollback awoooi-prod/awoooi-api", () => true, OUTSIDER);
    expect(reply.text).toBe("Only approvers may request a rollback.");
  });

  it("a Confirm on an earlier preview never confirms the later /rollback", async () => {
    const refusals = async () =>
      (
        await stack.db.pool.query(
          "SELECT 1 FROM audit_log WHERE what = 'request ROLLBACK other-team/their-api'",
        )
      ).rows.length;
    const before = await refusals();
    const first = await say("/rollback awoooi-prod/awoooi-api", (m) => m.text.includes("Roll back"));
    const second = await say("/rollback other-team/their-api", (m) => m.text.includes("Roll back"));
    const stale = await press(first, button(first, "⏪ Confirm").callback_data);
    expect(stale.text).toBe("This confirmation has expired or is not yours; run /rollback again.");
    expect(await refusals()).toBe(before);
    // the later preview still waits for its own answer
    expect(buttons(stack.telegram.message(CHAT_ID, second.message_id)).length).toBe(2);
    expect((await press(second, button(second, "Cancel").callback_data)).text).toBe("Cancelled.");
    expect(await refusals()).toBe(before);
  });

  it("files a pending ROLLBACK whose card's Approve rolls the deployment back", async () => {
    const preview = await say("/rollback awoooi-prod/awoooi-api", (m) => m.text.includes("Roll back"));
    const confirmed = await press(preview, button(preview, "⏪ Confirm").callback_data);
    expect(confirmed.text).toBe("Filed.");
    const filed = await nextBotMessage(preview.message_id, (m) => m.text.includes("Rollback filed as"));
    const incidentId = /INC-\d{8}-\d{4}/.exec(filed.text)?.[0] ?? "";
    expect(filed.text).toContain("needs approval");

    const stored = await latestAnalysis(stack.db.pool, incidentId);
    expect(stored?.analysis).toMatchObject({
      engine: "human",
      suggested_action: "ROLLBACK",
      risk_level: "MEDIUM",
      confidence: 1,
      target: { kind: "Deployment", namespace: NS, name: "awoooi-api" },
    });
    expect((await latestAction(stack.db.pool, incidentId))?.status).toBe("pending");

    const card = await nextBotMessage(
      0,
      (m) =>
        m.text.includes(incidentId) &&
        buttons(m).some((b) => b.callback_data.startsWith(`v1:approve:${incidentId}:#`)),
      15_000,
    );
    expect(card.text).toContain("Rollback requested: awoooi-prod/awoooi-api");
    expect(card.text).toContain("ROLLBACK · Deployment awoooi-prod/awoooi-api");
    // a person asked: the card says who, and claims no model or confidence
    expect(card.text).toMatch(/🙋 Requested by @\w+/);
    expect(card.text).not.toContain("AI analysis");
    expect(card.text).not.toContain("Confidence");

    const approved = await press(card, button(card, "✅ Approve").callback_data, APPROVER);
    expect(String(approved.text)).toContain("Approved");
    await expect
      .poll(async () => (await latestAction(stack.db.pool, incidentId))?.status, { timeout: 15_000 })
      .toBe("succeeded");
    const revisions = await gateway.replicaSetRevisions(NS, "awoooi-api");
    // kubectl's undo: revision 1's template comes back as revision 3, without the restart stamp
    expect(revisions[0]?.revision).toBe(3);
    expect(revisions[0]?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBeUndefined();
  });
});

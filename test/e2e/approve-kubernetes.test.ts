// The seed's AWOOOIAPIDown alert, through analysis and approval, restarts the deployment in the
// Kubernetes API emulator by rollout; the card ends resolved once the new revision is ready.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestAction } from "../../db/actions.js";
import { ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import {
  buttonData,
  alertmanagerAuth,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";

let kube: KubeEmulator;
let stack: Stack;

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 50 });
  kube.seedDeployment({ namespace: "awoooi-prod", name: "awoooi-api", replicas: 2 });
  stack = await startStack({
    env: { KUBECONFIG: kube.kubeconfigPath, TELEGRAM_APPROVER_IDS: "1001" },
    // Telegram's flood limits lifted: this file is about Kubernetes approvals, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 100, verifyWithinMs: 10_000 } },
  });
});
afterAll(async () => {
  await stack?.close();
  await kube?.close();
});

describe("approving a proposed rollout restart", () => {
  it("restarts the deployment by rollout, verifies it, and resolves the card", async () => {
    await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      alertmanagerPayload({ fingerprint: "k8s-api-down" }),
      alertmanagerAuth,
    );
    const [card] = await waitForChat(
      stack.telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
      15_000,
    );
    expect(card?.text).toContain("RESTART_POD · Deployment awoooi-prod/awoooi-api");
    const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    await expect.poll(async () => (await latestAction(stack.db.pool, incidentId))?.status).toBe("pending");

    const press = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card?.message_id ?? 0,
      fromUserId: 1001,
      username: "alice",
      data: buttonData(stack.telegram, card?.message_id ?? 0, "approve"),
    });
    await expect
      .poll(() => stack.telegram.answerOf(press)?.text, { timeout: 5_000 })
      .toBe("Approved: RESTART_POD. Running it now.");
    const [resolved] = await waitForChat(
      stack.telegram,
      (all) => all[0]?.text.includes("RESOLVED") ?? false,
      15_000,
    );
    expect(resolved?.text).toContain("verified: awoooi-prod/awoooi-api: 2/2 ready, rollout complete");
    const gateway = ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath);
    const revisions = await gateway.replicaSetRevisions("awoooi-prod", "awoooi-api");
    expect(revisions.map((revision) => revision.revision)).toEqual([2, 1]);
  });
});

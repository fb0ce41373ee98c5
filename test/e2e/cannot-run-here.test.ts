// A card offers only what can run in this installation: without KUBECONFIG, a proposed restart of
// a Deployment says it cannot run here and has no Approve; a press made anyway (an old card, a
// hand-made callback) changes nothing and pages nobody.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail, latestAction } from "../../db/actions.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

let stack: Stack;
beforeAll(async () => {
  // Telegram's flood limits lifted: this file is about what a card offers, not pacing (which
  // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
  stack = await startStack({ telegram: { groupPerMinute: 1_000 } });
});
afterAll(async () => {
  await stack.close();
});

describe("without KUBECONFIG", () => {
  it("shows why RESTART_POD cannot run, offers no Approve, and refuses a press made anyway", async () => {
    const response = await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      alertmanagerPayload({ fingerprint: "no-cluster" }),
      alertmanagerAuth,
    );
    expect(response.status).toBe(202);
    const [card] = await waitForChat(stack.telegram, (messages) =>
      (messages[0]?.text ?? "").includes("Can't run here"),
    );
    expect(card?.text).toContain("🔧 Suggested: RESTART_POD · Deployment awoooi-prod/awoooi-api");
    expect(card?.text).toContain(
      "🚫 Can't run here: no Kubernetes cluster is configured (KUBECONFIG is not set)",
    );
    const verbs = (card?.reply_markup?.inline_keyboard.flat() ?? []).map((button) =>
      "callback_data" in button ? button.callback_data.split(":")[1] : "",
    );
    expect(verbs).toEqual(["reject", "snooze", "silence", "take", "details"]);

    const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    const press = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card?.message_id ?? 0,
      fromUserId: 1001,
      data: `v1:approve:${incidentId}`,
      // a hand-made callback: clients can send data no button of the message carries
      allowMissingButton: true,
    });
    await expect
      .poll(() => stack.telegram.answerOf(press)?.text, { timeout: 5_000 })
      .toBe(
        "RESTART_POD can't run here: no Kubernetes cluster is configured (KUBECONFIG is not set). Nothing changed.",
      );
    expect((await latestAction(stack.db.pool, incidentId))?.status).toBe("pending");
    expect((await auditTrail(stack.db.pool, incidentId)).map((entry) => entry.outcome)).toContain(
      "cannot_run",
    );
    // nothing ran, so nobody is paged about a failed repair
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(stack.telegram.messages(CHAT_ID).filter((message) => message.text?.includes("⏫"))).toEqual([]);
  });
});

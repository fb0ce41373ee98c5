// A real Prometheus Alertmanager pointed at the bot: its webhook (basic auth from a password
// file, send_resolved) produces a card, a repeat edits it, a resolve marks it resolved.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postAlerts, startAlertmanager, type AlertmanagerProcess } from "../../dev/alertmanager.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { startStack, waitForChat, type Stack } from "../../dev/stack.js";

let stack: Stack;
let alertmanager: AlertmanagerProcess;

beforeAll(async () => {
  // Telegram's flood limits lifted: this file is about Alertmanager delivery, not pacing (which
  // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
  stack = await startStack({ telegram: { groupPerMinute: 1_000 } });
  alertmanager = await startAlertmanager({
    webhook: { url: `${stack.url}/api/v1/webhooks/alertmanager`, password: TEST_SECRETS.alertmanager },
    groupBy: ["alertname"],
    groupWait: "0s",
    groupInterval: "1s",
    repeatInterval: "1h",
  });
});
afterAll(async () => {
  await alertmanager?.stop();
  await stack?.close();
});

const labels = {
  alertname: "PostgreSQLDown",
  severity: "critical",
  service: "postgres",
  container: "postgres",
  instance: "pg:9187",
};

describe("a real Alertmanager pointed at the bot", () => {
  it("produces a card, edits it on a repeat, and marks it resolved", async () => {
    const startsAt = new Date().toISOString();
    await postAlerts(alertmanager.url, [{ labels, annotations: { summary: "pg_up == 0" }, startsAt }]);
    const [card] = await waitForChat(stack.telegram, (messages) => messages.length === 1, 15_000);
    expect(card?.text).toContain("CRITICAL | postgres");
    expect(card?.text).toContain("PostgreSQLDown");

    // A second firing alert in the same group changes the group, so Alertmanager notifies again
    // after group_interval, re-sending the first alert too: that one is a repeat.
    await postAlerts(alertmanager.url, [{ labels: { ...labels, instance: "pg-replica:9187" }, startsAt }]);
    const repeated = await waitForChat(
      stack.telegram,
      (messages) => messages.length === 2 && /2 occurrences/.test(messages[0]?.text ?? ""),
      15_000,
    );
    expect(repeated[0]?.message_id).toBe(card?.message_id);

    await postAlerts(alertmanager.url, [{ labels, startsAt, endsAt: new Date().toISOString() }]);
    const resolved = await waitForChat(
      stack.telegram,
      (messages) => /RESOLVED/.test(messages[0]?.text ?? ""),
      15_000,
    );
    expect(resolved[0]?.message_id).toBe(card?.message_id);
    // nothing left to decide; only the drill-down stays
    expect((resolved[0]?.reply_markup?.inline_keyboard.flat() ?? []).map((button) => button.text)).toEqual([
      "🔎 Details",
    ]);
    expect(stack.telegram.callsOf("sendMessage").filter((call) => call.status === "ok")).toHaveLength(2);
  });
});

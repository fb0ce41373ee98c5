// Cards routed by severity and namespace to other chats through the whole bot; the default chat
// gets only what no route claims.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

const P0_CHAT = -1002000000001;
const MONITORING_CHAT = -1002000000002;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: { TELEGRAM_ROUTES: `P0=${P0_CHAT},namespace:monitoring=${MONITORING_CHAT}` },
    // Telegram's flood limits lifted: this file is about routing, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 1_000, perSecond: 1_000 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

async function fire(alertname: string, severity: string, namespace: string): Promise<void> {
  const payload = alertmanagerPayload({
    fingerprint: alertname,
    labels: { alertname, severity, namespace, service: alertname.toLowerCase() },
  });
  expect(
    (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
  ).toBe(202);
}

const cardOf = (alertname: string, chatId: number) =>
  waitForChat(stack.telegram, (messages) => messages.some((m) => m.text.includes(alertname)), 10_000, chatId);

const shows = (alertname: string, chatId: number) =>
  stack.telegram.messages(chatId).some((message) => message.text.includes(alertname));

describe("routing cards to chats", () => {
  it("sends a P0 to the P0 chat only", async () => {
    await fire("RoutedCritical", "critical", "awoooi-prod");
    await cardOf("RoutedCritical", P0_CHAT);
    expect(shows("RoutedCritical", CHAT_ID)).toBe(false);
    expect(shows("RoutedCritical", MONITORING_CHAT)).toBe(false);
  });

  it("sends an incident in the monitoring namespace to the monitoring chat only", async () => {
    await fire("RoutedMonitoring", "warning", "monitoring");
    await cardOf("RoutedMonitoring", MONITORING_CHAT);
    expect(shows("RoutedMonitoring", CHAT_ID)).toBe(false);
    expect(shows("RoutedMonitoring", P0_CHAT)).toBe(false);
  });

  it("sends a P0 in the monitoring namespace to both routed chats", async () => {
    await fire("RoutedBoth", "critical", "monitoring");
    await cardOf("RoutedBoth", P0_CHAT);
    await cardOf("RoutedBoth", MONITORING_CHAT);
    expect(shows("RoutedBoth", CHAT_ID)).toBe(false);
  });

  it("sends what no route matches to the default chat", async () => {
    await fire("RoutedDefault", "warning", "awoooi-prod");
    await cardOf("RoutedDefault", CHAT_ID);
    expect(shows("RoutedDefault", P0_CHAT)).toBe(false);
    expect(shows("RoutedDefault", MONITORING_CHAT)).toBe(false);
  });
});

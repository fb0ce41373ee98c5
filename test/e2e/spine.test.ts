// From webhook to card: real HTTP, BullMQ on Redis, PostgreSQL, grammY and the Telegram emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getIncident } from "../../db/incidents.js";
import { alertmanagerPayload, sentryIssueCreated } from "../../dev/alerts.js";
import {
  buttonData,
  alertmanagerAuth,
  botOf,
  CHAT_ID,
  postJson,
  sentryHeaders,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    // a cluster to act on: a card offers Approve only for what can run here
    kubernetes: true,
    telegram: { groupPerMinute: 1_000 },
  });
});
afterAll(async () => {
  await stack.close();
});

const post = (payload: unknown) =>
  postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth);
const cardFor = <T extends { text: string }>(messages: T[], needle: string): T | undefined =>
  messages.find((message) => message.text.includes(needle));

describe("the spine", () => {
  let incidentId: string;

  it("turns a firing alert into one incident card with four buttons and Details", async () => {
    const response = await post(alertmanagerPayload({ fingerprint: "e2e-api-down" }));
    expect(response.status).toBe(202);
    const [card] = await waitForChat(stack.telegram, (messages) => messages.length === 1);
    incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    expect(incidentId).not.toBe("");
    expect(card?.text).toContain("CRITICAL | awoooi-api");
    expect(card?.text).toContain("awoooi-api-7d4b8c9f5-abc12");
    // from the service registry (registry/services.yaml)
    expect(card?.text).toContain("Service owner: backend · SLO 99.9% available, p95 ≤ 2s, errors < 1%");
    expect(
      card?.entities.some(
        (entity) => entity.type === "text_link" && entity.url.includes("runbooks.awoooi.internal/awoooi-api"),
      ),
    ).toBe(true);
    const buttons = card?.reply_markup?.inline_keyboard
      .flat()
      .map((button) => ("callback_data" in button ? button.callback_data : ""));
    // Approve and Reject also name the proposal once there is one (`:#<action id>`)
    expect(buttons?.map((data) => data.replace(/:#[0-9a-z]+$/, ""))).toEqual(
      ["approve", "reject", "snooze", "silence", "take", "details"].map((verb) => `v1:${verb}:${incidentId}`),
    );
    const stored = await getIncident(stack.db.pool, incidentId);
    expect(stored).toMatchObject({ severity: "P0", occurrences: 1 });
    // no model is configured here: the offline analyzer proposes a restart that waits for a human
    expect(["open", "analyzing", "awaiting_approval"]).toContain(stored?.status);
    const analysed = await waitForChat(
      stack.telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
    );
    expect(analysed[0]?.text).toContain("AUTO_REPAIR_ENABLED=false");
  });

  it("edits the same card in place when the alert repeats", async () => {
    await post(alertmanagerPayload({ fingerprint: "e2e-api-down" }));
    const messages = await waitForChat(stack.telegram, (all) => /2 occurrences/.test(all[0]?.text ?? ""));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toMatch(/2 occurrences/);
    expect(stack.telegram.callsOf("sendMessage")).toHaveLength(1);
  });

  it("answers every button press", async () => {
    const card = stack.telegram.messages(CHAT_ID)[0];
    const press = (verb: string, fromUserId: number) =>
      stack.telegram.pressButton({
        chatId: CHAT_ID,
        messageId: card?.message_id ?? 0,
        fromUserId,
        data: buttonData(stack.telegram, card?.message_id ?? 0, verb),
      });
    const snooze = press("snooze", 1001);
    // 3003 is not in TELEGRAM_APPROVER_IDS (1001, 1002)
    const approve = press("approve", 3003);
    await expect
      .poll(() => stack.telegram.answerOf(snooze)?.text, { timeout: 5_000 })
      .toBe("Snooze for how long?");
    await expect
      .poll(() => stack.telegram.answerOf(approve)?.text, { timeout: 5_000 })
      .toBe("You are not on the approver list.");
  });

  it("marks the card resolved, without buttons, when the alert resolves", async () => {
    await post(alertmanagerPayload({ fingerprint: "e2e-api-down", status: "resolved" }));
    const [card] = await waitForChat(stack.telegram, (all) => /RESOLVED/.test(all[0]?.text ?? ""));
    // nothing left to decide; only the drill-down stays
    expect((card?.reply_markup?.inline_keyboard.flat() ?? []).map((button) => button.text)).toEqual([
      "🔎 Details",
    ]);
    expect(stack.telegram.callsOf("sendMessage")).toHaveLength(1);
    expect((await getIncident(stack.db.pool, incidentId))?.status).toBe("resolved");
  });

  it("changes nothing when an ingest job is processed a second time", async () => {
    const response = await post(alertmanagerPayload({ fingerprint: "e2e-redelivery" }));
    const { jobId } = response.body as { jobId: string };
    const queue = stack.runtime.queues.ingest;
    await expect
      .poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 5_000 })
      .toBe("completed");
    const job = await queue.getJob(jobId);
    const id = (job?.returnvalue as { incidents: string[] } | undefined)?.incidents[0] ?? "";
    // settled: the card shows the (offline) analysis and no card or analysis job is still pending
    await waitForChat(
      stack.telegram,
      (all) => all.length === 2 && (all[1]?.text.includes("AI analysis (") ?? false),
    );
    const busy = async () => {
      const counts = await Promise.all(
        [stack.runtime.queues.notify, stack.runtime.queues.analyze].map((q) =>
          q.getJobCounts("waiting", "active", "delayed"),
        ),
      );
      return counts.reduce((sum, c) => sum + (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0), 0);
    };
    await expect.poll(busy, { timeout: 5_000 }).toBe(0);
    const before = await getIncident(stack.db.pool, id);
    const calls = stack.telegram.calls.length;
    await job?.retry("completed");
    await expect.poll(async () => job?.getState(), { timeout: 5_000 }).toBe("completed");
    expect(await getIncident(stack.db.pool, id)).toEqual(before);
    const { rows } = await stack.db.pool.query(
      "SELECT count(*)::int AS n FROM alerts WHERE incident_id = $1",
      [id],
    );
    expect(rows[0]).toEqual({ n: 1 });
    // the card is already current: no send and no edit
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stack.telegram.calls.slice(calls).filter((call) => call.method !== "getUpdates")).toEqual([]);
  });

  it("delays a card on 429 and delivers it after retry_after, never dropping it", async () => {
    stack.telegram.failNext("sendMessage", {
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      retry_after: 1,
    });
    const started = Date.now();
    await post(alertmanagerPayload({ fingerprint: "e2e-flood", labels: { alertname: "FloodedAlert" } }));
    await waitForChat(stack.telegram, (all) => cardFor(all, "FloodedAlert") !== undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const sends = stack.telegram.callsOf("sendMessage").map((call) => call.status);
    expect(sends).toContain(429);
  });

  it("posts a card for a signed Sentry issue with its link", async () => {
    const body = JSON.stringify(sentryIssueCreated());
    const response = await postJson(
      `${stack.url}/api/v1/webhooks/sentry`,
      body,
      sentryHeaders(body, "issue"),
    );
    expect(response.status).toBe(202);
    const messages = await waitForChat(stack.telegram, (all) => cardFor(all, "TypeError") !== undefined);
    const card = cardFor(messages, "TypeError");
    expect(card?.text).toContain("AWOOOI-API-2F");
    expect(
      card?.entities.some(
        (entity) => entity.type === "text_link" && entity.url.includes("/issues/1170820242/"),
      ),
    ).toBe(true);
  });

  it("posts a fresh card when the old one was deleted from the chat", async () => {
    await post(alertmanagerPayload({ fingerprint: "e2e-deleted", labels: { alertname: "DeletedCard" } }));
    const messages = await waitForChat(stack.telegram, (all) => cardFor(all, "DeletedCard") !== undefined);
    const old = cardFor(messages, "DeletedCard");
    await botOf(stack).api.deleteMessage(CHAT_ID, old?.message_id ?? 0);
    await post(alertmanagerPayload({ fingerprint: "e2e-deleted", labels: { alertname: "DeletedCard" } }));
    const after = await waitForChat(stack.telegram, (all) =>
      all.some((m) => m.text.includes("DeletedCard") && m.message_id !== old?.message_id),
    );
    expect(after.filter((m) => m.text.includes("DeletedCard"))).toHaveLength(1);
  });
});

// SLA escalation through the whole bot (the escalation deadlines), with the P0 deadline shortened to 2 s:
// an unacknowledged P0 escalates once, after its deadline and not before, in a reply to its card
// that mentions the on-call people; an acknowledged one does not; a failed repair escalates at
// once; and the deadline, a delayed job in Redis, outlives the process that booked it.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRuntime } from "../../app/runtime.js";
import { telegramNotices } from "../../bot/telegram-notices.js";
import { auditTrail } from "../../db/actions.js";
import { latestAnalysis } from "../../db/analyses.js";
import { getIncident, listEvents, telegramMessages } from "../../db/incidents.js";
import { escalateIncident } from "../../handlers/escalate-incident.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import {
  alertmanagerAuth,
  botOf,
  CHAT_ID,
  LIFTED_THROTTLE,
  postJson,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    // a cluster to act on: a card offers Approve only for what can run here
    kubernetes: true,
    env: { ESCALATE_P0_SECONDS: "2", TELEGRAM_ONCALL_USERNAMES: "alice,@bobby_sre" },
    // Telegram's flood limits lifted: this file is about escalation, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 1_000, perSecond: 1_000 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** Fires a new alert; resolves with its incident id and card once the card is in the chat. */
async function fire(alertname: string, severity: string): Promise<{ id: string; card: EmulatedMessage }> {
  const payload = alertmanagerPayload({
    fingerprint: alertname,
    labels: { alertname, severity, service: alertname.toLowerCase() },
  });
  expect(
    (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
  ).toBe(202);
  const messages = await waitForChat(stack.telegram, (all) => all.some((m) => m.text.includes(alertname)));
  const card = messages.find((m) => m.text.includes(alertname)) as EmulatedMessage;
  const id = /INC-\d{8}-\d{4,}/.exec(card.text)?.[0] ?? "";
  return { id, card };
}

const escalationsOf = (incidentId: string) =>
  stack.telegram.messages(CHAT_ID).filter((m) => m.text.startsWith("⏫") && m.text.includes(incidentId));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("SLA escalation", () => {
  it("escalates an unacknowledged P0 after its deadline and not before, replying to its card", async () => {
    const { id, card } = await fire("EscalateMe", "critical");
    const opened = (await getIncident(stack.db.pool, id))?.createdAt.getTime() ?? 0;
    await sleep(Math.max(0, opened + 1_500 - Date.now()));
    expect((await getIncident(stack.db.pool, id))?.escalatedAt).toBeNull();
    expect(escalationsOf(id)).toEqual([]);

    await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 10_000);
    const incident = await getIncident(stack.db.pool, id);
    expect(incident?.escalatedAt?.getTime()).toBeGreaterThanOrEqual(opened + 2_000);
    const [message] = escalationsOf(id);
    expect(message?.text).toContain(`@alice @bobby_sre: P0 ${id} unacknowledged for 2 s`);
    expect(message?.message.reply_to_message?.message_id).toBe(card.message_id);

    // the card says so, the timeline and the audit log record it once
    await waitForChat(stack.telegram, () =>
      (stack.telegram.message(CHAT_ID, card.message_id)?.text ?? "").includes("⏫ escalated"),
    );
    const events = await listEvents(stack.db.pool, id);
    expect(events.filter((event) => event.kind === "escalated")).toHaveLength(1);
    expect((await auditTrail(stack.db.pool, id)).filter((row) => row.what === "escalate")).toHaveLength(1);
  });

  it("changes nothing when the same escalation runs again", async () => {
    const { id } = await fire("EscalateTwice", "critical");
    await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 10_000);
    // the chat shows the mention before Telegram's answer reaches the bot and the bot records it
    await expect
      .poll(async () => (await listEvents(stack.db.pool, id)).some((e) => e.kind === "escalation_notified"), {
        timeout: 10_000,
      })
      .toBe(true);
    const before = await getIncident(stack.db.pool, id);
    const config = stack.runtime.config;
    const result = await escalateIncident(
      {
        pool: stack.db.pool,
        notices: telegramNotices(botOf(stack).api),
        chatIds: () => [String(CHAT_ID)],
        oncallUsernames: config.telegram.oncallUsernames,
        afterSeconds: config.escalation.afterSeconds,
      },
      { incidentId: id, reason: "sla" },
    );
    expect(result).toEqual({ outcome: "already_escalated", notified: [] });
    expect((await getIncident(stack.db.pool, id))?.version).toBe(before?.version);
    expect(escalationsOf(id)).toHaveLength(1);
  });

  it("does not escalate an incident someone acknowledged", async () => {
    const { id } = await fire("AcknowledgedInTime", "critical");
    await stack.db.pool.query(
      "UPDATE incidents SET acknowledged_at = now(), acknowledged_by = '1001' WHERE id = $1",
      [id],
    );
    await sleep(3_500);
    expect((await getIncident(stack.db.pool, id))?.escalatedAt).toBeNull();
    expect(escalationsOf(id)).toEqual([]);
  });

  it("starts the clock again when an acknowledged incident resolves and fires again", async () => {
    const { id } = await fire("FlapsAfterAck", "critical");
    await stack.db.pool.query(
      "UPDATE incidents SET acknowledged_at = now(), acknowledged_by = '1001' WHERE id = $1",
      [id],
    );
    const labels = { alertname: "FlapsAfterAck", severity: "critical", service: "flapsafterack" };
    const send = (status: "firing" | "resolved") =>
      postJson(
        `${stack.url}/api/v1/webhooks/alertmanager`,
        alertmanagerPayload({ fingerprint: "FlapsAfterAck", labels, status }),
        alertmanagerAuth,
      );
    expect((await send("resolved")).status).toBe(202);
    await expect.poll(async () => (await getIncident(stack.db.pool, id))?.status).toBe("resolved");
    // the first deadline passes while it is resolved: nothing to escalate
    await sleep(2_500);
    expect((await send("firing")).status).toBe(202);
    await expect.poll(async () => (await getIncident(stack.db.pool, id))?.status).toBe("open");
    const reopenedAt = Date.now();
    expect((await getIncident(stack.db.pool, id))?.acknowledgedAt).toBeNull();
    // nobody acknowledged the new firing: it escalates one deadline later
    await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 10_000);
    expect(Date.now() - reopenedAt).toBeGreaterThanOrEqual(1_500);
    expect(escalationsOf(id)).toHaveLength(1);
  });

  it("escalates a failed repair at once, acknowledged or not", async () => {
    const { id, card } = await fire("RepairDidNotHelp", "warning");
    await stack.db.pool.query(
      "UPDATE incidents SET acknowledged_at = now(), acknowledged_by = '1001' WHERE id = $1",
      [id],
    );
    await stack.runtime.queues.escalate.add("escalate", {
      incidentId: id,
      reason: "repair_failed",
      detail: "pods still crash-looping",
    });
    // "at once": a P2's SLA is an hour here (ESCALATE_P2_SECONDS default), the wait is seconds; no
    // clock assertion, which a loaded machine would fail without the product being slow
    await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 15_000);
    const [message] = escalationsOf(id);
    expect(message?.text).toContain(`@alice @bobby_sre: P2 ${id} repair failed: pods still crash-looping`);
    expect(message?.message.reply_to_message?.message_id).toBe(card.message_id);
  });

  it("tells the on-call people when a repair fails after the SLA already escalated", async () => {
    const { id } = await fire("FailsAfterSla", "critical");
    await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 10_000);
    await stack.runtime.queues.escalate.add("escalate", {
      incidentId: id,
      reason: "repair_failed",
      detail: "RESTART_POD failed: rollout never completed",
    });
    await waitForChat(stack.telegram, () => escalationsOf(id).length > 1, 5_000);
    expect(escalationsOf(id)[1]?.text).toContain(
      `@alice @bobby_sre: P0 ${id} repair failed: RESTART_POD failed: rollout never completed`,
    );
    // the same failure retried does not ping again (once the first run recorded its message:
    // two runs at the same moment may both ping, which beats a ping lost)
    await expect
      .poll(
        async () =>
          (await listEvents(stack.db.pool, id)).filter((event) => event.kind === "escalation_notified")
            .length,
      )
      .toBe(2);
    await stack.runtime.queues.escalate.add("escalate", { incidentId: id, reason: "repair_failed" });
    await sleep(1_000);
    expect(escalationsOf(id)).toHaveLength(2);
  });

  it("shows the escalation on the card even when Telegram refused the first mention", async () => {
    const { id, card } = await fire("MentionRefusedOnce", "warning");
    // the card settled: analysed, and showing the incident's latest version
    await expect
      .poll(
        async () => {
          const incident = await getIncident(stack.db.pool, id);
          const [shown] = await telegramMessages(stack.db.pool, id);
          const analysed = (await latestAnalysis(stack.db.pool, id)) !== undefined;
          return analysed && shown?.renderedVersion === incident?.version;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    stack.telegram.failNext("sendMessage", {
      error_code: 400,
      description: "Bad Request: not enough rights to send text messages to the chat",
    });
    await stack.runtime.queues.escalate.add("escalate", {
      incidentId: id,
      reason: "repair_failed",
      detail: "pods still crash-looping",
    });
    // the job is retried (ESCALATE_JOB_OPTIONS) and the mention goes out the second time
    await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 10_000);
    expect(escalationsOf(id)).toHaveLength(1);
    await waitForChat(
      stack.telegram,
      () => (stack.telegram.message(CHAT_ID, card.message_id)?.text ?? "").includes("⏫ escalated"),
      5_000,
    );
  });

  it(
    "still escalates after the process that booked it stopped, and says when nobody is on call",
    { timeout: 30_000 },
    async () => {
      const { id } = await fire("EscalateAcrossRestart", "critical");
      await stack.runtime.close();
      await sleep(2_500);
      expect((await getIncident(stack.db.pool, id))?.escalatedAt).toBeNull();

      const config = stack.runtime.config;
      const next = await startRuntime(
        { ...config, telegram: { ...config.telegram, oncallUsernames: [] } },
        { logger: pino({ level: "silent" }), telegramThrottle: LIFTED_THROTTLE },
      );
      try {
        await waitForChat(stack.telegram, () => escalationsOf(id).length > 0, 10_000);
        const [message] = escalationsOf(id);
        expect(message?.text).toContain(`P0 ${id} unacknowledged for 2 s`);
        expect(message?.text).toContain("no on-call usernames configured");
        expect(escalationsOf(id)).toHaveLength(1);
      } finally {
        await next.close();
      }
    },
  );
});

// Who the bot answers and which message a press must be on, through the Telegram emulator and the
// whole stack. Callback data is written by the client, so a forged press can name any incident:
// each of these once acted (an approval from a private chat, a silence from another group, `#0`
// approving whatever was pending) and now changes nothing and leaves an audit row naming the chat
// and the message. Strangers who write to the bot privately learn nothing about incidents.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail, latestAction, type AuditEntry } from "../../db/actions.js";
import { telegramMessages } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import {
  alertmanagerAuth,
  buttonData,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";

const ALICE = { fromUserId: 1001, username: "alice" };
const VIEWER = { fromUserId: 2002, username: "vera" };
const STRANGER = { fromUserId: 3003, username: "mallory" };
const OTHER_GROUP = -1009876543210;

let stack: Stack;
/** An incident whose proposal stays pending through the whole file. */
let pendingCard: Card | undefined;
beforeAll(async () => {
  stack = await startStack({
    kubernetes: true,
    // Telegram's flood limits lifted: this file is about who may press what, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    env: { TELEGRAM_VIEWER_IDS: String(VIEWER.fromUserId) },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

interface Card {
  incidentId: string;
  messageId: number;
}

/** Fires an alert the offline analyzer proposes a restart for; resolves once Approve is on its card. */
async function openIncident(fingerprint: string): Promise<Card> {
  const response = await postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({
      fingerprint,
      labels: { alertname: "AWOOOIAPIDown", deployment: fingerprint, pod: `${fingerprint}-7d4b8c9f5-abc12` },
    }),
    alertmanagerAuth,
  );
  expect(response.status).toBe(202);
  let card: Card | undefined;
  await expect
    .poll(
      async () => {
        const { rows } = await stack.db.pool.query<{ id: string }>(
          "SELECT id FROM incidents WHERE fingerprint = $1",
          [fingerprint],
        );
        const incidentId = rows[0]?.id;
        if (incidentId === undefined) return false;
        const [shown] = await telegramMessages(stack.db.pool, incidentId);
        const pending = (await latestAction(stack.db.pool, incidentId))?.status === "pending";
        const text =
          shown === undefined ? "" : (stack.telegram.message(CHAT_ID, shown.messageId)?.text ?? "");
        if (shown === undefined || !pending || !text.includes("needs approval")) return false;
        card = { incidentId, messageId: shown.messageId };
        return true;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true);
  if (card === undefined) throw new Error("no card");
  return card;
}

const answer = async (queryId: string): Promise<string> => {
  await expect.poll(() => stack.telegram.answerOf(queryId), { timeout: 5_000 }).toBeDefined();
  const text = stack.telegram.answerOf(queryId)?.text;
  return typeof text === "string" ? text : "";
};

/** The audit rows of presses (and refusals) that name no incident or this one. */
async function auditRows(where: string, params: unknown[]): Promise<AuditEntry[]> {
  const { rows } = await stack.db.pool.query<AuditEntry>(
    `SELECT at, actor, what, outcome, detail FROM audit_log WHERE ${where} ORDER BY id`,
    params,
  );
  return rows;
}

/** A user writes in a chat; resolves with the bot's next `count` messages there. */
async function sayIn(
  chatId: number,
  user: { fromUserId: number; username: string },
  text: string,
  count: number,
) {
  const before = stack.telegram.messages(chatId).filter((m) => m.from_bot).length;
  stack.telegram.sendUserMessage({ chatId, ...user, text });
  const messages = await waitForChat(
    stack.telegram,
    (messages) => messages.filter((m) => m.from_bot).length >= before + count,
    10_000,
    chatId,
  );
  return messages.filter((m) => m.from_bot).slice(before);
}

describe("a press acts only on the card it was sent with", () => {
  it("refuses an approver's hand-made Approve pressed on a bot message in a private chat", async () => {
    const card = await openIncident("bound-private");
    pendingCard = card;
    const approve = buttonData(stack.telegram, card.messageId, "approve");
    const [help] = await sayIn(ALICE.fromUserId, ALICE, "/help", 1);
    const forged = stack.telegram.pressButton({
      chatId: ALICE.fromUserId,
      messageId: help?.message_id ?? 0,
      ...ALICE,
      data: approve,
      allowMissingButton: true,
    });
    expect(await answer(forged)).toBe("This button does not belong to this message; nothing changed.");
    expect((await latestAction(stack.db.pool, card.incidentId))?.status).toBe("pending");
    const rows = await auditTrail(stack.db.pool, card.incidentId);
    expect(rows.at(-1)).toMatchObject({
      actor: "@alice",
      what: "press",
      outcome: "not_on_its_card",
      detail: { chat: ALICE.fromUserId, chatType: "private", message: help?.message_id, data: approve },
    });
    expect(rows.some((row) => row.what === "approve")).toBe(false);
  });

  it("refuses a press that names another incident than the card it is on", async () => {
    const [first, second] = [await openIncident("bound-a"), await openIncident("bound-b")];
    const forged = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: first.messageId,
      ...ALICE,
      data: buttonData(stack.telegram, second.messageId, "approve"),
      allowMissingButton: true,
    });
    expect(await answer(forged)).toBe("This button does not belong to this message; nothing changed.");
    expect((await latestAction(stack.db.pool, second.incidentId))?.status).toBe("pending");
    expect((await auditTrail(stack.db.pool, second.incidentId)).at(-1)).toMatchObject({
      what: "press",
      outcome: "not_on_its_card",
      detail: { chat: CHAT_ID, message: first.messageId },
    });
  });

  it("approves nothing for `#0`, and audits it as a button the bot never made", async () => {
    const card = await openIncident("bound-zero");
    const forged = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card.messageId,
      ...ALICE,
      data: `v1:approve:${card.incidentId}:#0`,
      allowMissingButton: true,
    });
    expect(await answer(forged)).toBe("This button is no longer valid.");
    expect((await latestAction(stack.db.pool, card.incidentId))?.status).toBe("pending");
    const rows = await auditRows("what = 'press' AND detail->>'data' = $1", [
      `v1:approve:${card.incidentId}:#0`,
    ]);
    expect(rows).toEqual([
      expect.objectContaining({
        actor: "@alice",
        outcome: "unknown_button",
        detail: expect.objectContaining({ chat: CHAT_ID, message: card.messageId }) as unknown,
      }),
    ]);
  });

  it("records where a press on the card itself happened, before the decision's row", async () => {
    const card = await openIncident("bound-ok");
    const pressed = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card.messageId,
      ...ALICE,
      data: buttonData(stack.telegram, card.messageId, "approve"),
    });
    expect(await answer(pressed)).toMatch(/^Approved:/);
    const rows = (await auditTrail(stack.db.pool, card.incidentId)).map((row) => ({
      what: row.what,
      outcome: row.outcome,
      detail: row.detail,
    }));
    const at = rows.findIndex((row) => row.what === "press");
    expect(rows[at]).toMatchObject({
      outcome: "on_card",
      detail: { chat: CHAT_ID, message: card.messageId },
    });
    expect(rows[at + 1]).toMatchObject({ what: "approve RESTART_POD", outcome: "approved" });
  });
});

describe("the bot answers its team only", () => {
  it("tells a stranger in private once that it is not for them, shows nothing, and audits each try", async () => {
    const [refusal] = await sayIn(STRANGER.fromUserId, STRANGER, "/incidents", 1);
    expect(refusal?.text).toContain("serves its team's incident chats only");
    expect(refusal?.text).toContain(`yours is ${STRANGER.fromUserId}`);
    stack.telegram.sendUserMessage({ chatId: STRANGER.fromUserId, ...STRANGER, text: "/status" });
    await expect
      .poll(async () => (await auditRows("actor = '@mallory' AND outcome = 'not_team'", [])).length, {
        timeout: 5_000,
      })
      .toBe(2);
    // once a day: the second try got no answer at all
    expect(stack.telegram.messages(STRANGER.fromUserId).filter((m) => m.from_bot)).toHaveLength(1);
    expect((await auditRows("actor = '@mallory'", [])).map((row) => row.what)).toEqual([
      "message /incidents",
      "message /status",
    ]);
  });

  it("answers a listed viewer in private", async () => {
    const [reply] = await sayIn(VIEWER.fromUserId, VIEWER, "/incidents", 1);
    expect(reply?.text).not.toContain("serves its team's incident chats only");
  });

  it("refuses in a group it was not configured for, also a Silence pressed there", async () => {
    const [refusal] = await sayIn(OTHER_GROUP, STRANGER, "/status", 1);
    expect(refusal?.text).toContain("serves its team's incident chats only");
    // the first test's incident, whose proposal is still pending
    const card = pendingCard ?? (await openIncident("bound-elsewhere"));
    const forged = stack.telegram.pressButton({
      chatId: OTHER_GROUP,
      messageId: refusal?.message_id ?? 0,
      ...ALICE,
      data: `v1:silence:${card.incidentId}:2h`,
      allowMissingButton: true,
    });
    expect(await answer(forged)).toContain("serves its team's incident chats only");
    const rows = await auditRows("actor = '@alice' AND outcome = 'not_team'", []);
    expect(rows.at(-1)).toMatchObject({
      what: `press v1:silence:${card.incidentId}:2h`,
      detail: { chat: OTHER_GROUP },
    });
    expect(
      (await auditTrail(stack.db.pool, card.incidentId)).some((row) => row.what.startsWith("silence")),
    ).toBe(false);
    expect(stack.telegram.messages(OTHER_GROUP).filter((m) => m.from_bot)).toHaveLength(1);
  });

  it("answers /whoami anywhere with the ids the settings need, and nothing about incidents", async () => {
    const group = -1005555555555;
    const [inGroup] = await sayIn(group, STRANGER, "/whoami", 1);
    expect(inGroup?.text).toBe(
      [
        `Chat id: ${group} (supergroup)`,
        "This chat is not configured: set TELEGRAM_CHAT_ID (or a TELEGRAM_ROUTES entry) to its id.",
        `Your user id: ${STRANGER.fromUserId}; you are neither an approver nor a viewer.`,
      ].join("\n"),
    );
    const [inPrivate] = await sayIn(VIEWER.fromUserId, VIEWER, "/whoami", 1);
    expect(inPrivate?.text).toBe(
      `Chat id: ${VIEWER.fromUserId} (private)\nYour user id: ${VIEWER.fromUserId}; you are a viewer.`,
    );
  });

  it("audits a /rollback refused to someone who is not an approver", async () => {
    await sayIn(VIEWER.fromUserId, VIEWER, "/rollback awoooi-prod/awoooi-api", 1);
    expect(await auditRows("actor = '@vera' AND outcome = 'not_allowed'", [])).toEqual([
      expect.objectContaining({ what: "/rollback awoooi-prod/awoooi-api" }),
    ]);
  });
});

// "👀 I'm on it" through the whole bot: the Telegram emulator, the grammY bot, the queues, the
// workers and PostgreSQL. With the P0 deadline shortened to 3 s, a P0 somebody takes before its
// deadline does not escalate while one nobody takes does; the card shows who took it, when (in
// BOT_TIMEZONE) and from whom it was taken over; `/ack <id>` does the same as the button; only the
// approvers and TELEGRAM_RESPONDER_IDS may take an incident; every attempt is audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../db/actions.js";
import { getIncident, listEvents } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";

const ALICE = { fromUserId: 1001, username: "alice" }; // an approver (dev/env.ts)
const CAROL = { fromUserId: 2001, username: "carol" }; // a responder, not an approver
const MALLORY = { fromUserId: 3003, username: "mallory" }; // in the group, neither
const DEADLINE_S = 3;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      ESCALATE_P0_SECONDS: String(DEADLINE_S),
      TELEGRAM_ONCALL_USERNAMES: "oncall_sre",
      TELEGRAM_RESPONDER_IDS: String(CAROL.fromUserId),
      BOT_TIMEZONE: "Asia/Taipei",
    },
    // the emulator's flood limits are lifted: this test counts escalations, not sends per minute
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** Fires a new P0 alert; its incident id and card once the card is in the chat. */
async function fire(alertname: string): Promise<{ id: string; card: EmulatedMessage }> {
  const payload = alertmanagerPayload({
    fingerprint: alertname,
    // its own workload: the subject (domain/subject.ts) and so the service are this alert's, not
    // the fixture's pod
    labels: {
      alertname,
      severity: "critical",
      service: alertname.toLowerCase(),
      deployment: alertname.toLowerCase(),
      pod: `${alertname.toLowerCase()}-7d4b8c9f5-abc12`,
    },
  });
  expect(
    (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
  ).toBe(202);
  const messages = await waitForChat(stack.telegram, (all) => all.some((m) => m.text.includes(alertname)));
  const card = messages.find((m) => m.text.includes(alertname)) as EmulatedMessage;
  return { id: /INC-\d{8}-\d{4,}/.exec(card.text)?.[0] ?? "", card };
}

const pressTake = (card: EmulatedMessage, id: string, user: { fromUserId: number; username: string }) =>
  stack.telegram.pressButton({ chatId: CHAT_ID, messageId: card.message_id, ...user, data: `v1:take:${id}` });

const answer = async (queryId: string): Promise<string> => {
  await expect.poll(() => stack.telegram.answerOf(queryId), { timeout: 8_000 }).toBeDefined();
  const text = stack.telegram.answerOf(queryId)?.text;
  return typeof text === "string" ? text : "";
};

const cardText = (card: EmulatedMessage) => stack.telegram.message(CHAT_ID, card.message_id)?.text ?? "";
const escalationsOf = (id: string) =>
  stack.telegram.messages(CHAT_ID).filter((m) => m.text.startsWith("⏫") && m.text.includes(id));
const trail = async (id: string) =>
  (await auditTrail(stack.db.pool, id)).map((row) => `${row.actor} ${row.what}: ${row.outcome}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("I'm on it", () => {
  it("stops the escalation of a P0, shows on the card, and another responder may take it over", async () => {
    const taken = await fire("TakenInTime");
    const ignored = await fire("NobodyTakesIt");
    const opened = (await getIncident(stack.db.pool, taken.id))?.createdAt.getTime() ?? 0;
    expect(taken.card.reply_markup?.inline_keyboard[1]?.map((b) => b.text)).toContain("👀 I'm on it");

    expect(await answer(pressTake(taken.card, taken.id, ALICE))).toContain(`${taken.id} is yours`);
    expect(Date.now()).toBeLessThan(opened + DEADLINE_S * 1_000); // taken before the deadline
    await waitForChat(stack.telegram, () => cardText(taken.card).includes("👀 On it: @alice since"));
    // the team's zone (Asia/Taipei), not UTC
    expect(cardText(taken.card)).toMatch(/👀 On it: @alice since \d\d:\d\d GMT\+8/);
    expect(cardText(taken.card)).toContain("👀 @alice is on it");

    // the untaken P0 escalates at its deadline; the taken one does not, then or later
    await waitForChat(stack.telegram, () => escalationsOf(ignored.id).length > 0, 15_000);
    await sleep(Math.max(0, opened + (DEADLINE_S + 2) * 1_000 - Date.now()));
    expect(escalationsOf(taken.id)).toEqual([]);
    const incident = await getIncident(stack.db.pool, taken.id);
    expect(incident?.escalatedAt).toBeNull();
    expect(incident?.acknowledgedBy).toBe("@alice");

    // a responder who is not an approver takes it over
    expect(await answer(pressTake(taken.card, taken.id, CAROL))).toContain(
      `You took ${taken.id} over from @alice`,
    );
    await waitForChat(stack.telegram, () => cardText(taken.card).includes("👀 On it: @carol since"));
    expect(cardText(taken.card)).toMatch(/👀 On it: @carol since \d\d:\d\d GMT\+8 \(took over from @alice\)/);
    expect(cardText(taken.card)).toContain("👀 @carol took over from @alice");
    expect((await getIncident(stack.db.pool, taken.id))?.acknowledgedBy).toBe("@carol");

    // pressing again changes nothing; someone on neither list is refused
    expect(await answer(pressTake(taken.card, taken.id, CAROL))).toContain("already yours");
    expect(await answer(pressTake(taken.card, taken.id, MALLORY))).toContain("not on the responder list");
    const events = await listEvents(stack.db.pool, taken.id);
    expect(events.filter((event) => event.kind === "taken").map((event) => event.actor)).toEqual([
      "@alice",
      "@carol",
    ]);
    expect(await trail(taken.id)).toEqual(
      expect.arrayContaining([
        "@alice take: taken",
        "@carol take: taken_over",
        "@carol take: already_yours",
        "@mallory take: not_allowed",
      ]),
    );
  }, 40_000);

  it("takes an incident with /ack <id>, as the button does", async () => {
    const { id, card } = await fire("AckedByCommand");
    const before = stack.telegram.messages(CHAT_ID).length;
    stack.telegram.sendUserMessage({ chatId: CHAT_ID, ...CAROL, text: `/ack ${id}` });
    const replies = await waitForChat(stack.telegram, (all) =>
      all.slice(before).some((m) => m.text.includes(`${id} is yours`)),
    );
    expect(replies.slice(before).some((m) => m.text.includes("SLA escalation is off"))).toBe(true);
    await waitForChat(stack.telegram, () => cardText(card).includes("👀 On it: @carol since"));
    await sleep(
      Math.max(
        0,
        ((await getIncident(stack.db.pool, id))?.createdAt.getTime() ?? 0) +
          (DEADLINE_S + 2) * 1_000 -
          Date.now(),
      ),
    );
    expect(escalationsOf(id)).toEqual([]);

    stack.telegram.sendUserMessage({ chatId: CHAT_ID, ...ALICE, text: "/ack" });
    await waitForChat(stack.telegram, (all) => all.some((m) => m.text.startsWith("Usage: /ack")));
  }, 40_000);

  it("lists the incidents I took with /incidents mine, and a page opens the drill-down with its SLA clock", async () => {
    /** Sends `text` as `user`; the first new message from the bot that `match`es. */
    const ask = async (user: { fromUserId: number; username: string }, text: string, match: RegExp) => {
      const before = stack.telegram.messages(CHAT_ID).length;
      stack.telegram.sendUserMessage({ chatId: CHAT_ID, ...user, text });
      const all = await waitForChat(stack.telegram, (messages) =>
        messages.slice(before).some((m) => m.from_bot && match.test(m.text)),
      );
      return all.slice(before).find((m) => m.from_bot && match.test(m.text)) as EmulatedMessage;
    };
    // Carol took one over with the button and acked one with /ack; Alice's was taken over from her
    const mine = await ask(CAROL, "/incidents mine", /incidents you took/);
    expect(mine.text).toContain("Open incidents you took: 2");
    expect(
      mine.reply_markup?.inline_keyboard
        .flat()
        .map((b) => b.text)
        .join(" "),
    ).toMatch(/TakenInTime|takenintime/);
    expect((await ask(ALICE, "/incidents mine", /incidents you took/)).text).toBe(
      "✅ No open incidents you took.",
    );
    expect((await ask(ALICE, "/incidents nobodytakesit", /incidents of/)).text).toContain(
      "Open incidents of nobodytakesit: 1",
    );
    const p0 = await ask(ALICE, "/incidents P0", /P0 incidents/);
    expect(p0.text).toMatch(/Open P0 incidents: [3-9]/);

    // a row of the filtered list opens the drill-down, whose overview shows the SLA clock
    const row = p0.reply_markup?.inline_keyboard.flat().find((b) => /nobodytakesit/.test(b.text));
    const data = row !== undefined && "callback_data" in row ? row.callback_data : "";
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    const before = stack.telegram.messages(CHAT_ID).length;
    stack.telegram.pressButton({ chatId: CHAT_ID, messageId: p0.message_id, ...ALICE, data });
    const pages = await waitForChat(stack.telegram, (all) =>
      all.slice(before).some((m) => m.text.includes("— 📋 Overview —")),
    );
    const overview = pages.slice(before).find((m) => m.text.includes("— 📋 Overview —"));
    expect(overview?.text).toMatch(/⏱ SLA: escalated \d+ s ago \(\d\d:\d\d GMT\+8\), nobody has taken it/);
  }, 40_000);
});

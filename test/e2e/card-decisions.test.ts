// The card's Approve, Reject and Snooze buttons through the Telegram emulator and the whole stack:
// only approvers decide, every press acts at most once and says why when it does not, the reject
// dialogue asks the presser alone, and a snooze comes back when it ends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail, latestAction, proposeAction } from "../../db/actions.js";
import { latestAnalysis } from "../../db/analyses.js";
import { getIncident, telegramMessages } from "../../db/incidents.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

const ALICE = { fromUserId: 1001, username: "alice" };
const BOB = { fromUserId: 1002, username: "bob" };
const OUTSIDER = { fromUserId: 3003, username: "mallory" };
const REPLY_TIMEOUT_MS = 2_500;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    // a cluster to act on: a card offers Approve only for what can run here
    kubernetes: true,
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: {
      chatops: {
        // minutes become seconds: the reminders fire while the test watches
        snoozeDurations: { "15m": 1_500, "1h": 3_000, "4h": 4_000 },
        replyTimeoutMs: REPLY_TIMEOUT_MS,
      },
    },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

interface Card {
  incidentId: string;
  messageId: number;
}

// Alert names the offline analyzer proposes a repair for. Each incident gets its own, and its own
// workload: a failed repair or a rejection teaches the playbooks (and the guardrails' cooldown)
// about that alert and workload only, so the next incident still gets a proposal.
const ALERT_NAMES = [
  "AWOOOIAPIDown",
  "APIHealthCheckFailed",
  "ApiDown",
  "ServiceDown",
  "HighCPUUsage",
  "CPUThrottlingHigh",
  "HighCPU",
  "QueueBacklog",
  "OOMKilled",
  "PodOOMKilled",
  "SlowResponse",
  "HighErrorRate",
];
const labelsOf = new Map<string, Record<string, string>>();

/** The alert of `fingerprint`, firing or resolved, always with the same labels. */
const sendAlert = (fingerprint: string, status: "firing" | "resolved" = "firing") => {
  const labels = labelsOf.get(fingerprint) ?? {
    alertname: ALERT_NAMES[labelsOf.size % ALERT_NAMES.length] ?? "AWOOOIAPIDown",
    deployment: fingerprint,
    pod: `${fingerprint}-7d4b8c9f5-abc12`,
  };
  labelsOf.set(fingerprint, labels);
  return postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint, status, labels }),
    alertmanagerAuth,
  );
};

/** Fires an alert and waits until its card shows the proposal waiting for approval. */
async function openIncident(fingerprint: string): Promise<Card> {
  const response = await sendAlert(fingerprint);
  expect(response.status).toBe(202);
  let card: Card | undefined;
  await expect
    .poll(
      async () => {
        const { rows } = await stack.db.pool.query<{ id: string }>(
          `SELECT id FROM incidents WHERE fingerprint = $1`,
          [fingerprint],
        );
        const incidentId = rows[0]?.id;
        if (incidentId === undefined) return false;
        const [shown] = await telegramMessages(stack.db.pool, incidentId);
        const text =
          shown === undefined ? "" : (stack.telegram.message(CHAT_ID, shown.messageId)?.text ?? "");
        const pending = (await latestAction(stack.db.pool, incidentId))?.status === "pending";
        if (shown !== undefined && pending && text.includes("needs approval")) {
          card = { incidentId, messageId: shown.messageId };
          return true;
        }
        return false;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true);
  if (card === undefined) throw new Error("no card");
  return card;
}

const press = (
  card: Card,
  user: { fromUserId: number; username: string },
  verb: string,
  arg?: string,
  allowMissingButton = false,
) =>
  stack.telegram.pressButton({
    chatId: CHAT_ID,
    messageId: card.messageId,
    ...user,
    // a first press takes the button the card shows (Approve and Reject name their proposal)
    data:
      arg === undefined
        ? (buttonsOf(card).find((data) => data.startsWith(`v1:${verb}:${card.incidentId}`)) ??
          `v1:${verb}:${card.incidentId}`)
        : `v1:${verb}:${card.incidentId}:${arg}`,
    allowMissingButton,
  });

const answer = async (queryId: string): Promise<string> => {
  await expect.poll(() => stack.telegram.answerOf(queryId), { timeout: 5_000 }).toBeDefined();
  const text = stack.telegram.answerOf(queryId)?.text;
  return typeof text === "string" ? text : "";
};

/**
 * Opens the Snooze choices and waits until the card shows them, as a person sees them before
 * pressing one: the press is answered once they are set, unless the handler outlived the bot's
 * answer deadline on a loaded machine ("Working on it…" first, the choices after).
 */
const openSnoozeChoices = async (card: Card, user: { fromUserId: number; username: string }) => {
  expect(await answer(press(card, user, "snooze"))).toMatch(/^(?:Snooze for how long\?|Working on it…)$/);
  await expect.poll(() => buttonsOf(card), { timeout: 10_000 }).toContain(`v1:snooze:${card.incidentId}:15m`);
};

const cardText = (card: Card) => stack.telegram.message(CHAT_ID, card.messageId)?.text ?? "";
const buttonsOf = (card: Card) =>
  (stack.telegram.message(CHAT_ID, card.messageId)?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .map((button) => ("callback_data" in button ? button.callback_data : ""));

const trail = async (card: Card) =>
  (await auditTrail(stack.db.pool, card.incidentId)).map((row) => `${row.actor} ${row.what}: ${row.outcome}`);

/** Chat messages (not the card) that reply to the card or mention the incident, newest last. */
const chatLines = () => stack.telegram.messages(CHAT_ID).map((message) => message.text);

/** A re-analysis of the card's incident proposing SCALE_UP of `deployment` instead. */
const proposeScaleUp = async (card: Card, deployment: string) =>
  proposeAction(stack.db.pool, {
    incidentId: card.incidentId,
    analysisId: (await latestAnalysis(stack.db.pool, card.incidentId))?.id ?? 0,
    action: "SCALE_UP",
    params: { namespace: "awoooi-prod", deployment },
  });

/** Asks for the card to be brought up to date, as any change of its incident does. */
const redraw = (card: Card) =>
  stack.runtime.queues.notify.add("card", {
    incidentId: card.incidentId,
    changedAt: new Date().toISOString(),
  });

const say = (user: { fromUserId: number; username: string }, text: string) =>
  stack.telegram.sendUserMessage({ chatId: CHAT_ID, ...user, text });

/** Waits until the chat has a message matching `pattern` after `after` messages. */
const waitForLine = async (pattern: RegExp, after: number): Promise<string> => {
  const messages = await waitForChat(stack.telegram, (all) =>
    all.slice(after).some((m) => pattern.test(m.text)),
  );
  return messages.slice(after).find((m) => pattern.test(m.text))?.text ?? "";
};

describe("Approve", () => {
  it("approves once when two approvers press at the same moment, and acknowledges the incident", async () => {
    const card = await openIncident("decide-approve");
    const refused = press(card, OUTSIDER, "approve");
    expect(await answer(refused)).toBe("You are not on the approver list.");
    const [first, second] = [press(card, ALICE, "approve"), press(card, BOB, "approve")];
    const answers = [await answer(first), await answer(second)];
    const winner = answers[0]?.startsWith("Approved") === true ? "@alice" : "@bob";
    expect(answers.filter((text) => text.startsWith("Approved:"))).toHaveLength(1);
    expect(answers.find((text) => !text.startsWith("Approved:"))).toMatch(
      new RegExp(`^Nothing is waiting for approval: \\w+ was already approved by ${winner}\\.$`),
    );
    const incident = await getIncident(stack.db.pool, card.incidentId);
    expect(incident?.acknowledgedBy).toBe(winner);
    expect(incident?.acknowledgedAt).toBeInstanceOf(Date);
    await expect.poll(() => cardText(card), { timeout: 5_000 }).toContain(`approved by ${winner}`);
    const rows = await trail(card);
    expect(rows).toContain("@mallory approve: not_allowed");
    expect(rows.filter((row) => row.endsWith(": approved"))).toHaveLength(1);
    expect(rows.filter((row) => row.endsWith("approve: nothing_pending"))).toHaveLength(1);
  });
});

describe("a press on a card drawn before the proposal changed", () => {
  it("approves nothing and rejects nothing on its behalf, and says so", async () => {
    const card = await openIncident("decide-replaced");
    const shown = await latestAction(stack.db.pool, card.incidentId);
    const oldApprove = buttonsOf(card).find((data) => data.startsWith("v1:approve:")) ?? "";
    const oldReject = buttonsOf(card).find((data) => data.startsWith("v1:reject:")) ?? "";
    expect(oldApprove).toBe(`v1:approve:${card.incidentId}:#${(shown?.id ?? 0).toString(36)}`);
    // a re-analysis proposes something else before anyone pressed (the card edit may lag behind)
    const newer = await proposeScaleUp(card, "decide-replaced");
    const pressOld = (user: typeof ALICE, data: string) =>
      stack.telegram.pressButton({
        chatId: CHAT_ID,
        messageId: card.messageId,
        ...user,
        data,
        allowMissingButton: true,
      });
    const stale =
      "This card showed an older proposal; SCALE_UP is proposed now. Nothing changed: look at the updated card and press again.";
    expect(await answer(pressOld(ALICE, oldApprove))).toBe(stale);
    expect(await answer(pressOld(BOB, oldReject))).toBe(stale);
    // neither the one shown nor the new one was decided, and nobody was asked for a reason
    expect((await latestAction(stack.db.pool, card.incidentId))?.id).toBe(newer?.id);
    expect((await latestAction(stack.db.pool, card.incidentId))?.status).toBe("pending");
    expect(chatLines().some((text) => text.includes(`why reject`) && text.includes(card.incidentId))).toBe(
      false,
    );
    expect((await trail(card)).filter((row) => row.endsWith(": stale_card"))).toHaveLength(2);
    // the card, once redrawn, names the new proposal, and its Approve decides exactly that
    await redraw(card);
    await expect
      .poll(() => buttonsOf(card).find((data) => data.startsWith("v1:approve:")), { timeout: 5_000 })
      .toBe(`v1:approve:${card.incidentId}:#${(newer?.id ?? 0).toString(36)}`);
  });
});

describe("Reject", () => {
  let card: Card;

  it("refuses a user who is not an approver without asking anything", async () => {
    card = await openIncident("decide-reject");
    const before = chatLines().length;
    expect(await answer(press(card, OUTSIDER, "reject"))).toBe("You are not on the approver list.");
    say(OUTSIDER, "because I say so");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      chatLines()
        .slice(before)
        .filter((text) => text.includes("why reject")),
    ).toEqual([]);
    expect((await latestAction(stack.db.pool, card.incidentId))?.status).toBe("pending");
  });

  it("asks the presser for a reason, ignores others, and changes nothing on /cancel", async () => {
    const before = chatLines().length;
    expect(await answer(press(card, ALICE, "reject"))).toBe("Reply with a reason, or /cancel.");
    const prompt = await waitForLine(/why reject/, before);
    expect(prompt).toMatch(new RegExp(`^@alice, why reject \\w+ on ${card.incidentId}\\?`));
    // bob talks meanwhile: his words are not alice's reason
    say(BOB, "this is not a reason from alice");
    say(ALICE, "/cancel");
    expect(await waitForLine(/cancelled/, before)).toBe(
      `Reject of ${card.incidentId} cancelled; nothing changed.`,
    );
    expect((await latestAction(stack.db.pool, card.incidentId))?.status).toBe("pending");
    expect(await trail(card)).toEqual(
      expect.arrayContaining(["@alice reject: reason_asked", "@alice reject: cancelled"]),
    );
  });

  it("rejects with the reason, teaches the playbooks, and shows who rejected on the card", async () => {
    const before = chatLines().length;
    await answer(press(card, ALICE, "reject"));
    await waitForLine(/why reject/, before);
    say(ALICE, "ok");
    expect(await waitForLine(/a few words/, before)).toBe("A reason of a few words, please (or /cancel).");
    say(ALICE, "the pod is fine, the database behind it is down");
    expect(await waitForLine(/^Rejected/, before)).toMatch(
      new RegExp(`^Rejected \\w+ on ${card.incidentId}\\.$`),
    );
    const action = await latestAction(stack.db.pool, card.incidentId);
    expect(action).toMatchObject({
      status: "rejected",
      decidedBy: "@alice",
      result: { reason: "the pod is fine, the database behind it is down" },
    });
    const { rows } = await stack.db.pool.query<{ outcome: string; reason: string; actor: string }>(
      `SELECT outcome, reason, actor FROM playbook_feedback WHERE incident_id = $1`,
      [card.incidentId],
    );
    expect(rows).toEqual([
      { outcome: "rejected", reason: "the pod is fine, the database behind it is down", actor: "@alice" },
    ]);
    expect((await getIncident(stack.db.pool, card.incidentId))?.acknowledgedBy).toBe("@alice");
    await expect
      .poll(() => cardText(card), { timeout: 5_000 })
      .toContain("rejected by @alice: “the pod is fine, the database behind it is down”");
    expect(await trail(card)).toContain(`@alice reject ${action?.action}: rejected`);
  });

  it("tells a later presser who rejected it already", async () => {
    const action = await latestAction(stack.db.pool, card.incidentId);
    expect(await answer(press(card, BOB, "reject"))).toBe(
      `Nothing to reject: ${action?.action} was already rejected by @alice.`,
    );
    expect(await answer(press(card, BOB, "approve"))).toBe(
      `Nothing is waiting for approval: ${action?.action} was already rejected by @alice.`,
    );
  });

  it("rejects once when two approvers answer at the same time", async () => {
    const race = await openIncident("decide-reject-race");
    const before = chatLines().length;
    await Promise.all([answer(press(race, ALICE, "reject")), answer(press(race, BOB, "reject"))]);
    await waitForChat(
      stack.telegram,
      (all) => all.slice(before).filter((m) => m.text.includes(`on ${race.incidentId}?`)).length === 2,
    );
    say(ALICE, "alice says no to this");
    say(BOB, "bob says no to this");
    await waitForChat(
      stack.telegram,
      (all) => all.slice(before).filter((m) => /^(Rejected|Nothing to reject)/.test(m.text)).length === 2,
    );
    const outcomes = chatLines()
      .slice(before)
      .filter((text) => /^(Rejected|Nothing to reject)/.test(text));
    expect(outcomes.filter((text) => text.startsWith("Rejected"))).toHaveLength(1);
    expect(outcomes.find((text) => text.startsWith("Nothing"))).toMatch(
      /already rejected by @(alice|bob)\.$/,
    );
    const { rows } = await stack.db.pool.query(`SELECT 1 FROM playbook_feedback WHERE incident_id = $1`, [
      race.incidentId,
    ]);
    expect(rows).toHaveLength(1);
  });

  it("drops a reason that comes after the time allowed", async () => {
    const late = await openIncident("decide-reject-late");
    const before = chatLines().length;
    await answer(press(late, BOB, "reject"));
    await waitForLine(/why reject/, before);
    await new Promise((resolve) => setTimeout(resolve, REPLY_TIMEOUT_MS + 300));
    say(BOB, "too slow a reason");
    expect(await waitForLine(/Too late/, before)).toBe(
      `Too late for the reason on ${late.incidentId}; nothing was rejected. Press Reject again.`,
    );
    expect((await latestAction(stack.db.pool, late.incidentId))?.status).toBe("pending");
    expect(await trail(late)).toContain("@bob reject: timed_out");
  });

  it("still answers a command sent after the reason timed out", async () => {
    const late = await openIncident("decide-reject-late-command");
    const before = chatLines().length;
    await answer(press(late, BOB, "reject"));
    await waitForLine(/why reject/, before);
    await new Promise((resolve) => setTimeout(resolve, REPLY_TIMEOUT_MS + 300));
    say(BOB, "/silence list");
    expect(await waitForLine(/Too late/, before)).toContain(late.incidentId);
    // the command is not eaten by the question that timed out
    expect(await waitForLine(/silences/i, before)).toMatch(/^(No active silences\.|🔕 Active silences:)/);
    expect((await latestAction(stack.db.pool, late.incidentId))?.status).toBe("pending");
  });

  it("records the reason against the incident when no action is proposed, once", async () => {
    const bare = await openIncident("decide-reject-bare");
    // the proposal is withdrawn: nothing is pending any more
    await stack.db.pool.query(`UPDATE pending_actions SET status = 'superseded' WHERE incident_id = $1`, [
      bare.incidentId,
    ]);
    const before = chatLines().length;
    await answer(press(bare, ALICE, "reject"));
    expect(await waitForLine(/why reject/, before)).toContain(`the analysis of ${bare.incidentId}`);
    say(ALICE, "this alert is noise during the migration");
    expect(await waitForLine(/^Recorded/, before)).toBe(
      `Recorded: ${bare.incidentId} rejected (no action was proposed).`,
    );
    expect(await answer(press(bare, BOB, "reject"))).toBe("Nothing to reject: already rejected by @alice.");
    await expect
      .poll(() => cardText(bare), { timeout: 5_000 })
      .toContain("analysis rejected by @alice: “this alert is noise during the migration”");
    expect(await trail(bare)).toContain("@alice reject analysis: rejected");
  });

  it("asks for the reason while the presser still has the card's drill-down open", async () => {
    const looked = await openIncident("decide-reject-after-details");
    const before = chatLines().length;
    await answer(press(looked, ALICE, "details"));
    await waitForLine(/🔎/, before);
    await answer(press(looked, ALICE, "reject"));
    await waitForLine(/why reject/, before);
    say(ALICE, "the details show the database is down, not the pod");
    expect(await waitForLine(/^Rejected/, before)).toMatch(
      new RegExp(`^Rejected \\w+ on ${looked.incidentId}\\.$`),
    );
    expect((await latestAction(stack.db.pool, looked.incidentId))?.status).toBe("rejected");
  });
});

describe("Snooze", () => {
  let card: Card;

  it("refuses a user who is not an approver, leaving the card's buttons alone", async () => {
    card = await openIncident("decide-snooze");
    const buttons = buttonsOf(card);
    expect(await answer(press(card, OUTSIDER, "snooze"))).toBe("You are not on the approver list.");
    expect(buttonsOf(card)).toEqual(buttons);
    expect(await trail(card)).toContain("@mallory snooze: not_allowed");
  });

  it("offers 15 min, 1 h and 4 h, and Cancel puts the card's buttons back", async () => {
    const buttons = buttonsOf(card);
    expect(await answer(press(card, ALICE, "snooze"))).toBe("Snooze for how long?");
    expect(buttonsOf(card)).toEqual(
      ["15m", "1h", "4h", "no"].map((choice) => `v1:snooze:${card.incidentId}:${choice}`),
    );
    const labels = stack.telegram
      .message(CHAT_ID, card.messageId)
      ?.reply_markup?.inline_keyboard.flat()
      .map((button) => button.text);
    expect(labels).toEqual(["⏰ 15 min", "⏰ 1 h", "⏰ 4 h", "↩️ Cancel"]);
    expect(await answer(press(card, ALICE, "snooze", "no"))).toBe("Cancelled; nothing changed.");
    expect(buttonsOf(card)).toEqual(buttons);
    expect((await getIncident(stack.db.pool, card.incidentId))?.snoozedUntil).toBeNull();
    expect(await trail(card)).toEqual(
      expect.arrayContaining(["@alice snooze: choices_shown", "@alice snooze: cancelled"]),
    );
  });

  it("refuses a Cancel by someone who is not an approver, leaving the approver's choices open", async () => {
    expect(await answer(press(card, ALICE, "snooze"))).toBe("Snooze for how long?");
    const choices = buttonsOf(card);
    expect(await answer(press(card, OUTSIDER, "snooze", "no"))).toBe("You are not on the approver list.");
    expect(buttonsOf(card)).toEqual(choices);
    expect(await trail(card)).not.toContain("@mallory snooze: cancelled");
    expect(await answer(press(card, ALICE, "snooze", "no"))).toBe("Cancelled; nothing changed.");
  });

  it("snoozes once when two approvers choose at the same moment, then reminds in the chat when it ends", async () => {
    await openSnoozeChoices(card, ALICE);
    const refused = press(card, OUTSIDER, "snooze", "15m");
    expect(await answer(refused)).toBe("You are not on the approver list.");
    const before = chatLines().length;
    const [first, second] = [press(card, ALICE, "snooze", "15m"), press(card, BOB, "snooze", "15m")];
    const answers = [await answer(first), await answer(second)];
    expect(answers.filter((text) => text.startsWith("Snoozed until"))).toHaveLength(1);
    const winner = answers[0]?.startsWith("Snoozed") === true ? "@alice" : "@bob";
    expect(answers.find((text) => !text.startsWith("Snoozed"))).toMatch(
      new RegExp(`^Already snoozed by ${winner} until (?:[A-Z][a-z]{2} \\d{1,2} )?\\d\\d:\\d\\d UTC\\.$`),
    );
    const incident = await getIncident(stack.db.pool, card.incidentId);
    expect(incident?.snoozedBy).toBe(winner);
    expect(incident?.acknowledgedBy).toBe(winner);
    await expect
      .poll(() => cardText(card), { timeout: 5_000 })
      .toMatch(new RegExp(`snoozed by ${winner} until (?:[A-Z][a-z]{2} \\d{1,2} )?\\d\\d:\\d\\d UTC`));
    // the card's own buttons are back after the decision
    expect(buttonsOf(card).some((data) => data.startsWith(`v1:approve:${card.incidentId}`))).toBe(true);
    const reminder = stack.telegram
      .messages(CHAT_ID)
      .slice(before)
      .find((message) => message.text.startsWith("⏰ Snooze over"));
    expect(reminder).toBeUndefined();
    const reminded = await waitForChat(
      stack.telegram,
      (all) =>
        all.slice(before).some((m) => m.text.startsWith(`⏰ Snooze over: ${card.incidentId} is still open`)),
      10_000,
    );
    const message = reminded.slice(before).find((m) => m.text.startsWith("⏰ Snooze over"));
    expect(message?.message.reply_to_message?.message_id).toBe(card.messageId);
    expect(message?.text).toContain(`snoozed by ${winner}`);
    await expect.poll(() => cardText(card), { timeout: 5_000 }).toContain("snooze over, still open");
    const after = await getIncident(stack.db.pool, card.incidentId);
    expect(after?.snoozedUntil).toBeNull();
    const rows = await trail(card);
    expect(rows.filter((row) => row.endsWith(": snoozed"))).toHaveLength(1);
    expect(rows.filter((row) => row.endsWith(": already_snoozed"))).toHaveLength(1);
  });

  it("replaces a shorter snooze with a longer one, and only the longer one reminds", async () => {
    const before = chatLines().length;
    await openSnoozeChoices(card, ALICE);
    expect(await answer(press(card, ALICE, "snooze", "15m"))).toMatch(/^Snoozed until/);
    // the card edit after the first choice brings the Snooze button back
    await expect.poll(() => buttonsOf(card), { timeout: 5_000 }).toContain(`v1:snooze:${card.incidentId}`);
    await openSnoozeChoices(card, BOB);
    expect(await answer(press(card, BOB, "snooze", "4h"))).toMatch(/^Snoozed until/);
    const reminders = async () => {
      await waitForChat(
        stack.telegram,
        (all) => all.slice(before).some((m) => m.text.includes("snoozed by @bob")),
        10_000,
      );
      return chatLines()
        .slice(before)
        .filter((text) => text.startsWith("⏰ Snooze over"));
    };
    expect(await reminders()).toEqual([
      `⏰ Snooze over: ${card.incidentId} is still open (${(await getIncident(stack.db.pool, card.incidentId))?.title}; snoozed by @bob).`,
    ]);
  });

  it("keeps the choices open while the card is edited for another reason, and drops them with the button", async () => {
    const kept = await openIncident("decide-snooze-kept");
    await openSnoozeChoices(kept, ALICE);
    const choices = buttonsOf(kept);
    // someone who may not decide presses a choice: refused, and the choices stay open
    expect(await answer(press(kept, OUTSIDER, "snooze", "15m"))).toBe("You are not on the approver list.");
    // someone takes the incident meanwhile: the card is edited, the choices stay
    say(BOB, `/ack ${kept.incidentId}`);
    await expect.poll(() => cardText(kept), { timeout: 5_000 }).toMatch(/@bob/);
    expect(buttonsOf(kept)).toEqual(choices);
    expect(await answer(press(kept, ALICE, "snooze", "15m"))).toMatch(/^Snoozed until/);
    await expect.poll(() => cardText(kept), { timeout: 5_000 }).toMatch(/snoozed by @alice/);
    // the decision's own edit shows the card's buttons again
    expect(buttonsOf(kept)).toContain(`v1:snooze:${kept.incidentId}`);

    // Silence's choices likewise, until Cancel
    expect(await answer(press(kept, ALICE, "silence"))).toMatch(
      /^(?:Silence for how long\?|Working on it…)$/,
    );
    await expect
      .poll(() => buttonsOf(kept), { timeout: 10_000 })
      .toContain(`v1:silence:${kept.incidentId}:no`);
    const silenceChoices = buttonsOf(kept);
    const before = cardText(kept);
    say(ALICE, `/ack ${kept.incidentId}`);
    await expect.poll(() => cardText(kept), { timeout: 5_000 }).not.toBe(before);
    expect(buttonsOf(kept)).toEqual(silenceChoices);
    // (or the bot's own answer at its deadline on a loaded machine, the buttons after it)
    expect(await answer(press(kept, ALICE, "silence", "no"))).toMatch(
      /^(?:Cancelled; nothing changed\.|Working on it…)$/,
    );
    await expect.poll(() => buttonsOf(kept), { timeout: 10_000 }).toContain(`v1:silence:${kept.incidentId}`);

    // choices open on an incident that resolves: a resolved card offers no Snooze, nor its choices
    await openSnoozeChoices(kept, ALICE);
    await sendAlert("decide-snooze-kept", "resolved");
    await expect.poll(() => cardText(kept), { timeout: 5_000 }).toMatch(/resolved/i);
    expect(buttonsOf(kept).filter((data) => data.startsWith(`v1:snooze:${kept.incidentId}`))).toEqual([]);
  });

  it("gives way to a new proposal: its Approve is seen, not hidden behind the choices", async () => {
    const card = await openIncident("decide-snooze-newer");
    await openSnoozeChoices(card, ALICE);
    const newer = await proposeScaleUp(card, "decide-snooze-newer");
    await redraw(card);
    await expect
      .poll(() => buttonsOf(card), { timeout: 5_000 })
      .toContain(`v1:approve:${card.incidentId}:#${(newer?.id ?? 0).toString(36)}`);
    expect(buttonsOf(card).filter((data) => data.endsWith(":15m"))).toEqual([]);
  });

  it("does not remind about an incident resolved during the snooze", async () => {
    const quiet = await openIncident("decide-snooze-resolved");
    await answer(press(quiet, ALICE, "snooze"));
    expect(await answer(press(quiet, ALICE, "snooze", "15m"))).toMatch(/^Snoozed until/);
    await sendAlert("decide-snooze-resolved", "resolved");
    await expect
      .poll(async () => (await getIncident(stack.db.pool, quiet.incidentId))?.status, { timeout: 5_000 })
      .toBe("resolved");
    const job = stack.runtime.queues.remind;
    await expect
      .poll(async () => (await job.getJobCounts("delayed", "waiting", "active")).delayed, { timeout: 10_000 })
      .toBe(0);
    await expect
      .poll(async () => (await job.getJobCounts("completed")).completed, { timeout: 5_000 })
      .toBeGreaterThan(0);
    expect(chatLines().some((text) => text.startsWith(`⏰ Snooze over: ${quiet.incidentId}`))).toBe(false);
  });
});

describe("a press on a stale card", () => {
  it("changes nothing on a resolved incident and says so, for every button", async () => {
    const stale = await openIncident("decide-stale");
    await sendAlert("decide-stale", "resolved");
    await expect.poll(() => buttonsOf(stale), { timeout: 5_000 }).toEqual([`v1:details:${stale.incidentId}`]);
    const resolved = `${stale.incidentId} is already resolved.`;
    for (const [verb, arg] of [
      ["approve"],
      ["reject"],
      ["snooze"],
      ["snooze", "1h"],
      ["silence"],
      ["silence", "2h"],
    ] as const) {
      expect(await answer(press(stale, ALICE, verb, arg, true))).toBe(resolved);
    }
    expect((await latestAction(stack.db.pool, stale.incidentId))?.status).toBe("pending");
    expect((await getIncident(stack.db.pool, stale.incidentId))?.snoozedUntil).toBeNull();
    const { rows } = await stack.db.pool.query(`SELECT 1 FROM silences WHERE incident_id = $1`, [
      stale.incidentId,
    ]);
    expect(rows).toEqual([]);
    expect((await trail(stale)).filter((row) => row.endsWith(": resolved"))).toHaveLength(6);
  });
});

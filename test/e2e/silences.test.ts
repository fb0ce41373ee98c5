// Silences from the chat, end to end: the card's Silence button and /silence create real silences
// in a real Alertmanager (checked through its own API), the bot stops posting cards they match,
// /silence list and expire work, and without ALERTMANAGER_URL silences are the bot's own only.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../db/actions.js";
import { telegramMessages } from "../../db/incidents.js";
import { alertmanagerSilences } from "../../gateways/alertmanager-silences.js";
import { createSilence } from "../../handlers/create-silence.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { startAlertmanager, type AlertmanagerProcess } from "../../dev/alertmanager.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

const ALICE = { fromUserId: 1001, username: "alice" };
const BOB = { fromUserId: 1002, username: "bob" };
const OUTSIDER = { fromUserId: 3003, username: "mallory" };
type User = typeof ALICE;

interface AmSilence {
  id: string;
  status: { state: string };
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  createdBy: string;
  comment: string;
  endsAt: string;
}

async function amSilences(am: AlertmanagerProcess): Promise<AmSilence[]> {
  const response = await fetch(`${am.url}/api/v2/silences`);
  expect(response.status).toBe(200);
  return (await response.json()) as AmSilence[];
}
const active = async (am: AlertmanagerProcess) =>
  (await amSilences(am)).filter((silence) => silence.status.state === "active");

/** Helpers bound to one stack. */
function chat(get: () => Stack) {
  const lines = () => get().telegram.messages(CHAT_ID);
  return {
    lines,
    count: () => lines().length,
    say: (user: User, text: string) => get().telegram.sendUserMessage({ chatId: CHAT_ID, ...user, text }),
    async waitForLine(pattern: RegExp, after: number): Promise<string> {
      const all = await waitForChat(get().telegram, (m) => m.slice(after).some((x) => pattern.test(x.text)));
      return all.slice(after).find((m) => pattern.test(m.text))?.text ?? "";
    },
    async answer(queryId: string): Promise<string> {
      await expect.poll(() => get().telegram.answerOf(queryId), { timeout: 5_000 }).toBeDefined();
      const text = get().telegram.answerOf(queryId)?.text;
      return typeof text === "string" ? text : "";
    },
  };
}

interface Card {
  incidentId: string;
  messageId: number;
}

/** Fires an alert for `deployment` and waits for its analysed card. */
async function openCard(stack: Stack, fingerprint: string, deployment: string): Promise<Card> {
  const response = await postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint, labels: { deployment, pod: `${deployment}-7d4b8c9f5-abc12` } }),
    alertmanagerAuth,
  );
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
        const [shown] = incidentId === undefined ? [] : await telegramMessages(stack.db.pool, incidentId);
        const text =
          shown === undefined ? "" : (stack.telegram.message(CHAT_ID, shown.messageId)?.text ?? "");
        if (incidentId !== undefined && shown !== undefined && text.includes("needs approval")) {
          card = { incidentId, messageId: shown.messageId };
        }
        return card !== undefined;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true);
  if (card === undefined) throw new Error("no card");
  return card;
}

const press = (stack: Stack, card: Card, user: User, data: string) =>
  stack.telegram.pressButton({ chatId: CHAT_ID, messageId: card.messageId, ...user, data });

const buttonsOf = (stack: Stack, card: Card) =>
  (stack.telegram.message(CHAT_ID, card.messageId)?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .map((button) => ("callback_data" in button ? button.callback_data : ""));

/**
 * Waits until the card offers the Silence choices, as a person sees them before pressing one. The
 * press that opens them is answered after they are set, unless the handler outlived the bot's
 * answer deadline (a loaded machine): then "Working on it…" comes first and the choices follow.
 */
const choicesShown = (stack: Stack, card: Card) =>
  expect
    .poll(() => buttonsOf(stack, card), { timeout: 10_000 })
    .toEqual(["30m", "2h", "24h", "no"].map((choice) => `v1:silence:${card.incidentId}:${choice}`));

describe("with Alertmanager", () => {
  let am: AlertmanagerProcess;
  let stack: Stack;
  const c = chat(() => stack);

  beforeAll(async () => {
    am = await startAlertmanager();
    stack = await startStack({
      env: { ALERTMANAGER_URL: am.url },
      // Telegram's flood limits lifted: this file is about silences, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await am?.stop();
  });

  let card: Card;
  let silenceId = 0;

  it("refuses a Silence press by someone who is not an approver, without offering choices", async () => {
    card = await openCard(stack, "silence-card", "checkout");
    const buttons = buttonsOf(stack, card);
    const query = press(stack, card, OUTSIDER, `v1:silence:${card.incidentId}`);
    expect(await c.answer(query)).toBe("You are not on the approver list.");
    expect(buttonsOf(stack, card)).toEqual(buttons);
    expect(await amSilences(am)).toEqual([]);
  });

  it("offers 30 min, 2 h and 24 h, and creates one Alertmanager silence when two approvers choose at once", async () => {
    expect(await c.answer(press(stack, card, ALICE, `v1:silence:${card.incidentId}`))).toBe(
      "Silence for how long?",
    );
    expect(buttonsOf(stack, card)).toEqual(
      ["30m", "2h", "24h", "no"].map((choice) => `v1:silence:${card.incidentId}:${choice}`),
    );
    const before = c.count();
    const first = press(stack, card, ALICE, `v1:silence:${card.incidentId}:2h`);
    const second = press(stack, card, BOB, `v1:silence:${card.incidentId}:30m`);
    // Both presses are answered before Alertmanager is asked (it may take longer than Telegram
    // keeps a press open); the outcome follows in the chat.
    expect(await c.answer(first)).toBe("🔕 Silencing for 2 h…");
    expect(await c.answer(second)).toBe("🔕 Silencing for 30 min…");
    const won = await c.waitForLine(/^🔕 INC-.* silenced by @/, before);
    expect(won).toMatch(/ in Alertmanager\. Matching: alertname=AWOOOIAPIDown, namespace=awoooi-prod/);
    const winner = won.includes("silenced by @alice") ? "@alice" : "@bob";
    const loser = winner === "@alice" ? "@bob" : "@alice";
    expect(await c.waitForLine(new RegExp(`^${loser}: Already silenced`), before)).toMatch(
      new RegExp(
        `^${loser}: Already silenced by ${winner} until (?:[A-Z][a-z]{2} \\d{1,2} )?\\d\\d:\\d\\d UTC\\.$`,
      ),
    );

    const [silence, ...others] = await active(am);
    expect(others).toEqual([]);
    expect(silence?.createdBy).toBe(winner);
    expect(silence?.comment).toContain(card.incidentId);
    // the incident's identity: alertname and the workload, not severity or the ever-changing pod
    expect(silence?.matchers.map((m) => `${m.name}=${m.value}`).sort()).toEqual([
      "alertname=AWOOOIAPIDown",
      "deployment=checkout",
      "job=awoooi-api",
      "namespace=awoooi-prod",
      "service=awoooi-api",
    ]);
    const { rows } = await stack.db.pool.query<{ id: number; alertmanager_id: string; created_by: string }>(
      `SELECT id::int, alertmanager_id, created_by FROM silences WHERE incident_id = $1`,
      [card.incidentId],
    );
    expect(rows.map((row) => [row.alertmanager_id, row.created_by])).toEqual([[silence?.id, winner]]);
    silenceId = rows[0]?.id ?? 0;
    expect(silenceId).toBeGreaterThan(0);
    expect(await c.waitForLine(/^🔕 INC-/, before)).toContain(`${card.incidentId} silenced by ${winner}`);
    await expect
      .poll(() => stack.telegram.message(CHAT_ID, card.messageId)?.text ?? "", { timeout: 5_000 })
      .toMatch(new RegExp(`silenced by ${winner} until (?:[A-Z][a-z]{2} \\d{1,2} )?\\d\\d:\\d\\d UTC`));
    const trail = (await auditTrail(stack.db.pool, card.incidentId)).map(
      (row) => `${row.actor}: ${row.outcome}`,
    );
    expect(trail).toEqual(expect.arrayContaining([`${winner}: silenced`, "@mallory: not_allowed"]));
    expect(trail.filter((row) => row.endsWith(": already_silenced"))).toHaveLength(1);
  });

  it("posts no card for a new incident the silence matches, and still posts one it does not", async () => {
    const cardsBefore = c.count();
    // same alert and workload, another pod and fingerprint: a new incident, muted
    await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      alertmanagerPayload({
        fingerprint: "silence-muted",
        labels: { deployment: "checkout", pod: "checkout-x-1" },
      }),
      alertmanagerAuth,
    );
    const other = await openCard(stack, "silence-other", "billing");
    const { rows } = await stack.db.pool.query<{ id: string }>(
      `SELECT id FROM incidents WHERE fingerprint = 'silence-muted'`,
    );
    const muted = rows[0]?.id ?? "";
    expect(muted).not.toBe("");
    // the muted incident was analysed (so its card would have been edited by now) but never shown
    await expect
      .poll(
        async () =>
          (await stack.db.pool.query(`SELECT 1 FROM analyses WHERE incident_id = $1`, [muted])).rowCount,
        {
          timeout: 10_000,
        },
      )
      .toBe(1);
    const notify = stack.runtime.queues.notify;
    await expect
      .poll(async () => {
        const counts = await notify.getJobCounts("waiting", "active", "delayed");
        return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
      })
      .toBe(0);
    expect(await telegramMessages(stack.db.pool, muted)).toEqual([]);
    expect(c.lines().some((m) => m.text.includes(muted))).toBe(false);
    expect(c.count()).toBe(cardsBefore + 1);
    expect(other.incidentId).not.toBe(muted);
  });

  it("/silence with matchers, duration and reason creates the silence for approvers only", async () => {
    const before = c.count();
    c.say(OUTSIDER, "/silence service=awoooi-web 2h nope");
    expect(await c.waitForLine(/approver/, before)).toBe("You are not on the approver list.");
    c.say(ALICE, "/silence service=awoooi-web env=~prod.* 2h deploy in progress");
    const reply = await c.waitForLine(/^🔕 Silence #/, before);
    expect(reply).toContain("in Alertmanager");
    expect(reply).toContain("Matching: service=awoooi-web, env=~prod.*");
    const created = (await active(am)).find((s) => s.comment === "deploy in progress");
    expect(created?.createdBy).toBe("@alice");
    expect(created?.matchers).toEqual([
      { name: "service", value: "awoooi-web", isRegex: false, isEqual: true },
      { name: "env", value: "prod.*", isRegex: true, isEqual: true },
    ]);
    const hours = (Date.parse(created?.endsAt ?? "") - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);
  });

  it("/silence refuses matchers that would mute everything, too long a duration, and words it cannot read", async () => {
    const count = (await amSilences(am)).length;
    for (const [command, answer] of [
      ["/silence service=~.* 2h", /^Cannot silence: at least one matcher must not match an empty label/],
      ["/silence service=x 9d", /^Cannot silence: a silence may last at most 7d\.$/],
      ["/silence service=x soon", /^"soon" is neither a label matcher/],
    ] as const) {
      const before = c.count();
      c.say(ALICE, command);
      expect(await c.waitForLine(/Cannot|neither/, before)).toMatch(answer);
    }
    expect((await amSilences(am)).length).toBe(count);
  });

  it("/silence list shows the active silences to anyone", async () => {
    const before = c.count();
    c.say(OUTSIDER, "/silence list");
    const list = await c.waitForLine(/^🔕 Active silences/, before);
    expect(list).toMatch(
      new RegExp(
        `#${silenceId} alertname=AWOOOIAPIDown, .* · until (?:[A-Z][a-z]{2} \\d{1,2} )?\\d\\d:\\d\\d UTC · by @(alice|bob) · AM `,
      ),
    );
    expect(list).toContain("service=awoooi-web, env=~prod.* · until");
    expect(list).toContain(card.incidentId);
  });

  it("/silence expire ends a silence in Alertmanager for approvers only, and once", async () => {
    let before = c.count();
    c.say(OUTSIDER, `/silence expire ${silenceId}`);
    expect(await c.waitForLine(/approver/, before)).toBe("You are not on the approver list.");
    expect((await active(am)).length).toBe(2);
    before = c.count();
    c.say(BOB, `/silence expire ${silenceId}`);
    expect(await c.waitForLine(/expired by/, before)).toMatch(
      new RegExp(`^Silence #${silenceId} \\(.*\\) expired by @bob\\.$`),
    );
    expect((await active(am)).map((s) => s.comment)).toEqual(["deploy in progress"]);
    const { rows } = await stack.db.pool.query(`SELECT expired_by FROM silences WHERE id = $1`, [silenceId]);
    expect(rows).toEqual([{ expired_by: "@bob" }]);
    before = c.count();
    c.say(ALICE, `/silence expire ${silenceId}`);
    expect(await c.waitForLine(/already over/, before)).toMatch(
      new RegExp(`^Silence #${silenceId} is already over: @bob expired it at \\d\\d:\\d\\d UTC\\.$`),
    );
    before = c.count();
    c.say(ALICE, "/silence expire 999999");
    expect(await c.waitForLine(/No silence/, before)).toBe(
      "No silence 999999. /silence list shows the active ones.",
    );
  });

  it("/silence expire asks Alertmanager again for a silence expired here while it was away", async () => {
    let before = c.count();
    c.say(ALICE, "/silence job=batch-import 1h import rerun");
    const reply = await c.waitForLine(/^🔕 Silence #/, before);
    const id = Number(/#(\d+)/.exec(reply)?.[1]);
    expect((await active(am)).map((silence) => silence.comment)).toContain("import rerun");
    // an earlier expiry reached PostgreSQL, but Alertmanager was away then
    await stack.db.pool.query(`UPDATE silences SET expired_at = now(), expired_by = '@bob' WHERE id = $1`, [
      id,
    ]);
    before = c.count();
    c.say(ALICE, `/silence expire ${id}`);
    expect(await c.waitForLine(/already expired here/, before)).toBe(
      `Silence #${id} was already expired here by @bob; Alertmanager, which still applied it, has it expired now too.`,
    );
    expect((await active(am)).map((silence) => silence.comment)).not.toContain("import rerun");
  });

  it("recognises a silence Alertmanager created although its answer was lost", async () => {
    // between the bot and Alertmanager: the create reaches Alertmanager, its answer never comes back
    const proxy = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          const upstream = await fetch(`${am.url}${request.url ?? "/"}`, {
            method: request.method ?? "GET",
            headers: { "content-type": "application/json" },
            ...(body.length === 0 ? {} : { body }),
          });
          const text = await upstream.text();
          if (request.method === "POST" && request.url === "/api/v2/silences") {
            request.socket.destroy();
            return;
          }
          response.writeHead(upstream.status, { "content-type": "application/json" });
          response.end(text);
        })();
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const result = await createSilence(
        {
          db: stack.db.pool,
          approverIds: [1001],
          alertmanager: alertmanagerSilences(`http://127.0.0.1:${port}`),
        },
        {
          matchers: [{ name: "job", value: "lost-answer", isRegex: false, isEqual: true }],
          durationMs: 30 * 60_000,
          comment: "answer lost",
          actor: "@alice",
        },
      );
      expect(result.outcome).toBe("silenced");
      const held = (await active(am)).find((silence) => silence.comment === "answer lost");
      expect(held).toBeDefined();
      // the bot knows it by Alertmanager's id, so /silence expire can end it there
      const { rows } = await stack.db.pool.query<{ alertmanager_id: string; expired_at: Date | null }>(
        `SELECT alertmanager_id, expired_at FROM silences WHERE comment = 'answer lost'`,
      );
      expect(rows).toEqual([{ alertmanager_id: held?.id, expired_at: null }]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("says why Alertmanager refused a silence in BOT_LANGUAGE, quoting Alertmanager's answer, and audits the English", async () => {
    // an Alertmanager that refuses every silence, the way it refuses one it cannot read
    const refusing = createServer((_request, response) => {
      response.writeHead(400, { "content-type": "application/json" });
      response.end('"bad matcher format"');
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = refusing.address() as AddressInfo;
      const ask = (language: "en" | "zh-TW", value: string) =>
        createSilence(
          {
            db: stack.db.pool,
            approverIds: [1001],
            alertmanager: alertmanagerSilences(`http://127.0.0.1:${port}`),
            language,
          },
          {
            matchers: [{ name: "job", value, isRegex: false, isEqual: true }],
            durationMs: 30 * 60_000,
            comment: "refused",
            actor: "@alice",
          },
        );
      const english = 'Alertmanager refused the silence (400): "bad matcher format"';
      expect(await ask("en", "refused-en")).toEqual({
        outcome: "alertmanager_failed",
        text: `Not silenced. ${english}`,
      });
      expect(await ask("zh-TW", "refused-zh")).toEqual({
        outcome: "alertmanager_failed",
        text: '未靜默。Alertmanager 拒絕了靜默（400）："bad matcher format"',
      });
      const { rows } = await stack.db.pool.query<{ detail: unknown }>(
        `SELECT detail FROM audit_log WHERE outcome = 'alertmanager_failed' AND what LIKE '%refused-%' ORDER BY id`,
      );
      expect(rows.map((row) => row.detail)).toEqual([{ error: english }, { error: english }]);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it("/silence without arguments asks for matchers, then duration, then reason, re-asking on nonsense", async () => {
    const count = (await amSilences(am)).length;
    const before = c.count();
    c.say(ALICE, "/silence");
    expect(await c.waitForLine(/which alerts\?/, before)).toMatch(
      /^@alice, which alerts\? Send label matchers/,
    );
    c.say(ALICE, "nonsense");
    expect(await c.waitForLine(/That did not work/, before)).toMatch(/each word must be a matcher/);
    // someone else talking meanwhile is not alice's answer
    c.say(BOB, "service=not-bobs-answer");
    c.say(ALICE, "service=awoooi-worker");
    expect(await c.waitForLine(/for how long\?/, before)).toContain(
      "Silence service=awoooi-worker for how long?",
    );
    c.say(ALICE, "9d");
    expect(await c.waitForLine(/^A duration like/, before)).toBe(
      "A duration like 30m, 2h or 1d, at most 7d, please.",
    );
    c.say(ALICE, "90m");
    expect(await c.waitForLine(/^Why\?/, before)).toBe('Why? A short reason for the team, or "-" for none.');
    c.say(ALICE, "-");
    expect(await c.waitForLine(/^🔕 Silence #/, before)).toContain("Matching: service=awoooi-worker");
    const silences = await amSilences(am);
    expect(silences.length).toBe(count + 1);
    const created = silences.find((s) => s.matchers.some((m) => m.value === "awoooi-worker"));
    expect(created?.comment).toBe("silenced from the chat by @alice");
    expect(silences.some((s) => s.matchers.some((m) => m.value === "not-bobs-answer"))).toBe(false);
  });

  it("/silence with only a duration asks for the matchers, and /cancel creates nothing", async () => {
    const count = (await amSilences(am)).length;
    const before = c.count();
    c.say(BOB, "/silence 2h");
    await c.waitForLine(/which alerts\?/, before);
    c.say(BOB, "service=awoooi-cron");
    // the duration was given: straight to the reason
    expect(await c.waitForLine(/^Why\?/, before)).toContain("reason");
    c.say(BOB, "/cancel");
    expect(await c.waitForLine(/^Cancelled/, before)).toBe("Cancelled: no silence was created.");
    expect((await amSilences(am)).length).toBe(count);
    const { rows } = await stack.db.pool.query(
      `SELECT 1 FROM silences WHERE matchers::text LIKE '%awoooi-cron%'`,
    );
    expect(rows).toEqual([]);
  });
});

const LOCAL_REPLY_TIMEOUT_MS = 1_500;

describe("without ALERTMANAGER_URL", () => {
  let stack: Stack;
  const c = chat(() => stack);

  beforeAll(async () => {
    stack = await startStack({
      env: { ALERTMANAGER_URL: undefined },
      // Telegram's flood limits lifted: this file is about silences, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
      runtime: { chatops: { replyTimeoutMs: LOCAL_REPLY_TIMEOUT_MS } },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("silences from the card locally and says Alertmanager still notifies", async () => {
    const card = await openCard(stack, "local-card", "checkout");
    expect(await c.answer(press(stack, card, ALICE, `v1:silence:${card.incidentId}`))).toMatch(
      /^(?:Silence for how long\?|Working on it…)$/,
    );
    await choicesShown(stack, card);
    const before = c.count();
    // answered first; the outcome follows in the chat
    expect(await c.answer(press(stack, card, ALICE, `v1:silence:${card.incidentId}:30m`))).toBe(
      "🔕 Silencing for 30 min…",
    );
    expect(await c.waitForLine(/^🔕 INC-.* silenced by @alice/, before)).toMatch(
      / Silence #\d+ until (?:[A-Z][a-z]{2} \d{1,2} )?\d\d:\d\d UTC \(local only: no ALERTMANAGER_URL is set, so Alertmanager still notifies\)\.$/,
    );
    const { rows } = await stack.db.pool.query(
      `SELECT alertmanager_id FROM silences WHERE incident_id = $1`,
      [card.incidentId],
    );
    expect(rows).toEqual([{ alertmanager_id: null }]);
    await expect
      .poll(() => stack.telegram.message(CHAT_ID, card.messageId)?.text ?? "", { timeout: 5_000 })
      .toMatch(/silenced by @alice until (?:[A-Z][a-z]{2} \d{1,2} )?\d\d:\d\d UTC \(bot only\)/);
  });

  it("creates and expires /silence silences locally", async () => {
    let before = c.count();
    c.say(ALICE, "/silence service=awoooi-web 1h maintenance");
    const reply = await c.waitForLine(/^🔕 Silence #/, before);
    expect(reply).toContain("local only");
    const id = /#(\d+)/.exec(reply)?.[1] ?? "";
    before = c.count();
    c.say(ALICE, `/silence expire ${id}`);
    expect(await c.waitForLine(/expired by/, before)).toBe(
      `Silence #${id} (service=awoooi-web) expired by @alice.`,
    );
  });

  it("/silence asks its questions while the asker has a drill-down open", async () => {
    const card = await openCard(stack, "local-details", "billing");
    const before = c.count();
    await c.answer(press(stack, card, BOB, `v1:details:${card.incidentId}`));
    await c.waitForLine(/🔎/, before);
    c.say(BOB, "/silence 1h");
    expect(await c.waitForLine(/which alerts\?/, before)).toMatch(/^@bob, which alerts\?/);
    c.say(BOB, "/cancel");
    expect(await c.waitForLine(/^Cancelled/, before)).toBe("Cancelled: no silence was created.");
  });

  it("answers a /silence sent after the guided one timed out", async () => {
    const before = c.count();
    c.say(ALICE, "/silence");
    await c.waitForLine(/which alerts\?/, before);
    await new Promise((resolve) => setTimeout(resolve, LOCAL_REPLY_TIMEOUT_MS + 300));
    c.say(ALICE, "/silence service=awoooi-late 1h");
    expect(await c.waitForLine(/^Too late/, before)).toBe(
      "Too late: the silence was not created. Send /silence again.",
    );
    expect(await c.waitForLine(/^🔕 Silence #/, before)).toContain("Matching: service=awoooi-late");
  });

  it("/silence list stays inside Telegram's 4096 characters however many silences there are", async () => {
    for (let index = 0; index < 35; index++) {
      const matchers = [
        `alertname=KubeDeploymentReplicasMismatch${index}`,
        "namespace=awoooi-production-eu-west",
        `deployment=awoooi-payments-reconciliation-worker-${index}`,
        "container=reconciler",
      ].join(" ");
      const before = c.count();
      c.say(ALICE, `/silence ${matchers} 2h storm`);
      await c.waitForLine(/^🔕 Silence #/, before);
    }
    const before = c.count();
    c.say(ALICE, "/silence list");
    const list = await c.waitForLine(/^🔕 Active silences/, before);
    expect(list.length).toBeLessThanOrEqual(4096);
    expect(list).toContain("reconciliation-worker");
  });
});

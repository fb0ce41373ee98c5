// Health tells the truth about Telegram, as an operator would find it: the whole bot on the
// emulator, and the three silent failures of the first hour. A second copy polling with the same
// token (409), a token Telegram refuses (401), and Telegram answering 5xx each make
// /api/v1/health "degraded" (HTTP 200) with a warning naming the problem within a minute; polling
// comes back by itself once the other poller is gone, and health is "ok" again. The bot's
// reporting interval, pauses after a 409 and settling time are shortened (1 s, 0.5-2 s, 2 s
// instead of 10 s, 2-30 s, 5 s) so the test waits seconds where production waits tens of seconds.
import { Api } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";

interface Health {
  status: string;
  warnings: string[];
  telegram: { problems: { kind: string; warning: string }[] };
}

async function health(stack: Stack): Promise<{ code: number; body: Health }> {
  const response = await fetch(`${stack.url}/api/v1/health`);
  return { code: response.status, body: (await response.json()) as Health };
}

const kinds = async (stack: Stack) => (await health(stack)).body.telegram.problems.map((p) => p.kind);

const runtime = {
  telegramHealthEveryMs: 1_000,
  polling: { retryMs: { first: 500, max: 2_000 }, settleMs: 2_000 },
};

describe("Telegram in /api/v1/health", () => {
  let stack: Stack;
  beforeAll(async () => {
    // flood limits lifted: this file is about failures, not pacing
    stack = await startStack({ runtime, telegram: { groupPerMinute: 1_000 } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("is ok while the bot polls", async () => {
    await expect.poll(() => stack.telegram.pollPending, { timeout: 15_000 }).toBe(true);
    const { code, body } = await health(stack);
    expect([code, body.status, body.telegram.problems]).toEqual([200, "ok", []]);
  });

  it("says degraded, naming the 409, while a second copy polls with the same token, and ok once it is gone", async () => {
    let otherPolls = true;
    const other = new Api(TEST_SECRETS.telegramToken, { apiRoot: stack.telegram.apiRoot });
    const otherLoop = (async () => {
      while (otherPolls) await other.getUpdates({ timeout: 1 }).catch(() => undefined);
    })();
    try {
      await expect.poll(() => kinds(stack), { timeout: 60_000, interval: 250 }).toEqual(["polling_conflict"]);
      const { code, body } = await health(stack);
      expect([code, body.status]).toEqual([200, "degraded"]);
      expect(body.warnings.join("\n")).toContain(
        "409 Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
      );
    } finally {
      otherPolls = false;
      await otherLoop;
    }
    await expect.poll(() => kinds(stack), { timeout: 60_000, interval: 250 }).toEqual([]);
    expect((await health(stack)).body.status).toBe("ok");
    // polling really resumed: a message reaches the bot again (the /whoami answer)
    stack.telegram.sendUserMessage({ chatId: 7001, fromUserId: 7001, text: "/whoami" });
    await waitForChat(stack.telegram, (messages) => messages.some((m) => m.from_bot), 15_000, 7001);
  }, 150_000);

  it("says degraded while Telegram answers 5xx, and ok once it answers again", async () => {
    stack.telegram.outage({ error_code: 502, description: "Bad Gateway" });
    try {
      const posted = await postJson(
        `${stack.url}/api/v1/webhooks/alertmanager`,
        alertmanagerPayload({ fingerprint: "telegram-5xx", labels: { alertname: "TelegramAnswers5xx" } }),
        alertmanagerAuth,
      );
      expect(posted.status).toBe(202);
      await expect.poll(() => kinds(stack), { timeout: 60_000, interval: 250 }).toEqual(["calls_failing"]);
      const { code, body } = await health(stack);
      expect([code, body.status]).toEqual([200, "degraded"]);
      expect(body.warnings.join("\n")).toMatch(/Telegram: calls failing .*502 Bad Gateway/);
    } finally {
      stack.telegram.outage(undefined);
    }
    // the card waited for Telegram, and health follows it back
    await waitForChat(stack.telegram, (messages) => messages.length >= 1, 90_000);
    await expect.poll(() => kinds(stack), { timeout: 60_000, interval: 250 }).toEqual([]);
  }, 200_000);
});

describe("a token Telegram rejects", () => {
  let stack: Stack;
  beforeAll(async () => {
    // the bot's id is right, its secret is not: what a revoked or mistyped token looks like
    stack = await startStack({ runtime, env: { TELEGRAM_BOT_TOKEN: "123456:REVOKED-OR-MISTYPED" } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("makes health degraded, saying so, within a minute", async () => {
    await expect.poll(() => kinds(stack), { timeout: 60_000, interval: 250 }).toEqual(["token_rejected"]);
    const { code, body } = await health(stack);
    expect([code, body.status]).toEqual([200, "degraded"]);
    expect(body.warnings.join("\n")).toContain("Telegram: token rejected (getMe: 401 Unauthorized)");
    expect(stack.telegram.callsOf("getUpdates")).toEqual([]);
  });
});

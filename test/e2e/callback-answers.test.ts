// A button press is answered before slow work: Telegram keeps a press open only seconds ("query
// is too old and response timeout expired or query ID is invalid" afterwards), and the Silence
// choice waits for Alertmanager. Here Alertmanager (a real one) sits behind a proxy that holds
// each new silence for 4 s, and the emulator's answer window is shortened to 2 s so the test
// need not outwait Telegram's own; Telegram's flood limits stay on.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { startAlertmanager, type AlertmanagerProcess } from "../../dev/alertmanager.js";
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
const HOLD_MS = 4_000;

let am: AlertmanagerProcess;
let proxy: Server;
let stack: Stack;

beforeAll(async () => {
  am = await startAlertmanager();
  proxy = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        if (request.method === "POST") await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
        const upstream = await fetch(`${am.url}${request.url ?? "/"}`, {
          method: request.method ?? "GET",
          headers: { "content-type": "application/json" },
          ...(body.length === 0 ? {} : { body }),
        });
        response.writeHead(upstream.status, { "content-type": "application/json" });
        response.end(await upstream.text());
      })();
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  stack = await startStack({
    env: { ALERTMANAGER_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
    telegram: { callbackAnswerWindowMs: 2_000 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await am?.stop();
});

describe("a Silence choice with a slow Alertmanager", () => {
  it("is answered within Telegram's window, then silenced, then the card says so", async () => {
    const payload = alertmanagerPayload({
      fingerprint: "slow-silence",
      labels: { alertname: "SlowSilence" },
    });
    expect(
      (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
    ).toBe(202);
    // the card as it settles, with its analysis: an edit after the choices are shown would put the
    // card's own keyboard back (the choices are not kept across card edits yet)
    const [card] = await waitForChat(stack.telegram, (messages) =>
      messages.some((m) => m.text.includes("SlowSilence") && !m.text.includes("AI analysis: pending")),
    );
    const messageId = card?.message_id ?? 0;
    const silence = buttonData(stack.telegram, messageId, "silence");
    const first = stack.telegram.pressButton({ chatId: CHAT_ID, messageId, ...ALICE, data: silence });
    await expect
      .poll(() => stack.telegram.answerOf(first)?.text, { timeout: 5_000 })
      .toBe("Silence for how long?");

    const choice = `${silence}:30m`;
    // the choices are set before that answer (their edit goes ahead of the chat's pace), unless the
    // handler outlived the bot's answer deadline; either way they are on the card before the press
    await expect
      .poll(
        () =>
          stack.telegram
            .message(CHAT_ID, messageId)
            ?.reply_markup?.inline_keyboard.flat()
            .some((button) => "callback_data" in button && button.callback_data === choice) ?? false,
        { timeout: 10_000 },
      )
      .toBe(true);
    const pressedAt = Date.now();
    const query = stack.telegram.pressButton({ chatId: CHAT_ID, messageId, ...ALICE, data: choice });
    await expect
      .poll(() => stack.telegram.answerOf(query)?.text, { timeout: 5_000 })
      .toBe("🔕 Silencing for 30 min…");

    // Alertmanager answers only after the window closed; the outcome still reaches the chat
    await waitForChat(
      stack.telegram,
      (messages) => messages.some((m) => /^🔕 INC-.* silenced by @alice/.test(m.text)),
      20_000,
    );
    expect(Date.now() - pressedAt).toBeGreaterThanOrEqual(HOLD_MS);
    await expect
      .poll(() => stack.telegram.message(CHAT_ID, messageId)?.text ?? "", { timeout: 10_000 })
      .toMatch(/silenced by @alice/);
    const refused = stack.telegram.callsOf("answerCallbackQuery").filter((call) => call.status !== "ok");
    expect(refused).toEqual([]);
  }, 60_000);
});

// BOT_LANGUAGE=zh-TW through the whole bot: the Telegram emulator, the grammY bot, the queues, the
// workers, the offline analyzer and PostgreSQL. The card (labels, buttons, the analyzer's cause),
// a toast, an escalation, /help and the command menu all speak Traditional Chinese, with times in
// the team's zone; nothing English is left on the card but names and what the alert itself says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { alertmanagerAuth, CHAT_ID, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import type { EmulatedMessage } from "../../dev/emulators/telegram.js";
import { messagesFor } from "../../domain/i18n/index.js";

const ALICE = { fromUserId: 1001, username: "alice" }; // an approver (dev/env.ts)
const DEADLINE_S = 3;
const zh = messagesFor("zh-TW");

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      BOT_LANGUAGE: "zh-TW",
      BOT_TIMEZONE: "Asia/Taipei",
      ESCALATE_P0_SECONDS: String(DEADLINE_S),
      TELEGRAM_ONCALL_USERNAMES: "oncall_sre",
    },
    // the emulator's flood limits are lifted: this test reads texts, not sends per minute
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const cardText = (card: EmulatedMessage) => stack.telegram.message(CHAT_ID, card.message_id)?.text ?? "";

describe("BOT_LANGUAGE=zh-TW", () => {
  it("writes the card, its buttons, the analyzer's cause, a toast and the escalation in Chinese", async () => {
    const payload = alertmanagerPayload({
      fingerprint: "zh-crash-loop",
      labels: {
        alertname: "PodCrashLoopBackOff",
        severity: "critical",
        namespace: "awoooi-prod",
        deployment: "awoooi-api",
        pod: "awoooi-api-7d4b8c9f5-abc12",
      },
    });
    expect(
      (await postJson(`${stack.url}/api/v1/webhooks/alertmanager`, payload, alertmanagerAuth)).status,
    ).toBe(202);
    const messages = await waitForChat(stack.telegram, (all) =>
      all.some((m) => m.text.includes("PodCrashLoopBackOff")),
    );
    const card = messages.find((m) => m.text.includes("PodCrashLoopBackOff")) as EmulatedMessage;
    const id = /INC-\d{8}-\d{4,}/.exec(card.text)?.[0] ?? "";

    // the offline analyzer's cause, in the card's language (not "💡 Cause: Pod 持續 …"), once the
    // proposal is on the card too (an edit may show the analysis before the proposal is stored)
    await waitForChat(
      stack.telegram,
      () =>
        cardText(card).includes("💡 原因：Pod 持續 CrashLoopBackOff") &&
        cardText(card).includes("🚫 此處無法執行"),
      15_000,
    );
    const text = cardText(card);
    expect(text).toContain("🚨 緊急 | ");
    expect(text).toContain("🤖 AI 分析 (離線分析 rules:crash-loop)");
    expect(text).toMatch(/👥 責任：\S+/);
    expect(text).toMatch(/📊 信心：\S+ \d+%/);
    expect(text).toContain("🔧 建議：");
    expect(text).toContain(`🚫 此處無法執行：${zh.cannotRun.kubernetes}`);
    expect(text).toMatch(/🧭 需要簽核：\S/);
    // the guardrails' verdicts too: only the action's and settings' names stay as they are written
    const decision = text.split("\n").find((line) => line.startsWith("🧭")) ?? "";
    expect(decision).toBe(
      "🧭 需要簽核：AUTO_REPAIR_ENABLED=false（自動修復已關閉）；風險 MEDIUM，高於 LOW；信心 0.65 < 0.85",
    );
    expect(text).toMatch(/🔁 發生 1 次 · \d\d:\d\d GMT\+8/);
    for (const english of ["Cause:", "Owner:", "Confidence:", "Suggested:", "occurrence", "via "]) {
      expect(text).not.toContain(english);
    }
    const buttons = stack.telegram
      .message(CHAT_ID, card.message_id)
      ?.reply_markup?.inline_keyboard.flat()
      .map((button) => button.text);
    expect(buttons).toEqual(expect.arrayContaining(["❌ 拒絕", "⏰ 稍後", "🔕 靜默", "👀 認領", "🔎 詳情"]));

    // the escalation of the untaken P0, then a toast
    await waitForChat(
      stack.telegram,
      (all) => all.some((m) => m.text.startsWith("⏫") && m.text.includes(id)),
      15_000,
    );
    const escalation = stack.telegram
      .messages(CHAT_ID)
      .find((m) => m.text.startsWith("⏫") && m.text.includes(id));
    expect(escalation?.text).toContain(`⏫ @oncall_sre: P0 ${id} 已${DEADLINE_S} 秒無人回應`);

    const query = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card.message_id,
      ...ALICE,
      data: `v1:take:${id}`,
    });
    await expect
      .poll(() => stack.telegram.answerOf(query)?.text, { timeout: 8_000 })
      .toBe(zh.answers.taken({ id }));
    await waitForChat(stack.telegram, () => /👀 處理中：@alice，自 \d\d:\d\d GMT\+8/.test(cardText(card)));
    expect(cardText(card)).toContain("👀 @alice 認領處理");
  }, 40_000);

  it("answers /help in Chinese and registers the command menu per language", async () => {
    stack.telegram.sendUserMessage({ chatId: CHAT_ID, ...ALICE, text: "/help" });
    const help = await waitForChat(stack.telegram, (all) =>
      all.some((m) => m.text.startsWith(zh.help.title)),
    );
    expect(help.find((m) => m.text.startsWith(zh.help.title))?.text).toContain(zh.commands.ack);
    await expect.poll(() => stack.telegram.commandMenu("zh").length, { timeout: 8_000 }).toBeGreaterThan(0);
    expect(stack.telegram.commandMenu("zh").find((c) => c.command === "help")?.description).toBe(
      zh.commands.help,
    );
    expect(stack.telegram.commandMenu("en").find((c) => c.command === "help")?.description).toBe(
      messagesFor("en").commands.help,
    );
    // BOT_LANGUAGE's list for everyone else
    expect(stack.telegram.commandMenu("de").find((c) => c.command === "help")?.description).toBe(
      zh.commands.help,
    );
  }, 20_000);
});

// What matters first reaches the chat first, also among the sends already on their way: with lower
// cards waiting for the chat's pace (a send a second), the storm summary and the edit that brings
// a P0's card its analysis go out before them. Against the Telegram emulator's Bot API, through the
// bot's own notifiers.
import { Api } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_THROTTLE, sendThrottle, type ThrottleOptions } from "../../bot/send-throttle.js";
import { telegramNotices } from "../../bot/telegram-notices.js";
import { telegramNotifier } from "../../bot/telegram-notifier.js";
import type { IncidentCard } from "../../domain/card.js";
import type { Severity } from "../../domain/incident.js";
import type { StormSummary } from "../../domain/notices.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const GROUP = "-1003000000077";

let telegram: TelegramEmulator;
beforeAll(async () => {
  telegram = await TelegramEmulator.start();
});
afterAll(async () => {
  await telegram.close();
});

function card(id: string, severity: Severity, title: string): IncidentCard {
  const at = new Date("2026-12-04T09:00:00Z");
  return {
    incidentId: id,
    severity,
    status: "open",
    source: "alertmanager",
    service: "storm-svc",
    title,
    occurrences: 1,
    firstSeenAt: at,
    lastSeenAt: at,
    links: [],
    history: [],
    buttons: [],
  };
}

const summary: StormSummary = {
  stormId: 1,
  startedAt: new Date("2026-12-04T09:00:00Z"),
  endedAt: null,
  threshold: 10,
  windowSeconds: 60,
  counts: {
    folded: 40,
    open: 40,
    bySeverity: { P0: 0, P1: 10, P2: 30 },
    awaitingApproval: 0,
    escalated: 0,
    topServices: [],
    newest: [],
  },
};

describe("the send throttle", () => {
  it("sends the storm summary and a P0 card's edit ahead of the lower cards waiting for the chat", async () => {
    const api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
    api.config.use(sendThrottle());
    const cards = telegramNotifier(api);
    const notices = telegramNotices(api);

    const p0 = await cards.post(GROUP, card("INC-20261204-0001", "P0", "DatabaseDown"));
    if (p0.kind !== "posted") throw new Error(`the P0 card was not posted: ${p0.kind}`);
    // the chat's pace holds every send below for its turn: the lower cards asked first
    const sends = [
      cards.post(GROUP, card("INC-20261204-0002", "P2", "Lower one")),
      cards.post(GROUP, card("INC-20261204-0003", "P1", "Lower two")),
      cards.post(GROUP, card("INC-20261204-0004", "P2", "Lower three")),
      notices.postStorm(GROUP, summary),
      cards.update(GROUP, p0.messageId, {
        ...card("INC-20261204-0001", "P0", "DatabaseDown"),
        summary: "analysis arrived",
      }),
    ];
    await Promise.all(sends);

    const order = telegram.calls
      .filter((call) => String(call.params.chat_id) === GROUP && call.status === "ok")
      .map((call) => {
        const text = String(call.params.text);
        if (text.startsWith("🌩")) return "storm";
        const lower = /Lower (one|two|three)/.exec(text);
        return lower === null ? `P0 ${call.method}` : `lower ${lower[1] ?? ""}`;
      });
    expect(order).toEqual([
      "P0 sendMessage",
      "storm",
      "P0 editMessageText",
      "lower one",
      "lower two",
      "lower three",
    ]);
  }, 30_000);
});

describe("the send throttle's limits", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A throttle whose Telegram answers at once, recording which chats' calls reached it. */
  function throttled(options?: ThrottleOptions) {
    const reached: string[] = [];
    const throttle = sendThrottle(options);
    const prev = (async (_method: string, payload: { chat_id: number | string }) => {
      reached.push(String(payload.chat_id));
      return { ok: true as const, result: true };
    }) as unknown as Parameters<typeof throttle>[0];
    const send = (chatId: number | string) => throttle(prev, "sendMessage", { chat_id: chatId, text: "x" });
    return { reached, send };
  }

  /** The default limits, but a group's calls keep no turn: only its window holds them back. */
  const NO_TURNS: ThrottleOptions = { group: { ...DEFAULT_THROTTLE.group, minTime: 0 } };

  /** Lets every promise settle without moving the (fake) clock. */
  const settle = () => vi.advanceTimersByTimeAsync(0);

  it("lets a call that need not wait reach Telegram without waiting for a timer", async () => {
    vi.useFakeTimers();
    const { reached, send } = throttled();
    void send(-1001);
    void send(42);
    // no timer has run: Bottleneck, which this replaced, needed several timer turns for each
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    expect(reached).toEqual(["-1001", "42"]);
  });

  it("keeps a call a second per chat, 20 a minute per group and 30 a second overall", async () => {
    vi.useFakeTimers();
    const { reached, send } = throttled();
    // one chat: the second call waits for the first one's turn to end
    void send(-1001);
    void send(-1001);
    await settle();
    expect(reached).toEqual(["-1001"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reached).toEqual(["-1001", "-1001"]);

    // a group's 21st call in a minute waits for the next minute, however long its turns
    const group = throttled(NO_TURNS);
    for (let call = 0; call < 21; call++) void group.send(-1002);
    await settle();
    expect(group.reached).toHaveLength(20);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(group.reached).toHaveLength(20);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(group.reached).toHaveLength(21);

    // a window does not start afresh when its queue runs empty: 25 calls, then 20 more at 66 s, when
    // the second minute had 5 of them (p-queue before 9 gave the 20 a new window at once)
    const drained = throttled(NO_TURNS);
    for (let call = 0; call < 25; call++) void drained.send(-1003);
    await vi.advanceTimersByTimeAsync(66_000);
    expect(drained.reached).toHaveLength(25);
    for (let call = 0; call < 20; call++) void drained.send(-1003);
    await settle();
    expect(drained.reached).toHaveLength(40);
    await vi.advanceTimersByTimeAsync(53_999);
    expect(drained.reached).toHaveLength(40);
    await vi.advanceTimersByTimeAsync(1);
    expect(drained.reached).toHaveLength(45);

    // 31 chats at once: 30 go this second, the last one the next
    const many = throttled();
    for (let chat = 1; chat <= 31; chat++) void many.send(chat);
    await settle();
    expect(many.reached).toHaveLength(30);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(many.reached).toHaveLength(31);
  });
});

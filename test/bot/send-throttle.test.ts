// What matters first reaches the chat first, also among the sends already on their way: with lower
// cards waiting for the chat's pace (a send a second), the storm summary and the edit that brings
// a P0's card its analysis go out before them. Against the Telegram emulator's Bot API, through the
// bot's own notifiers.
import { Api } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendThrottle } from "../../bot/send-throttle.js";
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

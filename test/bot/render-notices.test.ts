// The storm summary card's times read in BOT_TIMEZONE, with the date when not today there.
import { describe, expect, it } from "vitest";
import { renderEscalation, renderStormSummary } from "../../bot/cards/render-notices.js";
import type { StormSummary } from "../../domain/notices.js";

const summary = (endedAt: Date | null): StormSummary => ({
  stormId: 1,
  startedAt: new Date("2026-03-29T15:50:00Z"),
  endedAt,
  threshold: 10,
  windowSeconds: 60,
  counts: {
    folded: 12,
    open: 3,
    bySeverity: { P0: 1, P1: 5, P2: 6 },
    awaitingApproval: 0,
    escalated: 0,
    topServices: [],
    newest: [],
  },
});

describe("renderStormSummary times", () => {
  it("shows the start in the team's zone, dated when it is another day there", () => {
    const sameDay = new Date("2026-03-29T16:30:00Z"); // 00:30 on Mar 30 in Taipei
    expect(renderStormSummary(summary(null), "UTC", sameDay)).toContain("(since 15:50 UTC)");
    // 15:50 UTC is 23:50 on Mar 29 in Taipei, while "now" there is already Mar 30
    expect(renderStormSummary(summary(null), "Asia/Taipei", sameDay)).toContain("(since Mar 29 23:50 GMT+8)");
  });

  it("gives the final report's span in that zone", () => {
    const ended = new Date("2026-03-29T16:20:00Z");
    expect(renderStormSummary(summary(ended), "Asia/Taipei", ended)).toContain(
      "Mar 29 23:50 GMT+8 – 00:20 GMT+8 · P0 1",
    );
  });
});

describe("storm card and escalation in BOT_LANGUAGE", () => {
  it("writes the storm card in Chinese for zh-TW, the date the Chinese way", () => {
    const now = new Date("2026-03-29T16:30:00Z");
    const text = renderStormSummary(summary(null), "Asia/Taipei", now, "zh-TW");
    expect(text).toContain("🌩 <b>告警風暴：12 件事件收合於此</b>（自 3月29日 23:50 GMT+8）");
    expect(text).toContain("P0 1 · P1 5 · P2 6 · 未解決 3");
    expect(text).toContain("每 60 秒新事件少於 10 件時恢復逐件卡片");
    const over = renderStormSummary(summary(now), "Asia/Taipei", now, "zh-TW");
    expect(over).toContain("✅ <b>告警風暴結束：共 12 件事件，3 件仍未解決</b>");
  });

  it("writes the escalation in Chinese, escaping what the alert said", () => {
    const text = renderEscalation(
      {
        incidentId: "INC-20260329-0001",
        severity: "P0",
        title: "<b>down</b>",
        service: "awoooi-api",
        reason: "repair_failed",
        detail: "pods <not> ready",
        mentions: [],
      },
      "zh-TW",
    );
    expect(text).toBe(
      "⏫ （未設定值班人員：請設定 TELEGRAM_ONCALL_USERNAMES）: P0 <code>INC-20260329-0001</code> 修復失敗：pods &lt;not&gt; ready\n" +
        "awoooi-api: &lt;b&gt;down&lt;/b&gt;",
    );
  });

  it("writes the times inside a failed repair's words in BOT_TIMEZONE", () => {
    const since = "2026-03-29T15:50:00.000Z";
    const notice = {
      incidentId: "INC-20260329-0002",
      severity: "P1" as const,
      title: "ContainerDown",
      service: "cache",
      reason: "repair_failed" as const,
      detail: `RESTART_CONTAINER failed: not recovered before the deadline: container has not restarted since ${since}`,
      failure: {
        action: "RESTART_CONTAINER",
        reason: {
          code: "not_recovered",
          waiting: `container has not restarted since ${since}`,
          said: { code: "container_not_restarted", since },
        },
      },
      mentions: [],
    };
    const taipei = renderEscalation(notice, "en", "Asia/Taipei");
    // with the date, since it is not today there
    expect(taipei).toMatch(/container has not restarted since (Mar 29 )?23:50 GMT\+8/);
    expect(taipei).not.toContain(since);
    expect(renderEscalation(notice, "zh-TW", "Asia/Taipei")).toContain("23:50 GMT+8");
  });
});

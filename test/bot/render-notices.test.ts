// The storm summary card's times read in BOT_TIMEZONE, with the date when not today there.
import { describe, expect, it } from "vitest";
import { renderStormSummary } from "../../bot/cards/render-notices.js";
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

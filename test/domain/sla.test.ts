// The SLA clock the drill-down shows: time to escalation, time since escalation, or who stopped it.
import { describe, expect, it } from "vitest";
import { slaClock } from "../../domain/sla.js";
import { slaLine } from "../../bot/cards/render-drill-down.js";
import { clockTime } from "../../domain/time.js";

const AFTER = { P0: 300, P1: 900, P2: 3600 };
const opened = new Date("2026-11-24T09:00:00Z");
const open = {
  severity: "P0" as const,
  status: "open" as const,
  acknowledgedAt: null,
  acknowledgedBy: null,
  escalatedAt: null,
  snoozedUntil: null,
};
const now = new Date("2026-11-24T09:01:00Z");
const taipei = (at: Date | string) => clockTime(new Date(at), "Asia/Taipei", now);

describe("slaClock", () => {
  it("counts down to the severity's deadline", () => {
    const clock = slaClock(open, opened, AFTER, now);
    expect(clock).toEqual({ state: "running", dueAt: new Date("2026-11-24T09:05:00Z"), leftSeconds: 240 });
    expect(slaLine(clock, taipei)).toBe("⏱ SLA: escalates in 4 min (17:05 GMT+8) unless someone takes it");
  });

  it("says when the deadline has passed and the escalation is due", () => {
    const clock = slaClock(open, opened, AFTER, new Date("2026-11-24T09:06:00Z"));
    expect(clock).toMatchObject({ state: "running", leftSeconds: 0 });
    expect(slaLine(clock, taipei)).toContain("escalation due now");
  });

  it("counts the time since it escalated", () => {
    const escalated = { ...open, escalatedAt: new Date("2026-11-24T08:40:00Z") };
    const clock = slaClock(escalated, opened, AFTER, now);
    expect(clock).toEqual({ state: "escalated", at: escalated.escalatedAt, sinceSeconds: 1260 });
    expect(slaLine(clock, taipei)).toBe("⏱ SLA: escalated 21 min ago (16:40 GMT+8), nobody has taken it");
  });

  it("is stopped by an acknowledgement, before or after escalating", () => {
    const taken = { ...open, acknowledgedAt: new Date("2026-11-24T09:00:30Z"), acknowledgedBy: "@bob" };
    const clock = slaClock(taken, opened, AFTER, now);
    expect(clock).toMatchObject({ state: "acknowledged", by: "@bob", sinceSeconds: 30 });
    expect(slaLine(clock, taipei)).toBe("⏱ SLA: stopped, acknowledged by @bob 30 s ago (17:00 GMT+8)");
    const late = { ...taken, escalatedAt: new Date("2026-11-24T08:59:00Z") };
    expect(slaLine(slaClock(late, opened, AFTER, now), taipei)).toContain("after escalating at 16:59 GMT+8");
  });

  it("is held by a snooze, and gone once resolved", () => {
    const snoozed = { ...open, snoozedUntil: new Date("2026-11-24T10:00:00Z") };
    expect(slaLine(slaClock(snoozed, opened, AFTER, now), taipei)).toBe(
      "⏱ SLA: held by a snooze until 18:00 GMT+8",
    );
    expect(slaClock({ ...open, status: "resolved" }, opened, AFTER, now)).toEqual({ state: "resolved" });
  });
});

// The neutral card's "who is on it" and its history texts' times: taken, taken over, cleared by a
// reopening; a snooze's end written in BOT_TIMEZONE; a failed action's reason in BOT_LANGUAGE.
import { describe, expect, it } from "vitest";
import { buildIncidentCard } from "../../handlers/build-incident-card.js";
import type { Incident, IncidentEvent } from "../../domain/incident.js";

const opened = new Date("2026-03-29T12:00:00Z");
const incident: Incident = {
  id: "INC-20260329-0001",
  fingerprint: "f",
  source: "alertmanager",
  severity: "P0",
  status: "open",
  title: "AWOOOIAPIDown",
  service: "awoooi-api",
  summary: null,
  target: null,
  labels: {},
  annotations: {},
  links: [],
  firstSeenAt: opened,
  lastSeenAt: opened,
  resolvedAt: null,
  occurrences: 1,
  version: 1,
  createdAt: opened,
  updatedAt: opened,
  acknowledgedAt: null,
  acknowledgedBy: null,
  escalatedAt: null,
  snoozedUntil: null,
  snoozedBy: null,
};
let nextId = 1;
const event = (
  minute: number,
  kind: string,
  actor = "system",
  detail: Record<string, unknown> = {},
): IncidentEvent => ({
  id: nextId++,
  at: new Date(opened.getTime() + minute * 60_000),
  kind,
  actor,
  detail,
});

describe("buildIncidentCard: who is on it", () => {
  it("names the latest taker and whom they took it over from, with a take button while open", () => {
    const card = buildIncidentCard(incident, [
      event(1, "taken", "@alice"),
      event(3, "taken", "@bob", { from: "@alice" }),
    ]);
    expect(card.takenBy).toEqual({ by: "@bob", at: new Date("2026-03-29T12:03:00Z"), from: "@alice" });
    expect(card.history.map((entry) => entry.text)).toEqual([
      "👀 @alice is on it",
      "👀 @bob took over from @alice",
    ]);
    expect(card.buttons.map((button) => button.verb)).toContain("take");
  });

  it("forgets the taker once the incident fired again after resolving (the acknowledgement is cleared)", () => {
    const card = buildIncidentCard(incident, [event(1, "taken", "@alice"), event(9, "reopened")]);
    expect(card.takenBy).toBeUndefined();
  });

  it("offers no take button once resolved", () => {
    const resolved = { ...incident, status: "resolved" as const, resolvedAt: opened };
    expect(buildIncidentCard(resolved, []).buttons.map((button) => button.verb)).toEqual(["details"]);
  });

  it("writes a snooze's end in the configured zone", () => {
    const snoozed = event(0, "snoozed", "@alice", { until: "2026-03-29T13:00:00.000Z" });
    expect(buildIncidentCard(incident, [snoozed]).history[0]?.text).toBe(
      "⏰ snoozed by @alice until 13:00 UTC",
    );
    expect(
      buildIncidentCard(incident, [snoozed], undefined, undefined, undefined, undefined, "Asia/Taipei")
        .history[0]?.text,
    ).toBe("⏰ snoozed by @alice until 21:00 GMT+8");
  });
});

describe("buildIncidentCard: why an action failed", () => {
  const failed = (detail: Record<string, unknown>) => [event(2, "execution_failed", "system", detail)];
  const history = (events: IncidentEvent[], language: "en" | "zh-TW") =>
    buildIncidentCard(
      incident,
      events,
      undefined,
      undefined,
      undefined,
      undefined,
      "UTC",
      language,
    ).history.map((entry) => entry.text);

  it("says the bot's own words in BOT_LANGUAGE and quotes what the target said as it came", () => {
    const timeout = failed({
      action: "RESTART_POD",
      error: "execution timed out after 30s",
      reason: { code: "timeout", ms: 30_000 },
    });
    const deadline = failed({
      action: "RESTART_POD",
      error: "not recovered before the deadline: GET /healthz → 503",
      reason: { code: "not_recovered", waiting: "GET /healthz → 503" },
    });
    // English is the words the audit log keeps
    expect(history(timeout, "en")[0]).toContain("execution timed out after 30s");
    expect(history(deadline, "en")[0]).toContain("not recovered before the deadline: GET /healthz → 503");
    expect(history(timeout, "zh-TW")[0]).toContain("執行逾時（30 秒）");
    expect(history(timeout, "zh-TW")[0]).not.toContain("timed out");
    expect(history(deadline, "zh-TW")[0]).toContain("期限前未恢復：GET /healthz → 503");
  });

  it("says an automatic rollback's failure in BOT_LANGUAGE too", () => {
    const rollback = [
      event(3, "rollback_failed", "system", {
        namespace: "awoooi-prod",
        deployment: "awoooi-api",
        error: "automatic rollback failed: connect ECONNREFUSED",
        reason: { code: "rollback_failed", error: "connect ECONNREFUSED" },
      }),
    ];
    expect(history(rollback, "en")).toEqual([
      "↩️ automatic rollback not done: automatic rollback failed: connect ECONNREFUSED",
    ]);
    expect(history(rollback, "zh-TW")).toEqual(["↩️ 未完成自動回滾：自動回滾失敗：connect ECONNREFUSED"]);
  });

  it("keeps the recorded English of an event without the bot's reason, or with one it cannot say", () => {
    const old = failed({ action: "RESTART_POD", error: "execution failed: socket hang up" });
    const unknown = failed({ action: "RESTART_POD", error: "something new", reason: { code: "later" } });
    expect(history(old, "zh-TW")[0]).toContain("execution failed: socket hang up");
    expect(history(unknown, "zh-TW")[0]).toContain("something new");
  });
});

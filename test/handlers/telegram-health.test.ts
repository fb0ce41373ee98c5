import { describe, expect, it } from "vitest";
import { telegramProblems } from "../../handlers/telegram-health.js";
import type { TelegramProcessReport } from "../../kv/telegram-health.js";

const NOW = 1_800_000_000_000;
const EVERY = 10_000;

function report(
  process: string,
  agoMs: number,
  extra: Partial<TelegramProcessReport> = {},
): TelegramProcessReport {
  return { process, at: NOW - agoMs, everyMs: EVERY, ...extra };
}
const polling = (
  state: NonNullable<TelegramProcessReport["polling"]>["state"],
  sinceAgoMs = 0,
  detail?: string,
) => ({
  polling: { state, since: NOW - sinceAgoMs, ...(detail === undefined ? {} : { detail }) },
});
const kinds = (reports: TelegramProcessReport[]) =>
  telegramProblems(reports, NOW).problems.map((p) => p.kind);

describe("telegramProblems", () => {
  it("sees nothing wrong while one process polls, whatever the standbys and workers say", () => {
    expect(
      kinds([report("a", 1_000, polling("polling")), report("b", 2_000, polling("standby", 120_000))]),
    ).toEqual([]);
    expect(kinds([])).toEqual([]);
    expect(kinds([report("a", 0, polling("webhook"))])).toEqual([]);
    expect(kinds([report("a", 0, polling("starting"))])).toEqual([]);
  });

  it("names a conflict with Telegram's words and since when", () => {
    const { problems } = telegramProblems(
      [report("a", 0, polling("conflict", 12_000, "Conflict: terminated by other getUpdates request"))],
      NOW,
    );
    expect(problems).toEqual([
      expect.objectContaining({ kind: "polling_conflict", since: new Date(NOW - 12_000).toISOString() }),
    ]);
    expect(problems[0]?.warning).toContain("409 Conflict: terminated by other getUpdates request");
    expect(problems[0]?.warning).toContain("another process polls with this bot token");
  });

  it("says the token is rejected, from any live process, and once", () => {
    const rejected = { since: NOW - 5_000, method: "sendMessage", description: "Unauthorized" };
    const { problems } = telegramProblems(
      [
        report("bot", 0, { ...polling("token_rejected"), tokenRejected: { ...rejected, method: "getMe" } }),
        report("worker", 0, { tokenRejected: rejected }),
      ],
      NOW,
    );
    expect(problems.map((p) => p.kind)).toEqual(["token_rejected"]);
    expect(problems[0]?.warning).toContain("token rejected");
    expect(problems[0]?.warning).toContain("TELEGRAM_BOT_TOKEN");
  });

  it("says calls fail from the second unanswered attempt on, not the first", () => {
    const failing = (failures: number) => ({
      callsFailing: { since: NOW - 9_000, failures, method: "sendMessage", error: "502 Bad Gateway" },
    });
    expect(kinds([report("w", 0, failing(1))])).toEqual([]);
    const { problems } = telegramProblems([report("w", 0, failing(3))], NOW);
    expect(problems.map((p) => p.kind)).toEqual(["calls_failing"]);
    expect(problems[0]?.warning).toContain("sendMessage: 502 Bad Gateway");
  });

  it("counts a poller that stopped writing as stopped, and forgets it once another polls", () => {
    const dead = report("dead", 3 * EVERY + 5_000, polling("polling", 600_000));
    const { problems } = telegramProblems([dead], NOW);
    expect(problems.map((p) => p.kind)).toEqual(["polling_stopped"]);
    expect(problems[0]?.warning).toContain("dead stopped reporting");

    const { problems: after, forget } = telegramProblems([dead, report("new", 0, polling("polling"))], NOW);
    expect(after).toEqual([]);
    expect(forget).toEqual(["dead"]);
  });

  it("ignores what a dead process last said of its calls and its token", () => {
    const stale = report("gone", 3 * EVERY + 5_000, {
      callsFailing: { since: NOW - 60_000, failures: 9, method: "sendMessage", error: "fetch failed" },
      tokenRejected: { since: NOW - 60_000, method: "getMe", description: "Unauthorized" },
    });
    expect(kinds([stale])).toEqual([]);
  });

  it("says polling stopped when it ended, or when every bot process stands by too long", () => {
    expect(kinds([report("a", 0, polling("stopped", 1_000, "fetch failed"))])).toEqual(["polling_stopped"]);
    expect(kinds([report("a", 0, polling("standby", 5_000))])).toEqual([]);
    expect(kinds([report("a", 0, polling("standby", 120_000))])).toEqual(["polling_stopped"]);
  });
});

import { describe, expect, it } from "vitest";
import { statusReport, withDeadline, type StatusDeps } from "../../handlers/status-report.js";
import { renderStatus } from "../../bot/commands/status.js";
import { telegramProblems } from "../../handlers/telegram-health.js";
import { messagesFor } from "../../domain/i18n/index.js";

/** A bot process that polls no more, and said why. */
const stopped = {
  process: "bot-1",
  at: Date.parse("2026-12-04T05:00:05Z"),
  everyMs: 5_000,
  polling: { state: "stopped" as const, since: Date.parse("2026-12-04T05:00:00Z"), detail: "network down" },
};

const depth = { waiting: 1, active: 2, delayed: 3, failed: 4 };
const never = () => new Promise<never>(() => undefined);

function deps(overrides: Partial<StatusDeps> = {}): StatusDeps {
  return {
    timeoutMs: 200,
    redis: async () => "PONG",
    postgres: async () => undefined,
    queues: [{ name: "ingest", depth: async () => depth }],
    llm: [],
    executors: [],
    openIncidents: async () => ({ P0: 2 }),
    repairsLastHour: async () => 3,
    maxRepairsPerHour: 5,
    ...overrides,
  };
}

describe("statusReport", () => {
  it("reports what answered", async () => {
    const report = await statusReport(deps());
    expect(report.redis).toEqual({ name: "Redis", state: "ok" });
    expect(report.postgres).toEqual({ name: "PostgreSQL", state: "ok" });
    expect(report.queues).toEqual([{ name: "ingest", depth }]);
    expect(report.openIncidents).toEqual({ bySeverity: { P0: 2 } });
    expect(report.repairs).toEqual({ used: 3, max: 5 });
  });

  it("answers within its timeout when every probe hangs, and names each as down", async () => {
    const started = Date.now();
    const report = await statusReport(
      deps({
        redis: never,
        postgres: never,
        queues: [{ name: "notify", depth: never }],
        llm: [{ name: "Ollama", configured: true, probe: never }],
        executors: [{ name: "Kubernetes", configured: true, probe: never }],
        openIncidents: never,
        repairsLastHour: never,
      }),
    );
    expect(Date.now() - started).toBeLessThan(600);
    expect(report.redis).toMatchObject({ name: "Redis", state: "down", detail: "no answer within 200 ms" });
    expect(report.postgres.state).toBe("down");
    expect(report.queues).toMatchObject([{ name: "notify", error: "no answer within 200 ms" }]);
    expect(report.llm[0]?.state).toBe("down");
    expect(report.executors[0]?.state).toBe("down");
    expect(report.openIncidents).toMatchObject({ error: "no answer within 200 ms" });
    expect(report.repairs).toMatchObject({ error: "no answer within 200 ms", max: 5 });
  });

  it("tells not configured from configured-but-unprobed and from unreachable", async () => {
    const report = await statusReport(
      deps({
        llm: [
          {
            name: "Ollama",
            configured: true,
            probe: () => Promise.reject(new Error("connect ECONNREFUSED")),
          },
          { name: "Gemini", configured: true, note: "API key set" },
          { name: "Claude", configured: false, probe: () => Promise.reject(new Error("must not be asked")) },
        ],
      }),
    );
    expect(report.llm).toEqual([
      { name: "Ollama", state: "down", detail: "connect ECONNREFUSED" },
      { name: "Gemini", state: "configured", detail: "API key set" },
      { name: "Claude", state: "not_configured" },
    ]);
  });

  it("tells a reachable model that cannot serve as configured (unusable) from an unreachable one", async () => {
    const report = await statusReport(
      deps({
        llm: [
          {
            name: "Gemini",
            configured: true,
            probe: () => Promise.resolve({ unusable: "model x does not exist" }),
          },
          {
            name: "Claude",
            configured: true,
            probe: () => Promise.resolve({ note: "structured output supported" }),
          },
        ],
      }),
    );
    expect(report.llm).toEqual([
      { name: "Gemini", state: "unusable", detail: "model x does not exist" },
      { name: "Claude", state: "ok", detail: "structured output supported" },
    ]);
  });
});

describe("the SigNoz line", () => {
  it("is absent without SigNoz, and otherwise the table, the lack of one, or why ClickHouse did not answer", async () => {
    expect(await statusReport(deps())).not.toHaveProperty("signozTraces");
    const table = {
      found: true,
      table: "signoz_traces.distributed_signoz_index_v3",
      schema: "v3",
      chosenBy: "detected",
    } as const;
    expect((await statusReport(deps({ signozTraces: async () => table }))).signozTraces).toEqual(table);
    const none = { found: false, reason: "none of signoz_traces.signoz_index_v3 exists" } as const;
    expect((await statusReport(deps({ signozTraces: async () => none }))).signozTraces).toEqual(none);
    expect((await statusReport(deps({ signozTraces: never }))).signozTraces).toMatchObject({
      error: "no answer within 200 ms",
    });
  });
});

describe("the Telegram line", () => {
  it("says what health says: ok, or each problem by name", async () => {
    expect(await statusReport(deps())).not.toHaveProperty("telegram");
    expect((await statusReport(deps({ telegram: async () => [] }))).telegram).toEqual({
      name: "Telegram",
      state: "ok",
    });
    const conflict = {
      kind: "polling_conflict" as const,
      since: "2026-12-04T05:00:00.000Z",
      warning:
        "Telegram: polling in conflict for 12 s (409 Conflict: terminated by other getUpdates request)",
    };
    const report = await statusReport(deps({ telegram: async () => [conflict] }));
    expect(report.telegram).toEqual({
      name: "Telegram",
      state: "unusable",
      detail: "polling in conflict for 12 s (409 Conflict: terminated by other getUpdates request)",
    });
    expect(renderStatus(report)).toContain(
      "🔴 Telegram: unusable (polling in conflict for 12 s (409 Conflict: terminated by other getUpdates request))",
    );
  });
});

describe("/status in BOT_LANGUAGE", () => {
  it("says the bot's own details in zh-TW and the same English as before in en", async () => {
    const report = await statusReport(
      deps({
        redis: never,
        llm: [
          {
            name: "Claude",
            configured: true,
            probe: async () => {
              const said = { code: "model_missing", model: "claude-x", status: "404" } as const;
              return { unusable: "model claude-x does not exist (404)", said: [said] };
            },
          },
          {
            name: "Gemini",
            configured: true,
            probe: async () => ({ note: "configured", said: [{ code: "configured" as const }] }),
          },
        ],
        telegram: async () => telegramProblems([stopped], Date.parse("2026-12-04T05:00:10Z")).problems,
      }),
    );
    const english = renderStatus(report);
    expect(english).toContain("🔴 Redis: unreachable (no answer within 200 ms)");
    expect(english).toContain("🔴 Claude: unusable (model claude-x does not exist (404))");
    expect(english).toContain("🟢 Gemini: reachable (configured)");
    expect(english).toContain(
      "🔴 Telegram: unusable (polling stopped (network down); buttons and commands get no answer until the bot restarts)",
    );
    const chinese = renderStatus(report, "UTC", messagesFor("zh-TW"));
    expect(chinese).toContain("🔴 Redis: 無法連線 (200 毫秒內無回應)");
    expect(chinese).toContain("模型 claude-x 不存在（404）");
    expect(chinese).toContain("已設定");
    // the poller's reason is quoted as it came
    expect(chinese).toContain("輪詢已停止（network down）；在 bot 重新啟動前，按鈕與指令都不會有回應");
    expect(chinese).not.toMatch(/no answer within|does not exist|polling stopped/);
  });
});

describe("/status in BOT_LANGUAGE: Redis's persistence and the SigNoz table", () => {
  it("says them in zh-TW, quoting the table's name and the reason found, and as before in en", async () => {
    const said = { code: "redis_none" as const };
    const table = { found: true, table: "signoz_traces.t", schema: "v3", chosenBy: "detected" } as const;
    const report = await statusReport(
      deps({
        redis: async () => ({
          note: "appendonly no and no snapshots: it keeps nothing on disk",
          said: [said],
        }),
        signozTraces: async () => table,
      }),
    );
    expect(renderStatus(report)).toContain(
      "🟢 Redis: reachable (appendonly no and no snapshots: it keeps nothing on disk)",
    );
    expect(renderStatus(report)).toContain("SigNoz: reading signoz_traces.t (v3 schema, detected)");
    const chinese = renderStatus(report, "UTC", messagesFor("zh-TW"));
    expect(chinese).toContain("未開啟 appendonly，也沒有快照：不會寫入磁碟");
    expect(chinese).toContain("SigNoz: 讀取 signoz_traces.t（v3 結構，自動偵測）");
    const none = { found: false, reason: "none of signoz_traces.signoz_index_v3 exists" } as const;
    const missing = await statusReport(deps({ signozTraces: async () => none }));
    expect(renderStatus(missing)).toContain(
      "🟠 SigNoz: no SigNoz trace table found (none of signoz_traces.signoz_index_v3 exists)",
    );
    expect(renderStatus(missing, "UTC", messagesFor("zh-TW"))).toContain(
      "🟠 SigNoz: 找不到 SigNoz 追蹤資料表（none of signoz_traces.signoz_index_v3 exists）",
    );
  });
});

describe("withDeadline", () => {
  it("aborts the probe's signal when time is up", async () => {
    let aborted = false;
    await expect(
      withDeadline(
        (signal) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener("abort", () => {
              aborted = true;
              reject(new Error("aborted"));
            });
          }),
        50,
      ),
    ).rejects.toThrow("no answer within 50 ms");
    expect(aborted).toBe(true);
  });
});

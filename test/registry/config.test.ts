import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, isPlaceholder, parseConfig } from "../../registry/config.js";
import { testEnv } from "../../dev/env.js";

function problem(env: Record<string, string | undefined>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig(testEnv());
    expect(config.sentry.dedupTtlSeconds).toBe(600);
    expect(config.signoz.anomalyThresholdErrorCount).toBe(10);
    expect(config.signoz.tracesTable).toBeUndefined();
    expect(config.autoRepair).toEqual({
      enabled: false,
      maxPerHour: 5,
      minConfidence: 0.85,
      dryRun: false,
      maxPerResourcePerHour: 3,
      cooldownSeconds: 600,
      maxAffectedPods: 3,
      minHealthyReplicas: 1,
      maxReplicas: 10,
      allowedNamespaces: ["awoooi-prod", "monitoring"],
      executionTimeoutSeconds: 60,
      verifySeconds: 120,
      autoRollback: false,
      configPath: undefined,
    });
    expect(config.escalation.afterSeconds).toEqual({ P0: 300, P1: 900, P2: 3600 });
    expect(config.storm).toEqual({ threshold: 10, windowSeconds: 60 });
    expect(config.telegram.routes).toEqual([]);
    expect(config.llm.chain).toEqual(["ollama", "gemini", "claude"]);
    expect(config.telegram.apiRoot).toBe("https://api.telegram.org");
    expect(config.telegram.approverIds).toEqual([1001, 1002]);
    expect(config.roles).toEqual(["http", "bot", "worker"]);
    expect(config.http.port).toBe(8080);
  });

  it("is frozen once parsed", () => {
    const config = parseConfig(testEnv());
    expect(Object.isFrozen(config.telegram)).toBe(true);
  });

  it.each([
    ["TELEGRAM_BOT_TOKEN", undefined, "TELEGRAM_BOT_TOKEN is required"],
    ["TELEGRAM_CHAT_ID", undefined, "TELEGRAM_CHAT_ID is required"],
    ["API_TOKEN", undefined, "API_TOKEN is required"],
    ["ALERTMANAGER_WEBHOOK_SECRET", undefined, "ALERTMANAGER_WEBHOOK_SECRET is required"],
    ["PORT", "eighty", 'PORT must be an integer from 0 to 65535 (got "eighty")'],
    ["AUTO_REPAIR_MIN_CONFIDENCE", "1.5", "AUTO_REPAIR_MIN_CONFIDENCE must be a number from 0 to 1"],
    ["AUTO_REPAIR_ENABLED", "maybe", "AUTO_REPAIR_ENABLED must be true or false"],
    ["LLM_CHAIN", "ollama,gpt", "LLM_CHAIN has unknown entries gpt"],
    ["REDIS_URL", "localhost:6379", "REDIS_URL must be a URL (redis: or rediss:)"],
    ["TELEGRAM_APPROVER_IDS", "alice", "TELEGRAM_APPROVER_IDS must be a comma-separated list"],
    ["TELEGRAM_CHAT_ID", "my group", "TELEGRAM_CHAT_ID must be a numeric chat id"],
    ["DOCKER_HOST", "/var/run/docker.sock", "DOCKER_HOST must be unix:///path/docker.sock"],
    ["TELEGRAM_ROUTES", "P5=-100", 'TELEGRAM_ROUTES entry "P5=-100" must be P0=<chat id>'],
    ["TELEGRAM_CHAT_ID", "-1001234567890/", "TELEGRAM_CHAT_ID must be a numeric chat id"],
    ["TELEGRAM_CHAT_ID", "-1001234567890/topic", "or a forum topic as <chat id>/<message_thread_id>"],
    ["TELEGRAM_CHAT_ID", "-1001234567890/1", "names topic 1 in -1001234567890, the General topic"],
    ["TELEGRAM_CHAT_ID", "-1001234567890/0", "a message_thread_id is a positive number"],
    ["TELEGRAM_ROUTES", "P0=-1002/1", 'TELEGRAM_ROUTES entry "P0=-1002/1": -1002/1 names topic 1'],
    [
      "TELEGRAM_ROUTES",
      "P0=-1002/x",
      'TELEGRAM_ROUTES entry "P0=-1002/x": -1002/x must be a numeric chat id',
    ],
    ["TELEGRAM_ONCALL_USERNAMES", "@a b", "TELEGRAM_ONCALL_USERNAMES must be a comma-separated list"],
    ["ESCALATE_P0_SECONDS", "0", "ESCALATE_P0_SECONDS must be an integer from 1"],
    ["SIGNOZ_TRACES_TABLE", "signoz_index_v3", "SIGNOZ_TRACES_TABLE must be database.table"],
    ["SIGNOZ_TRACES_TABLE", "signoz_traces.x; DROP TABLE y", "SIGNOZ_TRACES_TABLE must be database.table"],
  ])("names %s when it is wrong (%s)", (key, value, expected) => {
    const message = problem(testEnv({ [key]: value }));
    expect(message).toContain(expected);
    expect(message.split("\n")).toHaveLength(1);
  });

  it("names every broken setting in one line and never echoes a secret", () => {
    const message = problem(
      testEnv({ API_TOKEN: "short", PORT: "-1", DATABASE_URL: "mysql://u:hunter2@db/x" }),
    );
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toContain("API_TOKEN must be at least 16 characters");
    expect(message).toContain("PORT must be");
    expect(message).toContain("DATABASE_URL must be a URL");
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("short");
  });

  it("reads routes by severity and namespace, and on-call usernames with or without @", () => {
    const config = parseConfig(
      testEnv({
        TELEGRAM_ROUTES: "P0=-1001, namespace:monitoring=-1002",
        TELEGRAM_ONCALL_USERNAMES: "@alice,bob_oncall",
      }),
    );
    expect(config.telegram.routes).toEqual([
      { match: { severity: "P0" }, chatId: "-1001" },
      { match: { namespace: "monitoring" }, chatId: "-1002" },
    ]);
    expect(config.telegram.oncallUsernames).toEqual(["alice", "bob_oncall"]);
  });

  it("reads a forum topic in the default chat and in routes as <chat id>/<message_thread_id>", () => {
    const config = parseConfig(
      testEnv({
        TELEGRAM_CHAT_ID: "-1001234567890/42",
        TELEGRAM_ROUTES: "P0=-1001/7,namespace:monitoring=-1002",
      }),
    );
    expect(config.telegram.chatId).toBe("-1001234567890");
    expect(config.telegram.threadId).toBe(42);
    expect(config.telegram.routes).toEqual([
      { match: { severity: "P0" }, chatId: "-1001", threadId: 7 },
      { match: { namespace: "monitoring" }, chatId: "-1002" },
    ]);
    expect(parseConfig(testEnv()).telegram).not.toHaveProperty("threadId");
  });

  it("bounds Ollama's window by OLLAMA_NUM_CTX (default 8192) and names the models to check", () => {
    const defaults = parseConfig(testEnv());
    expect(defaults.llm.ollama.numCtx).toBe(8192);
    expect(defaults.llm.ollama.firstLoadTimeoutMs).toBe(180_000);
    const set = parseConfig(
      testEnv({
        OLLAMA_NUM_CTX: "16384",
        OLLAMA_FIRST_LOAD_TIMEOUT_SECONDS: "300",
        GEMINI_MODEL: "gemini-2.5-pro",
        ANTHROPIC_MODEL: "claude-sonnet-4-5",
      }),
    );
    expect(set.llm.ollama.numCtx).toBe(16_384);
    expect(set.llm.ollama.firstLoadTimeoutMs).toBe(300_000);
    expect(set.llm.gemini.model).toBe("gemini-2.5-pro");
    expect(set.llm.claude.model).toBe("claude-sonnet-4-5");
    expect(() => parseConfig(testEnv({ OLLAMA_NUM_CTX: "1024" }))).toThrow(/OLLAMA_NUM_CTX/);
  });

  it("reads BOT_TIMEZONE as an IANA zone (UTC by default) and refuses one Intl does not know", () => {
    expect(parseConfig(testEnv()).timeZone).toBe("UTC");
    expect(parseConfig(testEnv({ BOT_TIMEZONE: "Asia/Taipei" })).timeZone).toBe("Asia/Taipei");
    expect(problem(testEnv({ BOT_TIMEZONE: "Asia/Taipeh" }))).toContain("BOT_TIMEZONE");
  });

  it("reads BOT_LANGUAGE (English by default) and refuses a language it has no catalogue for", () => {
    expect(parseConfig(testEnv()).language).toBe("en");
    expect(parseConfig(testEnv({ BOT_LANGUAGE: "zh-TW" })).language).toBe("zh-TW");
    expect(problem(testEnv({ BOT_LANGUAGE: "zh-CN" }))).toContain("BOT_LANGUAGE");
  });

  it("lets the approvers and TELEGRAM_RESPONDER_IDS take an incident", () => {
    const approversOnly = parseConfig(testEnv({ TELEGRAM_APPROVER_IDS: "1001,1002" }));
    expect(approversOnly.telegram.responderIds).toEqual([1001, 1002]);
    const more = parseConfig(testEnv({ TELEGRAM_APPROVER_IDS: "1001", TELEGRAM_RESPONDER_IDS: "2001,1001" }));
    expect(more.telegram.responderIds).toEqual([1001, 2001]);
  });

  it("treats an empty optional setting as unset", () => {
    const config = parseConfig(testEnv({ OLLAMA_HOST: "", SENTRY_WEBHOOK_SECRET: " " }));
    expect(config.llm.ollama.host).toBeUndefined();
    expect(config.sentry.webhookSecret).toBeUndefined();
  });
});

describe("placeholder secrets", () => {
  it("refuses every secret published in .env.example, saying how to make one", () => {
    const example = Object.fromEntries(
      readFileSync(new URL("../../.env.example", import.meta.url), "utf8")
        .split("\n")
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const published = ["API_TOKEN", "ALERTMANAGER_WEBHOOK_SECRET", "TELEGRAM_BOT_TOKEN"];
    for (const key of published) expect(example[key], `${key} in .env.example`).toBeDefined();
    const message = (() => {
      try {
        parseConfig(testEnv(Object.fromEntries(published.map((key) => [key, example[key]]))));
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain(
      "API_TOKEN is a placeholder, not a secret; generate one with `openssl rand -hex 32`",
    );
    expect(message).toContain("ALERTMANAGER_WEBHOOK_SECRET is a placeholder, not a secret");
    expect(message).toContain(
      "TELEGRAM_BOT_TOKEN is the example's placeholder: use the token BotFather gave you",
    );
    // the values themselves are never echoed
    expect(message).not.toContain(String(example.API_TOKEN));
  });

  it.each([
    "changeme-please-1234",
    "your-token-here-abcdef",
    "<api token here>",
    "xxxxxxxxxxxxxxxxxxxx",
    "secret",
  ])("refuses %j", (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it("accepts a generated secret", () => {
    expect(isPlaceholder("3f9c2b1e7a4d6f80c5b9e2a1d4c7f6b3")).toBe(false);
    expect(() => parseConfig(testEnv({ API_TOKEN: "3f9c2b1e7a4d6f80c5b9e2a1d4c7f6b3" }))).not.toThrow();
  });
});

// The chain through the real SDKs against the API fakes, with budgets in the real Redis.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { budgetDay, RedisBudgetStore } from "../../kv/llm-budget.js";
import { AnalysisChain, createAnalysisChain, type ChainOptions } from "../../ai/chain.js";
import type { LlmProvider } from "../../ai/provider.js";
import { createProviders, type LlmSettings } from "../../ai/providers/index.js";
import { parseConfig } from "../../registry/config.js";
import type { HostileVariant } from "../../dev/emulators/llm/fake-server.js";
import {
  closedPortUrl,
  INJECTION,
  PLANTED_SECRETS,
  startFakes,
  testIncident,
  type Fakes,
} from "../../dev/llm-incident.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let fakes: Fakes;
let redis: Redis;
let prefix: string;
let store: RedisBudgetStore;

// the first call of a model gets the first-load timeout; these tests are about the usual one
const FAST: ChainOptions = { timeoutsMs: { ollama: 300, gemini: 300, claude: 300 }, firstLoadTimeoutMs: 300 };

beforeAll(async () => {
  fakes = await startFakes();
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await fakes.close();
  redis.disconnect();
});
beforeEach(() => {
  prefix = uniquePrefix();
  store = new RedisBudgetStore(redis, prefix);
  fakes.ollama.respondWith({ kind: "answer", output: validLike() });
  fakes.gemini.respondWith({ kind: "answer", output: validLike() });
  fakes.claude.respondWith({ kind: "answer", output: validLike() });
});
afterEach(async () => {
  await deleteKeys(prefix);
});

function validLike(): object {
  return {
    suggested_action: "RESTART_POD",
    target: { kind: "Deployment", namespace: "awoooi-prod", name: "awoooi-api" },
    confidence: 0.9,
    risk_level: "LOW",
    blast_radius: { affected_pods: 2, estimated_downtime_seconds: 0 },
    owner_team: "backend",
    cause: "Upstream connection resets raise the 5xx ratio",
    reasoning: "日誌顯示上游連線被重置；滾動重啟可重建連線池。",
  };
}

function chain(settings: Partial<LlmSettings> = {}, options: ChainOptions = {}): AnalysisChain {
  return createAnalysisChain(
    { ...fakes.settings, ...settings },
    { budgetStore: store },
    { ...FAST, ...options },
  );
}

const outcomes = (result: { attempts: { provider: string; outcome: string }[] }) =>
  result.attempts.map((a) => `${a.provider}:${a.outcome}`);

describe("failover", () => {
  it("answers from Ollama when it works, at no cost", async () => {
    const result = await chain().analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:ok"]);
    expect(result.analysis).toMatchObject({
      engine: "llm",
      provider: "ollama",
      model: "qwen2.5:7b",
      cost_usd: 0,
    });
    expect(result.analysis.tokens.input).toBeGreaterThan(0);
  });

  it("moves to Gemini when Ollama refuses the connection", async () => {
    const result = await chain({ ollama: { host: await closedPortUrl(), model: "qwen2.5:7b" } }).analyze(
      testIncident(),
    );
    expect(outcomes(result)).toEqual(["ollama:http_error", "gemini:ok"]);
    expect(result.attempts[0]?.error).toContain("ECONNREFUSED");
    expect(result.analysis).toMatchObject({
      provider: "gemini",
      engine: "llm",
      suggested_action: "RESTART_POD",
    });
    expect(result.analysis.cost_usd).toBeGreaterThan(0);
  });

  it("abandons a hanging Ollama at its timeout and asks Gemini", async () => {
    fakes.ollama.respondWith({ kind: "hang" });
    const started = performance.now();
    const result = await chain().analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:timeout", "gemini:ok"]);
    const geminiAsked = fakes.gemini.modelRequests().at(-1)?.receivedAt ?? 0;
    expect(geminiAsked - started).toBeGreaterThanOrEqual(290);
    expect(geminiAsked - started).toBeLessThan(1_500);
  });

  it("abandons a provider that ignores its abort signal", async () => {
    const stubborn: LlmProvider = {
      name: "ollama",
      model: "stuck",
      analyze: () => new Promise(() => undefined),
    };
    const slots = [
      { name: "ollama" as const, provider: stubborn },
      ...createProviders({ ...fakes.settings, chain: ["gemini"] }),
    ];
    const result = await new AnalysisChain(slots, {}, FAST).analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:timeout", "gemini:ok"]);
  });

  it("moves on at once after a 429 and skips the provider while it cools off", async () => {
    fakes.ollama.respondWith({ kind: "rate_limit", retryAfterSeconds: 7 });
    const c = chain();
    const first = await c.analyze(testIncident());
    expect(outcomes(first)).toEqual(["ollama:rate_limited", "gemini:ok"]);
    expect(first.attempts[0]).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    expect(first.attempts[0]?.ms).toBeLessThan(250);

    const asked = fakes.ollama.modelRequests().length;
    const second = await c.analyze(testIncident());
    expect(outcomes(second)).toEqual(["ollama:circuit_open", "gemini:ok"]);
    expect(fakes.ollama.modelRequests().length).toBe(asked);
  });

  it("moves on after a 500", async () => {
    fakes.ollama.respondWith({ kind: "server_error" });
    const result = await chain().analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:http_error", "gemini:ok"]);
    expect(result.attempts[0]?.status).toBe(500);
  });

  it("moves on when the answer is not JSON", async () => {
    fakes.ollama.respondWith({ kind: "invalid_json" });
    const result = await chain().analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:invalid_output", "gemini:ok"]);
  });

  it.each<HostileVariant>(["blacklisted_action", "foreign_namespace", "shell_in_name", "injection_echo"])(
    "rejects a hostile answer (%s) and moves on",
    async (variant) => {
      fakes.ollama.respondWith({ kind: "hostile", variant });
      fakes.gemini.respondWith({ kind: "hostile", variant });
      const result = await chain().analyze(testIncident());
      expect(outcomes(result)).toEqual(["ollama:rejected", "gemini:rejected", "claude:ok"]);
      expect(result.analysis).toMatchObject({
        provider: "claude",
        target: { namespace: "awoooi-prod", name: "awoooi-api" },
      });
    },
  );

  it("falls back to the offline analyzer when every provider fails", async () => {
    fakes.gemini.respondWith({ kind: "server_error", status: 503 });
    fakes.claude.respondWith({ kind: "hang" });
    const result = await chain({ ollama: { host: await closedPortUrl(), model: "qwen2.5:7b" } }).analyze(
      testIncident(),
    );
    expect(outcomes(result)).toEqual(["ollama:http_error", "gemini:overloaded", "claude:timeout"]);
    expect(result.analysis).toMatchObject({
      engine: "offline",
      provider: "offline",
      suggested_action: "RESTART_POD",
    });
    expect(result.analysis.confidence).toBeLessThanOrEqual(0.75);
  });

  it("uses the offline analyzer when no provider is configured", async () => {
    const result = await createAnalysisChain({
      chain: ["ollama", "gemini", "claude"],
      ollama: {},
      gemini: {},
      claude: {},
    }).analyze(testIncident());
    expect(outcomes(result)).toEqual([
      "ollama:not_configured",
      "gemini:not_configured",
      "claude:not_configured",
    ]);
    expect(result.attempts[1]?.error).toContain("GEMINI_API_KEY");
    expect(result.analysis.engine).toBe("offline");
  });

  it("follows the configured order", async () => {
    const result = await chain({ chain: ["claude", "ollama"] }).analyze(testIncident());
    expect(outcomes(result)).toEqual(["claude:ok"]);
  });

  it("stops and answers offline when the caller aborts", async () => {
    fakes.ollama.respondWith({ kind: "hang" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await chain({}, { timeoutsMs: { ollama: 5_000 } }).analyze(testIncident(), {
      signal: controller.signal,
    });
    expect(outcomes(result)).toEqual(["ollama:cancelled"]);
    expect(result.analysis.engine).toBe("offline");
  });

  it("accepts config.llm as its settings", async () => {
    const config = parseConfig({
      API_TOKEN: "a".repeat(32),
      TELEGRAM_BOT_TOKEN: "123:abc",
      TELEGRAM_CHAT_ID: "-100123",
      ALERTMANAGER_WEBHOOK_SECRET: "b".repeat(16),
      OLLAMA_HOST: fakes.ollama.url,
      OLLAMA_MODEL: "qwen2.5:7b",
      LLM_CHAIN: "ollama,claude",
    });
    const result = await createAnalysisChain(config.llm, {}, FAST).analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:ok"]);
  });
});

describe("circuit breaker", () => {
  it("opens after consecutive failures, then lets one trial through after the cool-off", async () => {
    let now = Date.parse("2026-03-29T10:00:00Z");
    fakes.ollama.respondWith({ kind: "server_error" });
    const c = chain({}, { breaker: { failureThreshold: 2, coolOffMs: 10_000 }, now: () => now });

    await c.analyze(testIncident());
    expect(c.breakerState("ollama")).toBe("closed");
    await c.analyze(testIncident());
    expect(c.breakerState("ollama")).toBe("open");

    const asked = fakes.ollama.modelRequests().length;
    const skipped = await c.analyze(testIncident());
    expect(outcomes(skipped)).toEqual(["ollama:circuit_open", "gemini:ok"]);
    expect(fakes.ollama.modelRequests().length).toBe(asked);

    now += 10_001;
    expect(c.breakerState("ollama")).toBe("half_open");
    fakes.ollama.respondWith({ kind: "answer", output: validLike() });
    const trial = await c.analyze(testIncident());
    expect(outcomes(trial)).toEqual(["ollama:ok"]);
    expect(c.breakerState("ollama")).toBe("closed");
  });

  it("opens again when the half-open trial fails", async () => {
    let now = Date.parse("2026-03-29T10:00:00Z");
    fakes.ollama.respondWith({ kind: "invalid_json" });
    const c = chain({}, { breaker: { failureThreshold: 1, coolOffMs: 1_000 }, now: () => now });
    await c.analyze(testIncident());
    now += 1_001;
    const trial = await c.analyze(testIncident());
    expect(outcomes(trial)).toEqual(["ollama:invalid_output", "gemini:ok"]);
    expect(c.breakerState("ollama")).toBe("open");
  });
});

describe("budgets", () => {
  it("skips a provider whose daily token budget is used up", async () => {
    const now = Date.parse("2026-03-29T10:00:00Z");
    await store.add("gemini", budgetDay(now), 5_000, 0.01);
    const result = await chain(
      { chain: ["gemini", "claude"] },
      { budgets: { gemini: { tokens: 5_000 } }, now: () => now },
    ).analyze(testIncident());
    expect(outcomes(result)).toEqual(["gemini:budget_exhausted", "claude:ok"]);
    expect(result.attempts[0]?.error).toContain("5000 of 5000");
  });

  it("skips a provider whose daily cost budget is used up", async () => {
    const now = Date.parse("2026-03-29T10:00:00Z");
    await store.add("claude", budgetDay(now), 10, 5);
    const result = await chain({ chain: ["claude"] }, { now: () => now }).analyze(testIncident());
    expect(outcomes(result)).toEqual(["claude:budget_exhausted"]);
    expect(result.analysis.engine).toBe("offline");
  });

  it("records the tokens and cost each call spends", async () => {
    const now = Date.parse("2026-03-29T10:00:00Z");
    fakes.gemini.respondWith({ kind: "invalid_json" });
    const result = await chain({ chain: ["gemini", "claude"] }, { now: () => now }).analyze(testIncident());
    const spentGemini = await store.get("gemini", budgetDay(now));
    const spentClaude = await store.get("claude", budgetDay(now));
    const claude = result.attempts[1];
    expect(spentGemini.tokens).toBe(
      (result.attempts[0]?.tokens?.input ?? 0) + (result.attempts[0]?.tokens?.output ?? 0),
    );
    expect(spentGemini.tokens).toBeGreaterThan(0);
    expect(spentClaude.tokens).toBe((claude?.tokens?.input ?? 0) + (claude?.tokens?.output ?? 0));
    expect(spentClaude.cost).toBeCloseTo(result.analysis.cost_usd, 8);
  });
});

describe("what the providers see", () => {
  it("never sends the planted secrets, and sends the schema and the delimited data", async () => {
    fakes.ollama.respondWith({ kind: "server_error" });
    fakes.gemini.respondWith({ kind: "server_error" });
    await chain().analyze(testIncident());
    const bodies = [
      fakes.ollama.modelRequests().at(-1),
      fakes.gemini.modelRequests().at(-1),
      fakes.claude.modelRequests().at(-1),
    ].map((r) => r?.rawBody ?? "");
    for (const body of bodies) {
      expect(body.length).toBeGreaterThan(1_000);
      for (const secret of Object.values(PLANTED_SECRETS)) expect(body).not.toContain(secret);
      expect(body).toContain("[REDACTED]");
      expect(body).toContain("DROP_DATABASE"); // named as forbidden in the instruction…
      expect(body).toContain("untrusted-data");
    }
    // …and the injection attempt arrives only as JSON-encoded data inside a block
    const user =
      (fakes.claude.modelRequests().at(-1)?.body as { messages: { content: string }[] }).messages[0]
        ?.content ?? "";
    const start = user.indexOf(INJECTION);
    expect(start).toBeGreaterThan(user.indexOf('<untrusted-data id="'));
    expect(user.slice(start)).toContain("</untrusted-data");
    expect(JSON.stringify(fakes.gemini.modelRequests().at(-1)?.body)).toContain('"responseJsonSchema"');
  });
});

// The chain against the emulators' bad days (issue 13): Ollama's window sized to the prompt and
// never read cut, the context trimmed to each provider's budget with what was dropped recorded,
// cold loads, busy servers paused like a 429, stop reasons as outcomes, unusable models found by
// one start-up check, near-miss answers normalised.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AnalysisChain, createAnalysisChain, type ChainOptions, type ChainResult } from "../../ai/chain.js";
import { ANSWER_TOKENS, windowFor } from "../../ai/providers/ollama.js";
import { ModelChecks } from "../../ai/model-check.js";
import { createProviders, type LlmSettings } from "../../ai/providers/index.js";
import { buildPrompt } from "../../ai/prompt.js";
import { estimatePromptTokens } from "../../ai/tokens.js";
import { AnthropicFake } from "../../dev/emulators/llm/anthropic.js";
import { GeminiFake } from "../../dev/emulators/llm/gemini.js";
import { OllamaFake, type OllamaSeen } from "../../dev/emulators/llm/ollama.js";
import { fullIncident, startFakes, testIncident, validAnswer, type Fakes } from "../../dev/llm-incident.js";
import { scopeFromContext } from "../../domain/scope.js";

let fakes: Fakes;
const own: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
afterEach(async () => {
  for (const fake of [fakes.ollama, fakes.gemini, fakes.claude])
    fake.respondWith({ kind: "answer", output: validAnswer() });
  await Promise.all(own.splice(0).map((f) => f.close()));
});

const OPTIONS: ChainOptions = {
  timeoutsMs: { ollama: 2_000, gemini: 2_000, claude: 2_000 },
  firstLoadTimeoutMs: 2_000,
  breaker: { failureThreshold: 1_000 },
  maxRateLimitCoolOffMs: 60_000,
};

function chain(settings: Partial<LlmSettings> = {}, options: ChainOptions = {}): AnalysisChain {
  return createAnalysisChain({ ...fakes.settings, ...settings }, {}, { ...OPTIONS, ...options });
}

async function ownOllama(fake: OllamaFake): Promise<OllamaFake> {
  await fake.start();
  own.push(fake);
  return fake;
}

const outcomes = (result: ChainResult) => result.attempts.map((a) => `${a.provider}:${a.outcome}`);

describe("Ollama's window", () => {
  it("sizes num_ctx to the prompt and sends truncate: false, so a 7k-token context is read whole", async () => {
    const ollama = await ownOllama(
      new OllamaFake(validAnswer, { defaultContext: 4096, trainedContext: 32_768 }),
    );
    const result = await chain({
      chain: ["ollama"],
      ollama: { host: ollama.url, model: "qwen2.5:7b", numCtx: 16_384 },
    }).analyze(fullIncident());
    expect(outcomes(result)).toEqual(["ollama:ok"]);
    const request = ollama.modelRequests().at(-1);
    const body = request?.body as { options: { num_ctx: number; num_predict: number }; truncate: boolean };
    const seen = request?.seen as unknown as OllamaSeen;
    expect(seen.promptTokens).toBeGreaterThan(7_000);
    expect(seen.truncated).toBe(false);
    expect(body.options.num_ctx).toBe(16_384);
    expect(body.options.num_ctx).toBeGreaterThanOrEqual(seen.promptTokens + ANSWER_TOKENS);
    expect(body.options.num_predict).toBe(ANSWER_TOKENS);
    expect(body.truncate).toBe(false);
    expect(result.attempts[0]?.contextDropped).toBeUndefined();
  });

  it("counts a server's refusal of an over-long prompt (truncate: false) as a failure", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer, { trainedContext: 4096 }));
    const provider = createProviders({
      ...fakes.settings,
      ollama: { host: ollama.url, model: "qwen2.5:7b", numCtx: 16_384 },
    })[0]?.provider;
    const prompt = buildPrompt(fullIncident(), scopeFromContext(fullIncident()));
    const error = await provider?.analyze(prompt, AbortSignal.timeout(5_000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: "truncated", status: 400 });
    expect(String(error)).toContain("exceeds the context length");
  });

  it("trims the context to OLLAMA_NUM_CTX, least useful first, and records what it dropped", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer));
    const result = await chain({
      chain: ["ollama"],
      ollama: { host: ollama.url, model: "qwen2.5:7b", numCtx: 8192 },
    }).analyze(fullIncident());
    expect(outcomes(result)).toEqual(["ollama:ok"]);
    const attempt = result.attempts[0];
    expect(result.fullPromptTokens).toBeGreaterThan(7_500);
    expect(attempt?.promptTokens).toBeLessThanOrEqual(8192 - ANSWER_TOKENS);
    expect(attempt?.contextDropped?.[0]).toMatch(/^similar_past_incidents: \d of 5 dropped$/);
    // the evidence stays: pod logs and warnings come after hints in the order of what goes first
    const seen = ollama.modelRequests().at(-1)?.seen as unknown as OllamaSeen;
    expect(seen.truncated).toBe(false);
    expect(seen.read).toContain("pod_logs");
    expect(seen.read).toContain("allowed_targets");
    expect((ollama.modelRequests().at(-1)?.body as { options: { num_ctx: number } }).options.num_ctx).toBe(
      8192,
    );
  });

  it("reads the model's trained length at start-up and fits the context to a model trained on 4k", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer, { trainedContext: 4096 }));
    const analysis = chain({
      chain: ["ollama"],
      ollama: { host: ollama.url, model: "qwen2.5:7b", numCtx: 16_384 },
    });
    const checks = await analysis.checkModels();
    expect(checks).toEqual([
      { provider: "ollama", check: expect.objectContaining({ kind: "ok", contextTokens: 4096 }) as unknown },
    ]);
    const result = await analysis.analyze(fullIncident());
    expect(outcomes(result)).toEqual(["ollama:ok"]);
    expect(result.attempts[0]?.promptTokens).toBeLessThanOrEqual(4096 - ANSWER_TOKENS);
    expect(result.attempts[0]?.contextDropped?.length).toBeGreaterThan(2);
    expect((ollama.modelRequests().at(-1)?.seen as unknown as OllamaSeen).truncated).toBe(false);
  });

  it("fails over without asking when even the trimmed context cannot fit the window", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer, { trainedContext: 2048 }));
    const context = { ...fullIncident(), summary: "s".repeat(4096), title: "t".repeat(512) };
    const result = await chain({ ollama: { host: ollama.url, model: "qwen2.5:7b" } }).analyze({
      ...context,
      labels: {
        ...context.labels,
        ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`label_${i}`, "v".repeat(100)])),
      },
    });
    expect(outcomes(result).slice(0, 2)).toEqual(["ollama:prompt_too_long", "gemini:ok"]);
    expect(ollama.modelRequests()).toHaveLength(0);
  });

  it("counts a prompt the server read cut (it ran a smaller window than asked) as a failure", async () => {
    // no check has read the trained length: the server caps the 16k window asked at 4096 itself,
    // and is older than the truncate field, so it cuts rather than refuses
    const ollama = await ownOllama(
      new OllamaFake(validAnswer, { trainedContext: 4096, knowsTruncate: false }),
    );
    const provider = createProviders({
      ...fakes.settings,
      ollama: { host: ollama.url, model: "qwen2.5:7b", numCtx: 16_384 },
    })[0]?.provider;
    const prompt = buildPrompt(fullIncident(), scopeFromContext(fullIncident()));
    const error = await provider?.analyze(prompt, AbortSignal.timeout(5_000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: "truncated" });
    expect(String(error)).toContain("the prompt was cut: the model read 4096");
    expect((ollama.modelRequests().at(-1)?.seen as unknown as OllamaSeen).truncated).toBe(true);
  });

  it("counts done_reason length as a failure and moves on", async () => {
    fakes.ollama.respondWith({ kind: "stopped", reason: "length" });
    const result = await chain().analyze(testIncident());
    expect(outcomes(result).slice(0, 2)).toEqual(["ollama:truncated", "gemini:ok"]);
    expect(result.attempts[0]?.error).toContain('done_reason "length"');
  });

  it("gives a cold first load the first-load timeout, then the usual one", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer, { loadMs: 400 }));
    const analysis = chain(
      { chain: ["ollama"], ollama: { host: ollama.url, model: "qwen2.5:7b" } },
      { timeoutsMs: { ollama: 200 }, firstLoadTimeoutMs: 5_000 },
    );
    expect(outcomes(await analysis.analyze(testIncident()))).toEqual(["ollama:ok"]);
    // loaded now: the same window answers at once; a new load would now pass the usual timeout
    expect(outcomes(await analysis.analyze(testIncident()))).toEqual(["ollama:ok"]);
    ollama.unloadAll();
    const cold = await analysis.analyze(testIncident());
    expect(outcomes(cold)).toEqual(["ollama:timeout"]);
    expect(cold.attempts[0]?.error).not.toContain("first load");
  });

  it("pauses a busy (503) Ollama like a rate limit", async () => {
    fakes.ollama.respondWith({ kind: "busy" });
    const analysis = chain({}, { rateLimitCoolOffMs: 30_000 });
    const first = await analysis.analyze(testIncident());
    expect(outcomes(first).slice(0, 2)).toEqual(["ollama:overloaded", "gemini:ok"]);
    expect(first.attempts[0]?.retryAfterMs).toBe(30_000);
    const asked = fakes.ollama.modelRequests().length;
    const second = await analysis.analyze(testIncident());
    expect(outcomes(second)[0]).toBe("ollama:circuit_open");
    expect(fakes.ollama.modelRequests()).toHaveLength(asked);
  });

  it("only grows the window: a smaller prompt after a larger one keeps it, and the model stays loaded", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer, { loadMs: 50 }));
    const analysis = chain({
      chain: ["ollama"],
      ollama: { host: ollama.url, model: "qwen2.5:7b", numCtx: 16_384 },
    });
    await analysis.analyze(testIncident());
    await analysis.analyze(fullIncident());
    await analysis.analyze(testIncident());
    const windows = ollama
      .modelRequests()
      .map((r) => (r.body as { options: { num_ctx: number } }).options.num_ctx);
    expect(windows).toEqual([4096, 16_384, 16_384]);
    const loads = ollama
      .modelRequests()
      .map((r) => (r.seen as unknown as OllamaSeen).window)
      .filter((w, i, all) => i === 0 || all[i - 1] !== w);
    expect(loads).toEqual([4096, 16_384]);
  });

  it("sizes windows in powers of two, so the runner is seldom restarted", () => {
    expect(windowFor(100, 8192)).toBe(2048);
    expect(windowFor(3000, 8192)).toBe(8192);
    expect(windowFor(2000, 8192)).toBe(4096);
    expect(windowFor(7000, 8192)).toBeUndefined();
    expect(windowFor(5000, 7000)).toBe(7000);
  });
});

describe("Gemini's and Claude's stops", () => {
  it("counts Gemini's MAX_TOKENS (thinking spent the room) as a cut answer and moves on", async () => {
    fakes.gemini.respondWith({ kind: "answer", output: { ...validAnswer(), reasoning: "r".repeat(9_000) } });
    const result = await chain({ chain: ["gemini", "claude"] }).analyze(testIncident());
    expect(outcomes(result)).toEqual(["gemini:truncated", "claude:ok"]);
    expect(result.attempts[0]?.error).toContain("MAX_TOKENS");
    // billed all the same: 512 thinking tokens and the 2,048 of the cut answer
    expect(result.attempts[0]?.tokens?.output).toBe(512 + 2048);
    const config = (
      fakes.gemini.modelRequests().at(-1)?.body as { generationConfig: Record<string, unknown> }
    ).generationConfig;
    expect(config).toMatchObject({ thinkingConfig: { thinkingBudget: 512 }, maxOutputTokens: 512 + 2048 });
  });

  it("says in words what Gemini's schema subset ignores (lengths, patterns), field by field", async () => {
    await chain({ chain: ["gemini"] }).analyze(testIncident());
    const request = fakes.gemini.modelRequests().at(-1);
    interface Node {
      description?: string;
      properties: Record<string, Node>;
    }
    const schema = (request?.body as { generationConfig: { responseJsonSchema: Node } }).generationConfig
      .responseJsonSchema;
    expect(schema.properties.cause?.description).toBe("(at least 1 characters, at most 300 characters)");
    expect(schema.properties.target?.properties.name?.description).toContain(
      "matching the regular expression ^",
    );
    const ignored = (request?.seen?.ignoredKeywords ?? []) as string[];
    expect(ignored).toContain("$.cause: maxLength");
  });

  it("counts Gemini's SAFETY stop as refused, without tripping its breaker", async () => {
    fakes.gemini.respondWith({ kind: "stopped", reason: "SAFETY" });
    const analysis = chain({ chain: ["gemini", "claude"] }, { breaker: { failureThreshold: 1 } });
    expect(outcomes(await analysis.analyze(testIncident()))).toEqual(["gemini:refused", "claude:ok"]);
    expect(analysis.breakerState("gemini")).toBe("closed");
  });

  it("takes Gemini's answer that breaks only what Gemini does not enforce (a long cause), cut to its limit", async () => {
    fakes.gemini.respondWith({ kind: "answer", output: { ...validAnswer(), cause: "c".repeat(450) } });
    const result = await chain({ chain: ["gemini"] }).analyze(testIncident());
    expect(outcomes(result)).toEqual(["gemini:ok"]);
    expect(result.analysis.cause).toHaveLength(300);
    expect(result.attempts[0]?.normalised).toEqual(["cause cut from 450 to 300 characters"]);
  });

  it.each([
    ["refusal", "claude:refused"],
    ["max_tokens", "claude:truncated"],
  ])("counts Claude's stop_reason %s as %s", async (reason, outcome) => {
    fakes.claude.respondWith({ kind: "stopped", reason });
    const result = await chain({ chain: ["claude"] }).analyze(testIncident());
    expect(outcomes(result)).toEqual([outcome]);
    expect(result.analysis.engine).toBe("offline");
  });

  it("pauses an overloaded (529) Claude like a rate limit", async () => {
    fakes.claude.respondWith({ kind: "busy" });
    const result = await chain({ chain: ["claude"] }, { rateLimitCoolOffMs: 20_000 }).analyze(testIncident());
    expect(outcomes(result)).toEqual(["claude:overloaded"]);
    expect(result.attempts[0]).toMatchObject({ status: 529, retryAfterMs: 20_000 });
  });
});

describe("models found unusable once, at start-up", () => {
  it("does not ask a Gemini model that does not exist, nor a Claude model without structured output", async () => {
    const gemini = new GeminiFake(validAnswer);
    const claude = new AnthropicFake(validAnswer);
    await Promise.all([gemini.start(), claude.start()]);
    own.push(gemini, claude);
    const analysis = chain({
      gemini: { apiKey: gemini.apiKey, baseUrl: gemini.url, model: "gemini-9-ultra" },
      claude: { apiKey: claude.apiKey, baseUrl: claude.url, model: "claude-3-5-haiku-20241022" },
      ollama: { host: fakes.ollama.url, model: "qwen2.5:7b" },
    });
    fakes.ollama.respondWith({ kind: "server_error" });
    const checks = await analysis.checkModels();
    expect(checks.map((c) => `${c.provider}:${c.check.kind}`)).toEqual([
      "ollama:ok",
      "gemini:unusable",
      "claude:unusable",
    ]);
    for (let i = 0; i < 3; i++) {
      const result = await analysis.analyze(testIncident());
      expect(outcomes(result)).toEqual(["ollama:http_error", "gemini:unusable", "claude:unusable"]);
      expect(result.attempts[2]?.error).toContain("does not support structured output");
    }
    expect(gemini.modelRequests()).toHaveLength(0);
    expect(claude.modelRequests()).toHaveLength(0);
    // one check each, made at start-up
    expect(gemini.requests.filter((r) => r.method === "GET")).toHaveLength(1);
    expect(claude.requests.filter((r) => r.method === "GET")).toHaveLength(1);
  });

  it("finds an Ollama model that is not pulled by its one check, and never asks it", async () => {
    const ollama = await ownOllama(new OllamaFake(validAnswer, { models: ["other:1b"] }));
    const analysis = chain({
      chain: ["ollama", "gemini"],
      ollama: { host: ollama.url, model: "qwen2.5:7b" },
    });
    for (let i = 0; i < 3; i++) {
      const result = await analysis.analyze(testIncident());
      expect(outcomes(result)).toEqual(["ollama:unusable", "gemini:ok"]);
      expect(result.attempts[0]?.error).toContain("not pulled");
    }
    expect(ollama.modelRequests()).toHaveLength(0);
    expect(ollama.requests.filter((r) => r.path === "/api/show")).toHaveLength(1);
  });
});

describe("a model found unusable by an answer", () => {
  it("remembers a SWITCH_MODEL model that is not pulled, says so once, and looks again ten minutes on", async () => {
    let now = Date.parse("2026-03-29T10:00:00Z");
    const told: string[] = [];
    const slots = createProviders({ ...fakes.settings, chain: ["ollama", "gemini"] });
    const analysis = new AnalysisChain(
      slots,
      {
        checks: new ModelChecks(slots, () => now),
        settings: {
          get: () =>
            Promise.resolve({
              ollamaModel: { model: "qwen2.5:1.5b", expiresAt: "2026-03-29T11:00:00Z" },
              skipped: [],
            }),
        },
        onUnusable: (provider, check) => told.push(`${provider} ${check.model}`),
      },
      OPTIONS,
    );
    const asked = () =>
      fakes.ollama.modelRequests().filter((r) => (r.body as { model: string }).model === "qwen2.5:1.5b");
    for (let i = 0; i < 3; i++)
      expect(outcomes(await analysis.analyze(testIncident()))).toEqual(["ollama:unusable", "gemini:ok"]);
    expect(asked()).toHaveLength(1);
    expect(told).toEqual(["ollama qwen2.5:1.5b"]);
    now += 10 * 60_000;
    await analysis.analyze(testIncident());
    expect(asked()).toHaveLength(2);
  });
});

describe("near-miss answers", () => {
  it('reads a confidence sent as the string "0.8", and says so', async () => {
    fakes.ollama.respondWith({ kind: "answer", output: { ...validAnswer(), confidence: "0.8" } });
    const result = await chain().analyze(testIncident());
    expect(outcomes(result)[0]).toBe("ollama:ok");
    expect(result.analysis.confidence).toBe(0.8);
    expect(result.attempts[0]?.normalised).toEqual(['confidence "0.8" read as a number']);
  });

  it('refuses a confidence of "high": that would be a guess', async () => {
    fakes.ollama.respondWith({ kind: "answer", output: { ...validAnswer(), confidence: "high" } });
    const result = await chain().analyze(testIncident());
    expect(outcomes(result).slice(0, 2)).toEqual(["ollama:invalid_output", "gemini:ok"]);
  });
});

describe("prompt budgets", () => {
  it("keeps the cloud prompt of a full incident within its budget, and reports the figures", async () => {
    const analysis = chain({ chain: ["gemini"] }, { promptTokens: { gemini: 4000 } });
    const result = await analysis.analyze(fullIncident());
    const full = estimatePromptTokens(buildPrompt(fullIncident(), scopeFromContext(fullIncident())));
    expect(result.fullPromptTokens).toBeGreaterThan(full - 50);
    expect(result.attempts[0]?.promptTokens).toBeLessThanOrEqual(4000);
    expect(result.attempts[0]?.contextDropped).toEqual(
      expect.arrayContaining([
        "similar_past_incidents: 5 of 5 dropped",
        "learned_playbooks: 10 of 10 dropped",
      ]),
    );
    console.info(
      `prompt budget figures: full ${result.fullPromptTokens} → gemini ${result.attempts[0]?.promptTokens} tokens; dropped ${JSON.stringify(result.attempts[0]?.contextDropped)}`,
    );
  });
});

// FALLBACK_AI through the real chain: the skip sits in the real Redis, and the API fakes record
// which provider the chain asks.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAnalysisChain, type AnalysisChain } from "../../ai/chain.js";
import { RedisChainSettings } from "../../kv/chain-settings.js";
import { fallbackAi, type FallbackAiDeps } from "../../executors/fallback-ai.js";
import { startFakes, testIncident, type Fakes } from "../../dev/llm-incident.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let fakes: Fakes;
let redis: Redis;
let prefix: string;
let settings: RedisChainSettings;
let deps: FallbackAiDeps;
let chain: AnalysisChain;

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
  settings = new RedisChainSettings(redis, prefix);
  deps = { settings, chain: ["ollama", "gemini", "claude"] };
  chain = createAnalysisChain(
    fakes.settings,
    { settings },
    { timeoutsMs: { ollama: 2_000, gemini: 2_000, claude: 2_000 } },
  );
});
afterEach(async () => {
  await deleteKeys(prefix);
});

const outcomes = (result: { attempts: { provider: string; outcome: string }[] }) =>
  result.attempts.map((a) => `${a.provider}:${a.outcome}`);

describe("FALLBACK_AI", () => {
  it("makes the chain skip its first provider and ask the next one", async () => {
    expect(outcomes(await chain.analyze(testIncident()))).toEqual(["ollama:ok"]);
    const ollamaAsked = fakes.ollama.modelRequests().length;
    const geminiAsked = fakes.gemini.modelRequests().length;

    const p = fallbackAi.params.parse({});
    expect(await fallbackAi.guard(deps, p)).toEqual({ ok: true });
    const result = await fallbackAi.execute(deps, p, { dryRun: false });
    expect(result).toMatchObject({
      changed: true,
      before: { provider: "ollama", active: ["ollama", "gemini", "claude"] },
      calls: [{ method: "ChainSettingsStore.skipProvider", args: { provider: "ollama", ttlSeconds: 3600 } }],
    });
    expect(await fallbackAi.verify(deps, p, result)).toMatchObject({
      outcome: "recovered",
      detail: expect.stringContaining("gemini answers first") as unknown,
    });

    const after = await chain.analyze(testIncident());
    expect(outcomes(after)).toEqual(["ollama:skipped", "gemini:ok"]);
    expect(after.analysis.provider).toBe("gemini");
    expect(fakes.ollama.modelRequests()).toHaveLength(ollamaAsked);
    expect(fakes.gemini.modelRequests()).toHaveLength(geminiAsked + 1);
  });

  it("skips the provider the analysis names, and a second run moves on to the next", async () => {
    await fallbackAi.execute(deps, { provider: "gemini" }, { dryRun: false });
    await fallbackAi.execute(deps, {}, { dryRun: false }); // now the first active: ollama
    const result = await chain.analyze(testIncident());
    expect(outcomes(result)).toEqual(["ollama:skipped", "gemini:skipped", "claude:ok"]);
  });

  it("lasts until its TTL, then the configured order rules again", async () => {
    await fallbackAi.execute({ ...deps, ttlSeconds: 1 }, {}, { dryRun: false });
    expect(outcomes(await chain.analyze(testIncident()))).toEqual(["ollama:skipped", "gemini:ok"]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(outcomes(await chain.analyze(testIncident()))).toEqual(["ollama:ok"]);
  });

  it("changes nothing in dry run", async () => {
    const result = await fallbackAi.execute(deps, {}, { dryRun: true });
    expect(result.changed).toBe(false);
    expect(result.calls[0]?.args).toEqual({ provider: "ollama", ttlSeconds: 3600 });
    expect(await settings.get()).toEqual({ skipped: [] });
    expect(outcomes(await chain.analyze(testIncident()))).toEqual(["ollama:ok"]);
    expect(await fallbackAi.verify(deps, {}, result)).toMatchObject({ outcome: "failed" });
  });

  it("refuses a provider outside the chain, one already skipped, and the last one", async () => {
    expect(
      await fallbackAi.guard({ ...deps, chain: ["ollama", "gemini"] }, { provider: "claude" }),
    ).toMatchObject({
      ok: false,
      rule: "configured_target",
    });
    await fallbackAi.execute(deps, { provider: "ollama" }, { dryRun: false });
    expect(await fallbackAi.guard(deps, { provider: "ollama" })).toMatchObject({
      ok: false,
      rule: "already_active",
    });
    await fallbackAi.execute(deps, { provider: "gemini" }, { dryRun: false });
    expect(await fallbackAi.guard(deps, {})).toEqual({
      ok: false,
      rule: "last_provider",
      reason: "claude is the last active provider; skipping it leaves only the offline analyzer",
      said: { code: "provider_last", provider: "claude" },
    });
  });

  it("accepts only the three provider names", () => {
    expect(fallbackAi.params.safeParse({ provider: "openai" }).success).toBe(false);
    expect(fallbackAi.params.safeParse({ provider: "gemini", ttlSeconds: 999999 }).success).toBe(false);
  });
});

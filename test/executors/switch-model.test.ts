// SWITCH_MODEL through the real chain: the override sits in the real Redis, and the Ollama fake
// records which model the chain asks for.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAnalysisChain, type AnalysisChain } from "../../ai/chain.js";
import { RedisChainSettings } from "../../kv/chain-settings.js";
import type { LlmSettings } from "../../ai/providers/index.js";
import { switchModel, type SwitchModelDeps } from "../../executors/switch-model.js";
import { OllamaFake } from "../../dev/emulators/llm/ollama.js";
import { testIncident, validAnswer } from "../../dev/llm-incident.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let ollama: OllamaFake;
let redis: Redis;
let prefix: string;
let settings: RedisChainSettings;
let deps: SwitchModelDeps;
let chain: AnalysisChain;

beforeAll(async () => {
  ollama = new OllamaFake(validAnswer, ["qwen2.5:14b", "qwen2.5:3b"]);
  await ollama.start();
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await ollama.close();
  redis.disconnect();
});
beforeEach(() => {
  prefix = uniquePrefix();
  settings = new RedisChainSettings(redis, prefix);
  const llm: LlmSettings = {
    chain: ["ollama"],
    ollama: { host: ollama.url, model: "qwen2.5:14b" },
    gemini: {},
    claude: {},
  };
  deps = { settings, ollama: { model: "qwen2.5:14b", fallbackModel: "qwen2.5:3b" }, chain: llm.chain };
  chain = createAnalysisChain(llm, { settings }, { timeoutsMs: { ollama: 2_000 } });
});
afterEach(async () => {
  await deleteKeys(prefix);
});

const askedModel = () => (ollama.modelRequests().at(-1)?.body as { model?: string } | undefined)?.model;

describe("SWITCH_MODEL", () => {
  it("makes the chain ask Ollama for the fallback model, for an hour", async () => {
    await chain.analyze(testIncident());
    expect(askedModel()).toBe("qwen2.5:14b");

    const p = switchModel.params.parse({ model: "qwen2.5:14b" });
    expect(await switchModel.guard(deps, p)).toEqual({ ok: true });
    const result = await switchModel.execute(deps, p, { dryRun: false });
    expect(result).toMatchObject({
      changed: true,
      before: { model: "qwen2.5:14b", fallbackModel: "qwen2.5:3b" },
      calls: [
        {
          api: "chain",
          method: "ChainSettingsStore.setOllamaModel",
          args: { model: "qwen2.5:3b", ttlSeconds: 3600 },
        },
      ],
    });
    expect(await switchModel.verify(deps, p, result)).toMatchObject({ outcome: "recovered" });
    const ttl = await redis.ttl(`${prefix}:ai:settings:ollama-model`);
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);

    const after = await chain.analyze(testIncident());
    expect(askedModel()).toBe("qwen2.5:3b");
    expect(after.attempts).toMatchObject([{ provider: "ollama", outcome: "ok", model: "qwen2.5:3b" }]);
  });

  it("is shared through Redis: set by another process's connection, seen by the chain, and it expires", async () => {
    const otherConnection = new Redis(TEST_REDIS_URL);
    try {
      const other = new RedisChainSettings(otherConnection, prefix);
      await switchModel.execute({ ...deps, settings: other, ttlSeconds: 1 }, {}, { dryRun: false });
    } finally {
      await otherConnection.quit();
    }
    await chain.analyze(testIncident());
    expect(askedModel()).toBe("qwen2.5:3b");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await chain.analyze(testIncident());
    expect(askedModel()).toBe("qwen2.5:14b");
  });

  it("changes nothing in dry run", async () => {
    const result = await switchModel.execute(deps, {}, { dryRun: true });
    expect(result.changed).toBe(false);
    expect(result.calls[0]?.args).toMatchObject({ model: "qwen2.5:3b" });
    expect(await settings.get()).toEqual({ skipped: [] });
    await chain.analyze(testIncident());
    expect(askedModel()).toBe("qwen2.5:14b");
    expect(await switchModel.verify(deps, {}, result)).toMatchObject({ outcome: "failed" });
  });

  it("refuses when no fallback model is configured", async () => {
    expect(await switchModel.guard({ ...deps, ollama: { model: "qwen2.5:14b" } }, {})).toEqual({
      ok: false,
      rule: "fallback_model",
      reason: "no fallback model is configured (OLLAMA_FALLBACK_MODEL)",
      said: { code: "model_no_fallback" },
    });
  });

  it("refuses when the fallback model is already active", async () => {
    await switchModel.execute(deps, {}, { dryRun: false });
    expect(await switchModel.guard(deps, {})).toMatchObject({ ok: false, rule: "already_active" });
  });

  it("refuses when the alert is about a model the chain does not use, or Ollama is not in the chain", async () => {
    expect(await switchModel.guard(deps, { model: "llama3:70b" })).toMatchObject({
      ok: false,
      rule: "model_in_use",
    });
    expect(await switchModel.guard({ ...deps, chain: ["gemini"] }, {})).toMatchObject({
      ok: false,
      rule: "fallback_model",
    });
  });

  it("carries on with the configured model when the settings cannot be read", async () => {
    const broken = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    broken.on("error", () => undefined);
    const llm: LlmSettings = {
      chain: ["ollama"],
      ollama: { host: ollama.url, model: "qwen2.5:14b" },
      gemini: {},
      claude: {},
    };
    const result = await createAnalysisChain(llm, {
      settings: new RedisChainSettings(broken, prefix),
    }).analyze(testIncident());
    broken.disconnect();
    expect(result.attempts.map((a) => a.outcome)).toEqual(["ok"]);
    expect(result.warnings[0]).toMatch(/^chain settings unreadable/);
    expect(askedModel()).toBe("qwen2.5:14b");
  });
});

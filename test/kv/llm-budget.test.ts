// Daily spend per provider in the real Redis, under a key prefix of its own.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetDay, RedisBudgetStore } from "../../kv/llm-budget.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const prefix = uniquePrefix();
let redis: Redis;
let store: RedisBudgetStore;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  store = new RedisBudgetStore(redis, prefix);
});
afterAll(async () => {
  await deleteKeys(prefix);
  redis.disconnect();
});

describe("RedisBudgetStore", () => {
  it("starts a day at zero", async () => {
    expect(await store.get("gemini", "2026-03-29")).toEqual({ tokens: 0, cost: 0 });
  });

  it("adds up tokens and cost per provider and day", async () => {
    await store.add("gemini", "2026-03-29", 1_200, 0.0015);
    const total = await store.add("gemini", "2026-03-29", 800, 0.0005);
    expect(total.tokens).toBe(2_000);
    expect(total.cost).toBeCloseTo(0.002, 10);
    expect(await store.get("gemini", "2026-03-29")).toEqual(total);
    expect(await store.get("claude", "2026-03-29")).toEqual({ tokens: 0, cost: 0 });
    expect(await store.get("gemini", "2026-03-30")).toEqual({ tokens: 0, cost: 0 });
  });

  it("counts concurrent additions exactly", async () => {
    await Promise.all(Array.from({ length: 50 }, () => store.add("claude", "2026-03-29", 10, 0.01)));
    const total = await store.get("claude", "2026-03-29");
    expect(total.tokens).toBe(500);
    expect(total.cost).toBeCloseTo(0.5, 10);
  });

  it("lets the keys expire after two days", async () => {
    await store.add("ollama", "2026-03-29", 1, 0);
    const keys = await redis.keys(`${prefix}:ai:budget:ollama:2026-03-29:*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(2 * 24 * 3600 - 60);
      expect(ttl).toBeLessThanOrEqual(2 * 24 * 3600);
    }
  });

  it("names the budget day in UTC", () => {
    expect(budgetDay(Date.parse("2026-03-29T23:30:00-02:00"))).toBe("2026-03-30");
  });
});

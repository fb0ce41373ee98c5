// The shared counters behind storm-proof delivery, on the real Redis.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatBudget, promotionLimit, StormGate } from "../../handlers/storm.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

const prefix = uniquePrefix();
let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});

describe("ChatBudget", () => {
  it("keeps the last slots of a group's minute for urgent sends", async () => {
    const budget = new ChatBudget(redis, `${prefix}:a`, { groupPerMinute: 6, privatePerMinute: 60 });
    expect(await budget.take("-100")).toBe(0);
    expect(await budget.take("-100")).toBe(0);
    const wait = await budget.take("-100");
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_001);
    for (let slot = 0; slot < 4; slot++) expect(await budget.take("-100", "urgent")).toBe(0);
    expect(await budget.take("-100", "urgent")).toBeGreaterThan(0);
  });

  it("counts each chat on its own, with the private chat limit for user ids", async () => {
    const budget = new ChatBudget(redis, `${prefix}:b`, { groupPerMinute: 5, privatePerMinute: 6 });
    expect(await budget.take("-200")).toBe(0);
    expect(await budget.take("-200")).toBeGreaterThan(0);
    expect(await budget.take("1001")).toBe(0);
    expect(await budget.take("1001")).toBe(0);
    expect(await budget.take("1001")).toBeGreaterThan(0);
  });
});

describe("StormGate", () => {
  it("gives the first `threshold` incidents of a window their own card and folds the rest", async () => {
    const gate = new StormGate(redis, `${prefix}:c`, { threshold: 2, windowSeconds: 60 });
    expect(await gate.arrive("-1", "INC-1")).toBe(true);
    expect(await gate.arrive("-1", "INC-2")).toBe(true);
    expect(await gate.arrive("-1", "INC-3")).toBe(false);
    // an incident asked again keeps its decision, and is counted once
    expect(await gate.arrive("-1", "INC-1")).toBe(true);
    expect(await gate.arrive("-1", "INC-3")).toBe(false);
    expect(await gate.arrivals("-1")).toBe(3);
    // another chat has its own count
    expect(await gate.arrive("-2", "INC-3")).toBe(true);
  });

  it("ends the window after its seconds", async () => {
    const gate = new StormGate(redis, `${prefix}:d`, { threshold: 1, windowSeconds: 1 });
    expect(await gate.arrive("-1", "INC-1")).toBe(true);
    expect(await gate.arrive("-1", "INC-2")).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await gate.arrivals("-1")).toBe(0);
    expect(await gate.arrive("-1", "INC-4")).toBe(true);
  });

  it("allows only a few promotions per window", async () => {
    expect(promotionLimit(10)).toBe(5);
    expect(promotionLimit(1)).toBe(1);
    const gate = new StormGate(redis, `${prefix}:e`, { threshold: 4, windowSeconds: 60 });
    expect(await gate.promote("-1", "INC-1")).toBe(true);
    expect(await gate.promote("-1", "INC-2")).toBe(true);
    expect(await gate.promote("-1", "INC-3")).toBe(false);
  });
});

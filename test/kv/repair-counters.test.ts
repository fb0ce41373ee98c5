import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepairCountersStore } from "../../kv/repair-counters.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const LIMITS = { maxPerHour: 5, maxPerResourcePerHour: 3 };
let first: Redis;
let second: Redis;
const prefix = uniquePrefix();

beforeAll(() => {
  first = new Redis(TEST_REDIS_URL);
  second = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  first.disconnect();
  second.disconnect();
  await deleteKeys(prefix);
});

describe("RepairCountersStore", () => {
  it("shares the hourly budget between processes and never hands out more than it holds", async () => {
    const mine = new RepairCountersStore(first, `${prefix}:a`);
    const theirs = new RepairCountersStore(second, `${prefix}:a`);
    // another process spends the budget, ten attempts racing for five slots
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 === 0 ? mine : theirs).reserve(`Deployment/ns/app-${index}`, LIMITS),
      ),
    );
    expect(attempts.filter((attempt) => attempt.reserved)).toHaveLength(5);
    expect(await mine.read("Deployment/ns/other")).toEqual({
      lastHour: 5,
      resourceLastHour: 0,
      cooldownSeconds: 0,
    });
    expect((await mine.reserve("Deployment/ns/other", LIMITS)).reserved).toBe(false);
  });

  it("limits repairs per resource, gives a released slot back, and forgets after an hour", async () => {
    let now = 1_000_000;
    const store = new RepairCountersStore(first, `${prefix}:b`, () => now);
    const key = "Deployment/awoooi-prod/awoooi-api";
    const taken = [];
    for (let i = 0; i < 4; i++) taken.push(await store.reserve(key, LIMITS));
    expect(taken.map((attempt) => attempt.reserved)).toEqual([true, true, true, false]);
    await taken[0]?.release();
    expect((await store.read(key)).resourceLastHour).toBe(2);
    now += 3_600_001;
    expect(await store.read(key)).toEqual({ lastHour: 0, resourceLastHour: 0, cooldownSeconds: 0 });
  });

  it("refuses every automatic repair of a resource while it cools off after a failure", async () => {
    const store = new RepairCountersStore(first, `${prefix}:c`);
    await store.startCooldown("Container/-/postgres", 600);
    const attempt = await store.reserve("Container/-/postgres", LIMITS);
    expect(attempt.reserved).toBe(false);
    expect(attempt.counters.cooldownSeconds).toBeGreaterThan(590);
    expect((await store.reserve("Container/-/redis", LIMITS)).reserved).toBe(true);
  });
});

// The chat send budget on the real Redis: each chat is paced (a short burst, then about one send
// a second) as well as held to its minute, and a refused take costs nothing.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatBudget, TELEGRAM_BUDGET } from "../../kv/chat-budget.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const prefix = uniquePrefix();
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});

describe("ChatBudget pacing", () => {
  it("lets Telegram's burst of three through per chat, then asks to wait less than the pace window", async () => {
    const budget = new ChatBudget(redis, `${prefix}:pace`, TELEGRAM_BUDGET);
    for (let i = 0; i < 3; i++) expect(await budget.take("-1001")).toBe(0);
    const wait = await budget.take("-1001");
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(3_001);
    // urgent sends (storm card, escalations, a new P0) are not held by the pace, nor counted in it
    expect(await budget.take("-1001", "urgent")).toBe(0);
    expect(await redis.zcard(`${prefix}:pace:pace:-1001`)).toBe(3);
    // another chat, private or group, has its own pace
    expect(await budget.take("-1002")).toBe(0);
    for (let i = 0; i < 3; i++) expect(await budget.take("4242")).toBe(0);
    expect(await budget.take("4242")).toBeGreaterThan(0);
  });

  it("waits for the minute when the minute is what is full, and charges nothing for a refused take", async () => {
    const budget = new ChatBudget(redis, `${prefix}:minute`, {
      groupPerMinute: 6,
      privatePerMinute: 60,
      paceBurst: 10,
      paceWindowMs: 3_000,
    });
    // 6 per minute, 4 of them for normal sends
    expect(await budget.take("-2001")).toBe(0);
    expect(await budget.take("-2001")).toBe(0);
    const wait = await budget.take("-2001");
    expect(wait).toBeGreaterThan(59_000);
    // the refused take left no trace: urgent sends still find their 4 slots
    for (let i = 0; i < 4; i++) expect(await budget.take("-2001", "urgent")).toBe(0);
    expect(await redis.zcard(`${prefix}:minute:pace:-2001`)).toBe(2);
  });

  it("keeps the last slot of each pace window from edits, for a new card", async () => {
    const budget = new ChatBudget(redis, `${prefix}:edits`, TELEGRAM_BUDGET);
    expect(await budget.take("-4001", "edit")).toBe(0);
    expect(await budget.take("-4001", "edit")).toBe(0);
    expect(await budget.take("-4001", "edit")).toBeGreaterThan(0);
    expect(await budget.take("-4001")).toBe(0);
    expect(await budget.take("-4001")).toBeGreaterThan(0);
  });

  it("applies no pace when none is configured", async () => {
    const budget = new ChatBudget(redis, `${prefix}:nopace`, { groupPerMinute: 60, privatePerMinute: 60 });
    for (let i = 0; i < 10; i++) expect(await budget.take("-3001")).toBe(0);
  });
});

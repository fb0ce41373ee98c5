// The record of open Snooze and Silence choices on a real Redis: per message of a chat, closed by a
// decision or Cancel, and forgotten after its window so that a card left with its choices open
// gets its own buttons back at its next edit.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenChoices } from "../../kv/open-choices.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let redis: Redis;
const prefix = uniquePrefix();

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteKeys(prefix);
  redis.disconnect();
});

describe("OpenChoices", () => {
  it("keeps one verb per message of a chat until it is closed", async () => {
    const choices = new OpenChoices(redis, prefix);
    await choices.open(-1001, 7, "silence");
    await choices.open("-1001", 8, "snooze");
    expect(await choices.shown("-1001", 7)).toBe("silence");
    expect(await choices.shown(-1001, 8)).toBe("snooze");
    // another chat's message 7 is another card
    expect(await choices.shown(-1002, 7)).toBeUndefined();
    await choices.open(-1001, 7, "snooze");
    expect(await choices.shown(-1001, 7)).toBe("snooze");
    await choices.close(-1001, 7);
    expect(await choices.shown(-1001, 7)).toBeUndefined();
    expect(await choices.shown(-1001, 8)).toBe("snooze");
  });

  it("forgets choices left open longer than the window", async () => {
    // a one-second window, so the test waits for Redis's own expiry rather than a clock of ours
    const choices = new OpenChoices(redis, prefix, 1);
    await choices.open(-1001, 9, "silence");
    expect(await redis.ttl(`${prefix}:choices:-1001:9`)).toBe(1);
    await expect.poll(() => choices.shown(-1001, 9), { timeout: 3_000, interval: 100 }).toBeUndefined();
  });

  it("reads anything but a verb it wrote as nothing open", async () => {
    const choices = new OpenChoices(redis, prefix);
    await redis.set(`${prefix}:choices:-1001:10`, "approve");
    expect(await choices.shown(-1001, 10)).toBeUndefined();
  });
});

// The record of open Snooze and Silence choices on a real Redis: per message of a chat, with the
// proposal the card showed, closed by a decision or Cancel, and forgotten after its window so that
// a card left with its choices open gets its own buttons back at its next edit.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenChoices } from "../../kv/open-choices.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let redis: Redis;
const prefix = uniquePrefix();
const approve = "v1:approve:INC-20261204-0001:#a v1:reject:INC-20261204-0001:#a";

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteKeys(prefix);
  redis.disconnect();
});

describe("OpenChoices", () => {
  it("keeps one record per message of a chat until it is closed", async () => {
    const choices = new OpenChoices(redis, prefix);
    await choices.open(-1001234567890, 7, { verb: "silence", proposal: approve });
    await choices.open("-1001234567890", 8, { verb: "snooze", proposal: "" });
    // the bot's chat ids are numbers, the notifier's strings (from the database): one record
    expect(await choices.shown("-1001234567890", 7)).toEqual({ verb: "silence", proposal: approve });
    expect(await choices.shown(-1001234567890, 8)).toEqual({ verb: "snooze", proposal: "" });
    // another chat's message 7 is another card
    expect(await choices.shown(-1002, 7)).toBeUndefined();
    await choices.open(-1001234567890, 7, { verb: "snooze", proposal: approve });
    expect((await choices.shown(-1001234567890, 7))?.verb).toBe("snooze");
    await choices.close(-1001234567890, 7);
    expect(await choices.shown(-1001234567890, 7)).toBeUndefined();
    expect(await choices.shown(-1001234567890, 8)).toBeDefined();
  });

  it("forgets choices left open longer than the window", async () => {
    // a one-second window, so the test waits for Redis's own expiry rather than a clock of ours
    const choices = new OpenChoices(redis, prefix, 1);
    await choices.open(-1001, 9, { verb: "silence", proposal: "" });
    const left = await redis.pttl(`${prefix}:choices:-1001:9`);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(1_000);
    await expect.poll(() => choices.shown(-1001, 9), { timeout: 3_000, interval: 100 }).toBeUndefined();
  });

  it("reads a value it did not write as nothing open", async () => {
    const choices = new OpenChoices(redis, prefix);
    for (const [message, value] of [
      [10, "silence"],
      [11, JSON.stringify({ verb: "approve", proposal: "" })],
      [12, JSON.stringify({ verb: "snooze" })],
    ] as const) {
      await redis.set(`${prefix}:choices:-1001:${message}`, value);
      expect(await choices.shown(-1001, message)).toBeUndefined();
    }
  });
});

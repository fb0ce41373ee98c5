// The card lock: one sync of an incident's card at a time, renewed and released only by its
// holder, and lapsing on its own when the holder stops renewing (a killed worker), so the next
// change of the card waits for seconds, not for the longest sync.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CardLocks } from "../../kv/card-lock.js";
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

describe("CardLocks", () => {
  it("has one holder per incident; only the holder renews or releases it", async () => {
    const locks = new CardLocks(redis, prefix);
    const holder = await locks.acquire("INC-1", 10_000);
    expect(holder).toBeDefined();
    expect(await locks.acquire("INC-1", 10_000)).toBeUndefined();
    expect(await locks.acquire("INC-2", 10_000)).toBeDefined(); // another incident: its own lock

    expect(await locks.renew("INC-1", "not-the-holder", 60_000)).toBe(false);
    expect(await redis.pttl(`${prefix}:lock:card:INC-1`)).toBeLessThanOrEqual(10_000);
    expect(await locks.renew("INC-1", holder ?? "", 60_000)).toBe(true);
    expect(await redis.pttl(`${prefix}:lock:card:INC-1`)).toBeGreaterThan(10_000);

    await locks.release("INC-1", "not-the-holder");
    expect(await locks.acquire("INC-1", 10_000)).toBeUndefined();
    await locks.release("INC-1", holder ?? "");
    const next = await locks.acquire("INC-1", 10_000);
    expect(next).toBeDefined();
    expect(await locks.renew("INC-1", holder ?? "", 10_000)).toBe(false); // lapsed holders stay out
  });

  it("lapses when its holder stops renewing, as a killed worker does", async () => {
    const locks = new CardLocks(redis, prefix);
    expect(await locks.acquire("INC-3", 200)).toBeDefined();
    expect(await locks.acquire("INC-3", 200)).toBeUndefined();
    await expect.poll(() => locks.acquire("INC-3", 10_000), { timeout: 5_000, interval: 50 }).toBeDefined();
  });
});

// The poller lease: one holder at a time among processes, renewed and released only by its holder,
// lapsing on its own when the holder stops renewing (a killed process), and per bot.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PollerLease } from "../../kv/poller-lease.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const BOT = 123456;
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

describe("PollerLease", () => {
  it("has one holder at a time; only the holder renews or releases it", async () => {
    const mine = new PollerLease(first, `${prefix}:a`, BOT);
    const theirs = new PollerLease(second, `${prefix}:a`, BOT);
    const taken = await Promise.all([mine.acquire(10_000), theirs.acquire(10_000)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    const [holder, standby] = taken[0] === true ? [mine, theirs] : [theirs, mine];

    expect(await holder.acquire(10_000)).toBe(true); // its own lease: renewed
    expect(await holder.renew(10_000)).toBe(true);
    expect(await standby.renew(10_000)).toBe(false);
    await standby.release(); // not its lease: nothing happens
    expect(await standby.acquire(10_000)).toBe(false);

    await holder.release();
    expect(await standby.acquire(10_000)).toBe(true);
    expect(await holder.renew(10_000)).toBe(false);
  });

  it("lapses when its holder stops renewing, and the standby takes it", async () => {
    const dead = new PollerLease(first, `${prefix}:b`, BOT);
    const standby = new PollerLease(second, `${prefix}:b`, BOT);
    expect(await dead.acquire(150)).toBe(true);
    expect(await standby.acquire(150)).toBe(false);
    await expect.poll(() => standby.acquire(10_000), { timeout: 5_000, interval: 50 }).toBe(true);
    // the former holder finds out at its next renewal
    expect(await dead.renew(10_000)).toBe(false);
  });

  it("renews for the full time to live asked, not the first one", async () => {
    const lease = new PollerLease(first, `${prefix}:c`, BOT);
    expect(await lease.acquire(1_000)).toBe(true);
    expect(await lease.renew(60_000)).toBe(true);
    const ttl = await first.pttl(`${prefix}:c:lease:telegram-poller:${BOT}`);
    expect(ttl).toBeGreaterThan(30_000);
  });

  it("is one lease per bot: another bot's poller is not held back", async () => {
    const one = new PollerLease(first, `${prefix}:d`, BOT);
    const other = new PollerLease(second, `${prefix}:d`, BOT + 1);
    expect(await one.acquire(10_000)).toBe(true);
    expect(await other.acquire(10_000)).toBe(true);
  });
});

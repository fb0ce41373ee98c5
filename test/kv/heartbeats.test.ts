// The dead-man's switch's memory on a real Redis: a silence is marked once however many
// processes check, and the mark stays until the resolution is recorded, so a heartbeat processed
// twice (an ingest job retried) still finds it and resolves the incident.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeartbeatStore } from "../../kv/heartbeats.js";
import { SentryReplayGuard } from "../../kv/sentry-replay.js";
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

describe("HeartbeatStore", () => {
  it("marks a silence once, and keeps it until it is cleared", async () => {
    const store = new HeartbeatStore(redis, `${prefix}:hb`);
    const last = new Date("2026-12-04T01:00:00Z");
    expect(await store.beat("Watchdog", last)).toEqual({});
    expect(await store.read()).toEqual([{ name: "Watchdog", lastSeenAt: last }]);

    const marks = await Promise.all([store.markSilent("Watchdog", last), store.markSilent("Watchdog", last)]);
    expect(marks.filter(Boolean)).toHaveLength(1);
    expect(await store.read()).toEqual([{ name: "Watchdog", lastSeenAt: last, silentSince: last }]);

    const back = new Date("2026-12-04T01:30:00Z");
    expect(await store.beat("Watchdog", back)).toEqual({ silentSince: last });
    // the same delivery again (its job retried before the resolution was recorded)
    expect(await store.beat("Watchdog", back)).toEqual({ silentSince: last });
    await store.clearSilent("Watchdog");
    expect(await store.beat("Watchdog", back)).toEqual({});
    expect(await store.read()).toEqual([{ name: "Watchdog", lastSeenAt: back }]);
  });
});

describe("SentryReplayGuard", () => {
  it("lets a Request-ID through once, and again after a release", async () => {
    const guard = new SentryReplayGuard(redis, `${prefix}:sr`, 600);
    expect(await guard.claim("abc")).toBe("first");
    expect(await guard.claim("abc")).toBe("seen");
    await guard.release("abc");
    expect(await guard.claim("abc")).toBe("first");
    expect(await redis.ttl(`${prefix}:sr:sentry-request:abc`)).toBeGreaterThan(590);
  });
});

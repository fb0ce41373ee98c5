// CLEAR_CACHE against the real Redis: DB 13 is the configured cache, DB 14 a bystander.
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearCache, redisTargetClients, type ClearCacheDeps } from "../../executors/clear-cache.js";
import { parseTargets } from "../../executors/targets.js";
import { TEST_REDIS_URL } from "../../dev/redis.js";

const url = (db: number) => `${TEST_REDIS_URL.replace(/\/\d*$/, "")}/${db}`;
const targets = parseTargets(
  `clear_cache:\n  sessions: { url: "${url(13)}", aliases: [redis-sessions] }\n  unreachable: { url: "redis://127.0.0.1:1/0" }\n`,
  "test.yaml",
).clear_cache;

let clients: ReturnType<typeof redisTargetClients>;
let deps: ClearCacheDeps;
let cache: Redis;
let bystander: Redis;

beforeAll(() => {
  clients = redisTargetClients(targets);
  deps = { targets, client: clients.client };
  cache = new Redis(url(13));
  bystander = new Redis(url(14));
});
afterAll(async () => {
  await cache.flushdb();
  await bystander.flushdb();
  await clients.close();
  cache.disconnect();
  bystander.disconnect();
});
beforeEach(async () => {
  await cache.flushdb();
  await cache.mset("session:1", "a", "session:2", "b", "session:3", "c");
  await bystander.flushdb();
  await bystander.set("keep", "me");
});

describe("CLEAR_CACHE", () => {
  it("flushes the configured database only, and verify sees it empty", async () => {
    const p = clearCache.params.parse({ target: "sessions" });
    expect(await clearCache.guard(deps, p)).toEqual({ ok: true });
    const result = await clearCache.execute(deps, p, { dryRun: false });
    expect(result.changed).toBe(true);
    expect(result.before).toEqual({ target: "sessions", dbsize: 3 });
    expect(result.calls).toEqual([
      {
        api: "redis",
        method: "FLUSHDB",
        args: { target: "sessions", database: expect.stringMatching(/\/13$/) as unknown },
      },
    ]);
    expect(await cache.dbsize()).toBe(0);
    expect(await bystander.get("keep")).toBe("me");
    expect(await clearCache.verify(deps, p, result)).toMatchObject({ outcome: "recovered" });
  });

  it("accepts an alias the alerts use for the database", async () => {
    const p = clearCache.params.parse({ target: "redis-sessions" });
    expect(await clearCache.guard(deps, p)).toEqual({ ok: true });
    await clearCache.execute(deps, p, { dryRun: false });
    expect(await cache.dbsize()).toBe(0);
  });

  it("changes nothing in dry run and reports the call it would make", async () => {
    const p = clearCache.params.parse({ target: "sessions" });
    const result = await clearCache.execute(deps, p, { dryRun: true });
    expect(result.changed).toBe(false);
    expect(result.calls[0]).toMatchObject({ method: "FLUSHDB", args: { target: "sessions" } });
    expect(await cache.dbsize()).toBe(3);
    expect(await clearCache.verify(deps, p, result)).toMatchObject({ outcome: "pending" });
  });

  it("refuses a target that is not configured, naming the configured ones", async () => {
    expect(await clearCache.guard(deps, { target: "redis" })).toEqual({
      ok: false,
      rule: "configured_target",
      reason: "redis is not a configured Redis target (configured: sessions, unreachable)",
      said: { code: "cache_unlisted", target: "redis", configured: "sessions, unreachable" },
    });
    await expect(clearCache.execute(deps, { target: "redis" }, { dryRun: false })).rejects.toThrow(
      "not a configured Redis target",
    );
    expect(await cache.dbsize()).toBe(3);
  });

  it("refuses a configured target that does not answer", async () => {
    const verdict = await clearCache.guard(deps, { target: "unreachable" });
    expect(verdict).toMatchObject({ ok: false, rule: "target_reachable" });
  });

  it("takes no URL, database number or command from params", () => {
    expect(clearCache.params.safeParse({ target: "sessions", url: "redis://evil/0" }).success).toBe(false);
    expect(clearCache.params.safeParse({ target: "sessions; FLUSHALL" }).success).toBe(false);
    expect(clearCache.params.safeParse({ target: "../0" }).success).toBe(false);
  });
});

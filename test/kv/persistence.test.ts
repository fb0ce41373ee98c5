// Whether Redis keeps what the bot hands it, read from real Redis servers started as each mode.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { answers } from "../../app/local-services.js";
import { startRuntime } from "../../app/runtime.js";
import { testEnv } from "../../dev/env.js";
import { freePort } from "../../dev/processes.js";
import { redisPersistence } from "../../kv/persistence.js";
import { parseConfig } from "../../registry/config.js";

const servers: { child: ChildProcess; dir: string }[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.child.kill("SIGKILL");
    await rm(server.dir, { recursive: true, force: true });
  }
});

/** A private redis-server with `args`, connected. */
async function redisWith(args: string[]): Promise<{ redis: Redis; url: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "chatops-redis-"));
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...args],
    {
      stdio: "ignore",
    },
  );
  servers.push({ child, dir });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await answers("127.0.0.1", port))) {
    if (Date.now() > deadline) throw new Error(`redis-server ${args.join(" ")} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const redis = new Redis(url);
  return { redis, url };
}

describe("redisPersistence", () => {
  it.each([
    [["--appendonly", "yes", "--save", ""], "aof"],
    [["--appendonly", "no", "--save", "60 1"], "rdb"],
    [["--appendonly", "no", "--save", ""], "none"],
  ])("reads %j as %s", async (args, mode) => {
    const { redis } = await redisWith(args);
    try {
      expect((await redisPersistence(redis)).mode).toBe(mode);
    } finally {
      redis.disconnect();
    }
  });

  it("falls back to INFO where CONFIG is forbidden, as on managed Redis", async () => {
    const { redis } = await redisWith(["--appendonly", "yes", "--rename-command", "CONFIG", ""]);
    try {
      expect(await redisPersistence(redis)).toEqual({ mode: "aof", detail: "appendonly yes (from INFO)" });
    } finally {
      redis.disconnect();
    }
  });
});

describe("REQUIRE_DURABLE_REDIS", () => {
  it("stops start-up on a Redis that keeps nothing on disk, saying what to set", async () => {
    const { redis, url } = await redisWith(["--appendonly", "no", "--save", ""]);
    redis.disconnect();
    const config = parseConfig(
      testEnv({ REDIS_URL: url, REQUIRE_DURABLE_REDIS: "true", PORT: "0", HOST: "127.0.0.1" }),
    );
    const error = await startRuntime(config, { logger: pino({ level: "silent" }) }).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toBe(
      `Redis at 127.0.0.1:${new URL(url).port} (REDIS_URL): appendonly no and no snapshots: it keeps nothing on disk, and REQUIRE_DURABLE_REDIS is set; set \`appendonly yes\` (see the README's Redis settings)`,
    );
  });

  it("without it, starts anyway and health warns", async () => {
    const { redis, url } = await redisWith(["--appendonly", "no", "--save", ""]);
    redis.disconnect();
    const config = parseConfig(testEnv({ REDIS_URL: url, PORT: "0", HOST: "127.0.0.1", ROLES: "http" }));
    const runtime = await startRuntime(config, { logger: pino({ level: "silent" }) });
    try {
      const health = (await (await fetch(`${runtime.url}/api/v1/health`)).json()) as { warnings: string[] };
      expect(health.warnings).toEqual([
        "Redis: appendonly no and no snapshots: it keeps nothing on disk; accepted alerts not yet processed are lost if it restarts",
      ]);
    } finally {
      await runtime.close();
    }
  });

  it("starts on an append-only Redis", async () => {
    const { redis, url } = await redisWith(["--appendonly", "yes"]);
    redis.disconnect();
    const config = parseConfig(
      testEnv({ REDIS_URL: url, REQUIRE_DURABLE_REDIS: "true", PORT: "0", HOST: "127.0.0.1", ROLES: "http" }),
    );
    const runtime = await startRuntime(config, { logger: pino({ level: "silent" }) });
    await runtime.close();
  });
});

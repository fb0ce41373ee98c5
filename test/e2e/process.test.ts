// `npm start` as a real process: a bad setting stops it with one line; SIGTERM loses nothing.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { openProcessBed, type ProcessBed } from "../../dev/process-bed.js";
import { testEnv } from "../../dev/env.js";
import { freePort, waitForHttp } from "../../dev/processes.js";
import { deleteKeys, uniquePrefix } from "../../dev/redis.js";
import { alertmanagerAuth, startStack } from "../../dev/stack.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What `npm start` runs: one node process with tsx as a loader, so signals reach the bot itself. */
function startBot(env: Record<string, string | undefined>, cwd = ROOT) {
  // tsx by its full path: `--import tsx` resolves from the working directory, which may be elsewhere
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), `${ROOT}main.ts`], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exit, output: () => ({ stdout, stderr }) };
}

describe("npm start", () => {
  it("refuses to start without a required setting, naming it in one line", async () => {
    const bot = startBot(testEnv({ TELEGRAM_BOT_TOKEN: undefined, PORT: "not-a-port" }));
    expect(await bot.exit).toBe(78);
    const lines = bot.output().stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("TELEGRAM_BOT_TOKEN is required");
    expect(lines[0]).toContain("PORT must be an integer");
  });

  it("reads .env from its directory, and a test run never does (ENV_FILE=off)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chatops-env-"));
    const prefix = uniquePrefix();
    try {
      await writeFile(path.join(dir, ".env"), "PORT=not-a-port\n");
      // its own queues, and a Bot API that refuses at once: the workers' thread it starts drains and
      // stops with the process, with nothing of another run's to work on and nothing leaving loopback
      const env = testEnv({
        REGISTRY_PATH: `${ROOT}registry/services.yaml`,
        REDIS_PREFIX: prefix,
        TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}`,
      });
      const withEnvFile = startBot({ ...env, ENV_FILE: undefined }, dir);
      expect(await withEnvFile.exit).toBe(78);
      expect(withEnvFile.output().stderr).toContain("PORT must be an integer");
      const port = await freePort();
      const ignoring = startBot({ ...env, PORT: String(port), HOST: "127.0.0.1" }, dir);
      await waitForHttp(`http://127.0.0.1:${port}/api/v1/health`, 20_000, ignoring.child);
      ignoring.child.kill("SIGTERM");
      expect(await ignoring.exit).toBe(0);
    } finally {
      await deleteKeys(prefix);
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe("on SIGTERM", () => {
    // Telegram's limits lifted: this test is about shutdown, not flood control
    let bed: ProcessBed;
    beforeAll(async () => {
      bed = await openProcessBed();
    });
    afterAll(async () => {
      await bed.close();
    });

    it(
      "stops taking requests, finishes in-flight work, and loses no accepted alert",
      { timeout: 150_000 },
      async () => {
        const port = await freePort();
        const bot = startBot(bed.env(port));
        const url = `http://127.0.0.1:${port}`;
        // start-up under tsx takes 11-16 s at load 12 (README): this test is about stopping
        await waitForHttp(`${url}/api/v1/health`, 60_000, bot.child);

        // 40 payloads of 10 alerts; SIGTERM lands while they are arriving.
        let accepted = 0;
        const statuses: number[] = [];
        const sends = Array.from({ length: 40 }, async (_, index) => {
          await new Promise((resolve) => setTimeout(resolve, index * 5));
          const response = await fetch(`${url}/api/v1/webhooks/alertmanager`, {
            method: "POST",
            headers: { "content-type": "application/json", ...alertmanagerAuth },
            body: JSON.stringify(alertmanagerPayload({ fingerprint: `term-${index}`, count: 10 })),
          }).catch(() => undefined); // connection refused once the listener is closed: the sender retries later
          if (response === undefined) return;
          statuses.push(response.status);
          if (response.status === 202) accepted += 10;
        });
        await new Promise((resolve) => setTimeout(resolve, 60));
        bot.child.kill("SIGTERM");
        const termAt = Date.now();
        await Promise.all(sends);
        // accepted, or refused with a retryable 503 while shutting down; never anything else
        expect(statuses.filter((status) => status !== 202 && status !== 503)).toEqual([]);
        expect(await bot.exit).toBe(0);
        expect(Date.now() - termAt).toBeLessThan(10_000);
        expect(accepted).toBeGreaterThan(0);

        // Whatever was accepted but not processed is still queued: a new process finishes it.
        const stack = await startStack({
          env: { DATABASE_URL: bed.db.url, REDIS_PREFIX: bed.prefix, ROLES: "worker" },
        });
        try {
          await expect
            .poll(
              async () =>
                (await bed.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM alerts")).rows[0]?.n,
              {
                timeout: 20_000,
                interval: 100,
              },
            )
            .toBe(accepted);
        } finally {
          await stack.runtime.close();
          await stack.telegram.close();
        }
      },
    );
  });
});

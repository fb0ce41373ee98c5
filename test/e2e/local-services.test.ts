// `npm start` on a machine with no Redis and no PostgreSQL configured: the bot brings up its own,
// in its data directory, on free ports; the next start reuses them with what they hold; both stop
// with the bot. Configured URLs are never replaced.
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answers } from "../../app/local-services.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { testEnv, TEST_SECRETS } from "../../dev/env.js";
import { freePort, waitForHttp } from "../../dev/processes.js";
import { alertmanagerAuth, postJson } from "../../dev/stack.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const ROOT = new URL("../..", import.meta.url).pathname;

function startBot(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ["--import", "tsx", "main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exit, output: () => output };
}

let dir: string;
let telegram: TelegramEmulator;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "chatops-local-"));
  // PostgreSQL runs as its own account when the tests run as root: it must reach the directory
  await chmod(dir, 0o755);
  telegram = new TelegramEmulator({ token: TEST_SECRETS.telegramToken });
  await telegram.start();
});
afterAll(async () => {
  await telegram.close();
  await rm(dir, { recursive: true, force: true });
});

describe("npm start with nothing configured", () => {
  it(
    "starts its own Redis and PostgreSQL in its data directory, reuses them, and stops them with the bot",
    { timeout: 180_000 },
    async () => {
      const env = async () => {
        const port = await freePort();
        return {
          url: `http://127.0.0.1:${port}`,
          env: testEnv({
            LOCAL_SERVICES: "on",
            LOCAL_DATA_DIR: dir,
            REDIS_URL: undefined,
            TELEGRAM_API_ROOT: telegram.apiRoot,
            PORT: String(port),
            HOST: "127.0.0.1",
            LOG_LEVEL: "info",
          }),
        };
      };
      const first = await env();
      const bot = startBot(first.env);
      await waitForHttp(`${first.url}/api/v1/health`, 120_000, bot.child);
      expect(bot.output()).toContain(
        `using the bot's own Redis and PostgreSQL in ${dir} (stopped with the bot); set REDIS_URL and DATABASE_URL to use your own servers`,
      );
      const ports = JSON.parse(await readFile(path.join(dir, "ports.json"), "utf8")) as {
        postgres: number;
        redis: number;
      };
      expect(ports.postgres).not.toBe(5432);
      expect(ports.redis).not.toBe(6379);
      const alert = alertmanagerPayload({ fingerprint: "local-1" });
      expect(
        (await postJson(`${first.url}/api/v1/webhooks/alertmanager`, alert, alertmanagerAuth)).status,
      ).toBe(202);
      const incidents = async (url: string) => {
        const response = await fetch(`${url}/api/v1/incidents`, {
          headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
        });
        return ((await response.json()) as { incidents: unknown[] }).incidents.length;
      };
      await expect.poll(() => incidents(first.url), { timeout: 20_000 }).toBe(1);

      bot.child.kill("SIGTERM");
      expect(await bot.exit).toBe(0);
      expect(await answers("127.0.0.1", ports.redis)).toBe(false);
      expect(await answers("127.0.0.1", ports.postgres)).toBe(false);

      // The next start finds the same data.
      const second = await env();
      const again = startBot(second.env);
      await waitForHttp(`${second.url}/api/v1/health`, 120_000, again.child);
      expect(await incidents(second.url)).toBe(1);
      again.child.kill("SIGTERM");
      expect(await again.exit).toBe(0);
    },
  );

  it("never replaces a configured URL", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const unused = await freePort();
    const bot = startBot(
      testEnv({
        LOCAL_SERVICES: "on",
        LOCAL_DATA_DIR: dir,
        REDIS_URL: `redis://127.0.0.1:${unused}`,
        DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/test",
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
      }),
    );
    // REDIS_URL points nowhere: the bot waits for it (and says so) rather than starting its own
    await expect
      .poll(() => bot.output(), { timeout: 30_000 })
      .toContain(`Redis at 127.0.0.1:${unused} (REDIS_URL) is unreachable; retrying`);
    expect(bot.output()).not.toContain("using the bot's own");
    bot.child.kill("SIGKILL");
    await bot.exit;
  });
});

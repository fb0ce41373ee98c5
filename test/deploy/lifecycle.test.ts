// The compiled process (`npm run build`, then `node dist/main.js` as `npm start` and the image run
// it) through a pod's life: it becomes ready, and on SIGTERM readiness turns 503 FIRST while
// liveness and intake still answer (so a Service stops sending before anything is refused), then
// it stops intake, drains and exits 0 within the time the manifests' grace period allows.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHUTDOWN_LIMIT_MS } from "../../app/infrastructure.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { buildDistIfStale, freePort, waitForHttp } from "../../dev/processes.js";
import { deleteKeys, uniquePrefix } from "../../dev/redis.js";
import { alertmanagerAuth, CHAT_ID, waitForChat } from "../../dev/stack.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Long enough to watch readiness fail while intake still answers, on a busy machine. */
const DELAY_SECONDS = 3;

function startCompiled(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [`${ROOT}dist/main.js`], {
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

/** Log messages in the order the process wrote them. */
function messages(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { msg?: string }).msg ?? "");
}

async function status(url: string): Promise<{ status: number; body: { status?: string } }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as { status?: string } };
}

let db: TestDatabase;
let telegram: TelegramEmulator;
const prefix = uniquePrefix();

beforeAll(async () => {
  buildDistIfStale();
  db = await createTestDatabase({ migrate: false });
  telegram = new TelegramEmulator({ token: "123456:TEST-TOKEN" });
  await telegram.start();
}, 180_000);

afterAll(async () => {
  await telegram.close();
  await deleteKeys(prefix);
  await db.drop();
});

function env(overrides: Record<string, string>): Record<string, string | undefined> {
  return testEnv({
    DATABASE_URL: db.url,
    REDIS_PREFIX: prefix,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHAT_ID: String(CHAT_ID),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    SHUTDOWN_DELAY_SECONDS: String(DELAY_SECONDS),
    ...overrides,
  });
}

describe("the compiled process on SIGTERM", () => {
  it(
    "turns readiness false first, keeps taking alerts during the delay, then drains and exits 0",
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/api/v1`;
      const bot = startCompiled(env({ PORT: String(port) }));
      await waitForHttp(`${url}/health`, 30_000, bot.child);
      expect(await status(`${url}/health`)).toMatchObject({ status: 200, body: { status: "ok" } });
      expect(await status(`${url}/health/live`)).toMatchObject({ status: 200, body: { status: "alive" } });
      // The compiled process serves the whole loop: an alert becomes a card.
      const first = await fetch(`${url}/webhooks/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json", ...alertmanagerAuth },
        body: JSON.stringify(alertmanagerPayload({ fingerprint: `life-${prefix}` })),
      });
      expect(first.status).toBe(202);
      await waitForChat(telegram, (chat) => chat.length === 1, 20_000);

      bot.child.kill("SIGTERM");
      const termAt = Date.now();
      await expect
        .poll(async () => (await status(`${url}/health`)).status, { timeout: 5_000, interval: 20 })
        .toBe(503);
      expect((await status(`${url}/health`)).body.status).toBe("draining");
      // Readiness is false, yet nothing has stopped: liveness answers and an alert is accepted.
      expect((await status(`${url}/health/live`)).status).toBe(200);
      const during = await fetch(`${url}/webhooks/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json", ...alertmanagerAuth },
        body: JSON.stringify(alertmanagerPayload({ fingerprint: `drain-${prefix}` })),
      });
      expect(during.status).toBe(202);
      expect(messages(bot.output())).not.toContain("shutting down");

      expect(await bot.exit).toBe(0);
      // Within the delay plus the shutdown limit, which the manifests' grace period exceeds
      // (test/deploy/kustomize.test.ts).
      expect(Date.now() - termAt).toBeLessThan(DELAY_SECONDS * 1000 + SHUTDOWN_LIMIT_MS);
      const log = messages(bot.output());
      const order = ["draining: readiness is false", "shutting down", "stopped"].map((line) =>
        log.indexOf(line),
      );
      expect(order.every((at) => at >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    },
  );

  it(
    "gives a worker its probes on HEALTH_PORT, readiness false first there too",
    { timeout: 90_000 },
    async () => {
      const healthPort = await freePort();
      const url = `http://127.0.0.1:${healthPort}/api/v1`;
      const worker = startCompiled(env({ ROLES: "worker", PORT: "0", HEALTH_PORT: String(healthPort) }));
      await waitForHttp(`${url}/health`, 30_000, worker.child);
      expect((await status(`${url}/health`)).status).toBe(200);
      // Health only: no API on the probe port.
      expect((await fetch(`${url}/incidents`)).status).toBe(404);

      worker.child.kill("SIGTERM");
      await expect
        .poll(async () => (await status(`${url}/health`)).status, { timeout: 5_000, interval: 20 })
        .toBe(503);
      expect((await status(`${url}/health/live`)).status).toBe(200);
      expect(messages(worker.output())).not.toContain("shutting down");
      expect(await worker.exit).toBe(0);
      expect(messages(worker.output())).toContain("stopped");
    },
  );
});

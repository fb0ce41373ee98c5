// PostgreSQL going away is weather, not death: on a private PostgreSQL server that the test stops,
// starts and whose connections it terminates, the bot stays up, webhooks keep queueing in Redis,
// health names the dependency that is down, the outage is logged once when it starts and once when
// it ends, and everything resumes by itself.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localPostgres, type LocalService } from "../../app/local-services.js";
import { startRuntime } from "../../app/runtime.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { testEnv } from "../../dev/env.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import { parseConfig } from "../../registry/config.js";

/** Log lines the runtime writes, parsed. */
function captured() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

let dir: string;
let postgres: LocalService;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "chatops-pg-"));
  // PostgreSQL runs as its own account when the tests run as root: it must reach the directory
  await chmod(dir, 0o755);
  postgres = await localPostgres(dir, process.env.PATH ?? "");
}, 120_000);
afterAll(async () => {
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
});

async function health(stack: Stack): Promise<{ status: number; body: { down?: string[] } }> {
  const response = await fetch(`${stack.url}/api/v1/health`);
  return { status: response.status, body: (await response.json()) as { down?: string[] } };
}

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const fire = (stack: Stack, fingerprint: string) =>
  postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint }),
    alertmanagerAuth,
  );

describe("a running bot when PostgreSQL restarts", () => {
  let stack: Stack;
  const log = captured();
  beforeAll(async () => {
    stack = await startStack({
      env: { DATABASE_URL: postgres.url },
      // Telegram's flood limits lifted: this file is about database-outage, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      telegram: { groupPerMinute: 1_000 },
      runtime: { logger: log.logger },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it("stays up, queues webhooks, says PostgreSQL is down, and catches up when it is back", async () => {
    expect((await fire(stack, "before")).status).toBe(202);
    await waitForChat(stack.telegram, (messages) => messages.length === 1, 15_000);
    // The card is recorded right after Telegram took it. PostgreSQL stopped in between would leave a
    // card the bot does not know it sent, posted again once PostgreSQL is back: rare and harmless in
    // life (a second card, never a lost one), but not what this test is about.
    await eventually(
      async () => {
        const client = new pg.Client({ connectionString: postgres.url });
        await client.connect();
        try {
          return (await client.query("SELECT 1 FROM telegram_messages")).rowCount === 1;
        } finally {
          await client.end();
        }
      },
      10_000,
      "card recorded",
    );

    await postgres.stop();
    await eventually(async () => (await health(stack)).status === 503, 10_000, "health degraded");
    expect((await health(stack)).body.down).toEqual(["postgres"]);
    // Redis holds what arrives meanwhile
    for (const fingerprint of ["during-1", "during-2", "during-3"])
      expect((await fire(stack, fingerprint)).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    await localPostgres(dir, process.env.PATH ?? "");
    await waitForChat(stack.telegram, (messages) => messages.length === 4, 60_000);
    await eventually(async () => (await health(stack)).status === 200, 10_000, "health ok again");

    const outage = log.lines.filter((line) => /PostgreSQL at .* \(DATABASE_URL\)/.test(line.msg));
    expect(outage.map((line) => line.msg.replace(/.*DATABASE_URL\) /, ""))).toEqual([
      "is unreachable; retrying",
      "is reachable again",
    ]);
  }, 120_000);

  it("survives its idle connections being terminated by the server", async () => {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'chatops-bot' AND pid <> pg_backend_pid()`,
      );
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    expect((await fire(stack, "after-terminate")).status).toBe(202);
    await waitForChat(stack.telegram, (messages) => messages.length === 5, 30_000);
  }, 60_000);
});

describe("a bot started while PostgreSQL is down", () => {
  it("waits for it instead of exiting, then starts", async () => {
    await postgres.stop();
    const log = captured();
    const config = parseConfig(testEnv({ DATABASE_URL: postgres.url, PORT: "0", HOST: "127.0.0.1" }));
    const starting = startRuntime(config, { logger: log.logger, startupWaitMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(log.lines.map((line) => line.msg)).toContain(
      `PostgreSQL at 127.0.0.1:${new URL(postgres.url).port}/postgres (DATABASE_URL) is unreachable; retrying`,
    );
    await localPostgres(dir, process.env.PATH ?? "");
    const runtime = await starting;
    await runtime.close();
  }, 90_000);

  it("gives up after its wait, naming the setting and the host but never the password", async () => {
    await postgres.stop();
    const url = new URL(postgres.url);
    url.username = "bot";
    url.password = "s3cret-pass";
    const config = parseConfig(testEnv({ DATABASE_URL: url.toString(), PORT: "0", HOST: "127.0.0.1" }));
    const error = await startRuntime(config, {
      logger: pino({ level: "silent" }),
      startupWaitMs: 1_500,
    }).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toMatch(
      new RegExp(
        `^PostgreSQL at 127\\.0\\.0\\.1:${url.port}/postgres \\(DATABASE_URL\\) is not reachable \\(.*ECONNREFUSED.*\\); gave up after 2 s$`,
      ),
    );
    expect(error?.message).not.toContain("s3cret-pass");
    await localPostgres(dir, process.env.PATH ?? "");
  }, 30_000);
});

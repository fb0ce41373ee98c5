// Every role more than once (issue 12 point 6).
//
// Webhook mode: two http, two worker and two bot runtimes share one Redis and one PostgreSQL; a
// small round-robin proxy stands in for the Kubernetes Service in front of the http replicas, and
// the Telegram emulator POSTs updates to it. The same alert sent to both http replicas opens one
// incident with one card; one http, one worker and one bot replica are stopped along the way; the
// press is handled once, the repair runs once and is verified once. The six roles run as runtimes
// in this test process (six tsx processes on this machine's two cores take longer than the whole
// test may), so "stopped" here is close(); a hard kill (SIGKILL) is what the polling test below does
// to a real bot process, and test/e2e/worker-killed.test.ts to a real worker.
//
// Polling mode: two real bot processes (ROLES=bot) share the poller lease; one polls, the other
// stands by. The poller is SIGKILLed, a button is pressed at once, and the standby answers it
// within seconds, with no 409 Conflict from Telegram at any point.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRuntime, type Runtime } from "../../app/runtime.js";
import { auditTrail, latestAction } from "../../db/actions.js";
import { getIncident } from "../../db/incidents.js";
import { alertmanagerFiring } from "../../dev/alerts.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";
import { TEST_SECRETS, testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import {
  alertmanagerAuth,
  buttonData,
  CHAT_ID,
  LIFTED_THROTTLE,
  postJson,
  waitForChat,
} from "../../dev/stack.js";
import { parseConfig, type Role } from "../../registry/config.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const WEBHOOK_SECRET = "replicas-0123456789abcdef0123456789";
const WEBHOOK_PATH = "/telegram/webhook";

/** A load balancer on loopback: each request to the next live backend, trying the others on a refused connection. */
async function roundRobin(
  backends: () => string[],
): Promise<{ url: string; failovers: () => number; close: () => Promise<void> }> {
  let next = 0;
  let failovers = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const targets = backends();
      const attempt = (tried: number): void => {
        const target = targets[(next + tried) % targets.length];
        if (target === undefined || tried >= targets.length) {
          res.writeHead(502).end();
          return;
        }
        const upstream = httpRequest(
          `${target}${req.url ?? "/"}`,
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on("error", () => {
          failovers++;
          attempt(tried + 1);
        });
        upstream.end(body);
      };
      attempt(0);
      next++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failovers: () => failovers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The cache-flush fixture: an alert whose proposal (CLEAR_CACHE on Redis DB 13) an approver can press. */
function redisAlert(fingerprint: string) {
  const payload = alertmanagerFiring();
  const [template] = payload.alerts;
  if (template === undefined) throw new Error("fixture has no alert");
  const labels = { alertname: "RedisMemoryHigh", severity: "high", service: "redis", container: "redis" };
  return { ...payload, commonLabels: labels, alerts: [{ ...template, fingerprint, labels }] };
}

const cacheUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, "")}/13`;
let dir: string;
let targets: string;
let cache: Redis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "replicas-"));
  targets = join(dir, "auto-repair.yaml");
  await writeFile(targets, `clear_cache:\n  sessions: { url: "${cacheUrl}", aliases: [redis] }\n`);
  cache = new Redis(cacheUrl);
});
afterAll(async () => {
  await cache.flushdb();
  cache.disconnect();
  await rm(dir, { recursive: true, force: true });
});

describe("webhook mode with two of every role", () => {
  let db: TestDatabase;
  let telegram: TelegramEmulator;
  const prefix = uniquePrefix();
  const runtimes = new Map<string, Runtime>();
  const httpUrls = new Map<string, string>();
  let proxy: Awaited<ReturnType<typeof roundRobin>>;

  beforeAll(async () => {
    // Telegram's flood limits are lifted: this test counts cards and presses, not sends per minute
    telegram = await TelegramEmulator.start({
      token: TEST_SECRETS.telegramToken,
      // Telegram's flood limits lifted: this file is about replicas, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      groupPerMinute: 100_000,
      perSecond: 100_000,
      webhookRetryMs: 100,
    });
    db = await createTestDatabase({ migrate: false });
    // the proxy keeps a stopped replica in its list, as a Service does until its endpoints update:
    // a refused connection goes to the next replica
    proxy = await roundRobin(() => ["http-1", "http-2"].flatMap((name) => httpUrls.get(name) ?? []));
    const start = async (name: string, role: Role) => {
      const config = parseConfig(
        testEnv({
          DATABASE_URL: db.url,
          REDIS_PREFIX: prefix,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          TELEGRAM_CHAT_ID: String(CHAT_ID),
          TELEGRAM_APPROVER_IDS: "1001",
          TELEGRAM_WEBHOOK_URL: `${proxy.url}${WEBHOOK_PATH}`,
          TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
          AUTO_REPAIR_CONFIG: targets,
          PORT: "0",
          HOST: "127.0.0.1",
          ROLES: role,
        }),
      );
      const runtime = await startRuntime(config, {
        telegramThrottle: LIFTED_THROTTLE,
        verify: { verifyEveryMs: 200, verifyWithinMs: 15_000 },
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      });
      runtimes.set(name, runtime);
      if (runtime.url !== undefined) httpUrls.set(name, runtime.url);
    };
    // the first one migrates the database; the others start side by side
    await start("worker-1", "worker");
    await Promise.all([
      start("worker-2", "worker"),
      start("http-1", "http"),
      start("http-2", "http"),
      start("bot-1", "bot"),
      start("bot-2", "bot"),
    ]);
  }, 60_000);
  afterAll(async () => {
    for (const runtime of runtimes.values()) await runtime.close();
    await proxy.close();
    await telegram.close();
    await deleteKeys(prefix);
    await db.drop();
  });

  const stop = async (name: string) => {
    await runtimes.get(name)?.close();
    runtimes.delete(name);
  };

  it("opens one incident, one card, one approval and one verification, though replicas stop", async () => {
    await cache.flushdb();
    await cache.mset("session:1", "a", "session:2", "b");
    await expect
      .poll(async () => telegram.callsOf("setWebhook").filter((call) => call.status === "ok").length)
      .toBeGreaterThanOrEqual(1);
    expect(telegram.callsOf("getUpdates")).toHaveLength(0);

    // Alertmanager's HA pair delivers the same alert to each http replica
    for (const name of ["http-1", "http-2"]) {
      const response = await postJson(
        `${runtimes.get(name)?.url ?? ""}/api/v1/webhooks/alertmanager`,
        redisAlert("replicas-redis-mem"),
        alertmanagerAuth,
      );
      expect(response.status).toBe(202);
    }
    const [card] = await waitForChat(
      telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
      20_000,
    );
    const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    await expect.poll(async () => (await latestAction(db.pool, incidentId))?.status).toBe("pending");

    // one of each role goes away before the press
    await Promise.all([stop("http-1"), stop("worker-1"), stop("bot-1")]);

    const press = telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card?.message_id ?? 0,
      fromUserId: 1001,
      username: "alice",
      data: buttonData(telegram, card?.message_id ?? 0, "approve"),
    });
    await expect
      .poll(() => telegram.answerOf(press)?.text, { timeout: 10_000 })
      .toBe("Approved: CLEAR_CACHE. Running it now.");
    await waitForChat(telegram, (all) => all[0]?.text.includes("RESOLVED") ?? false, 20_000);
    // the press was POSTed to the stopped http replica first (the proxy's turn was its), refused, and
    // went to the other one
    expect(proxy.failovers()).toBeGreaterThanOrEqual(1);

    const { rows } = await db.pool.query<{ count: string }>("SELECT count(*) FROM incidents");
    expect(Number(rows[0]?.count)).toBe(1);
    const cards = telegram.callsOf("sendMessage").filter((call) => call.status === "ok");
    expect(cards).toHaveLength(1);
    expect(telegram.callsOf("answerCallbackQuery").filter((call) => call.status === "ok")).toHaveLength(1);
    expect(await cache.dbsize()).toBe(0);
    expect((await getIncident(db.pool, incidentId))?.status).toBe("resolved");
    const trail = (await auditTrail(db.pool, incidentId)).map(
      (row) => `${row.actor} ${row.what}: ${row.outcome}`,
    );
    const count = (line: string) => trail.filter((entry) => entry === line).length;
    expect(count("system CLEAR_CACHE: executed")).toBe(1);
    expect(count("system verify CLEAR_CACHE: recovered")).toBe(1);
    const approvals = (await auditTrail(db.pool, incidentId)).filter((row) => row.what.startsWith("approve"));
    expect(approvals).toHaveLength(1);
  }, 60_000);
});

interface BotProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<void>;
}

describe("polling mode with a standby", () => {
  let db: TestDatabase;
  let telegram: TelegramEmulator;
  let main: Runtime | undefined;
  const prefix = uniquePrefix();
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    telegram = await TelegramEmulator.start({
      token: TEST_SECRETS.telegramToken,
      // Telegram's flood limits lifted: this file is about replicas, not pacing (which
      // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
      groupPerMinute: 100_000,
      perSecond: 100_000,
    });
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    for (const bot of bots)
      if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill("SIGKILL");
    await Promise.all(bots.map((bot) => bot.exited));
    await main?.close();
    await telegram.close();
    await deleteKeys(prefix);
    await db.drop();
  });

  it("has one poller; when it is killed the standby takes over within seconds and answers the press", async () => {
    await cache.flushdb();
    await cache.mset("session:1", "a");
    const env = testEnv({
      DATABASE_URL: db.url,
      REDIS_PREFIX: prefix,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_CHAT_ID: String(CHAT_ID),
      TELEGRAM_APPROVER_IDS: "1001",
      AUTO_REPAIR_CONFIG: targets,
      PORT: "0",
      HOST: "127.0.0.1",
    });
    main = await startRuntime(parseConfig({ ...env, ROLES: "http,worker" }), {
      telegramThrottle: LIFTED_THROTTLE,
      verify: { verifyEveryMs: 200, verifyWithinMs: 15_000 },
      logger: pino({ level: "silent" }),
    });
    for (let index = 0; index < 2; index++) {
      const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), `${ROOT}main.ts`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, ROLES: "bot", LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      bots.push({ child, output: () => output, exited });
    }
    const holders = () => bots.filter((bot) => bot.output().includes("bot holds the poller lease"));
    const standbys = () => bots.filter((bot) => bot.output().includes("bot on standby"));
    await expect.poll(() => holders().length, { timeout: 40_000, interval: 100 }).toBe(1);
    await expect.poll(() => standbys().length, { timeout: 10_000, interval: 100 }).toBe(1);
    const [leader] = holders();
    const [standby] = standbys();
    if (leader === undefined || standby === undefined || leader === standby)
      throw new Error("no leader and standby");

    const response = await postJson(
      `${main.url ?? ""}/api/v1/webhooks/alertmanager`,
      redisAlert("standby-redis-mem"),
      alertmanagerAuth,
    );
    expect(response.status).toBe(202);
    const [card] = await waitForChat(
      telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
      20_000,
    );

    leader.child.kill("SIGKILL");
    await leader.exited;
    const killedAt = Date.now();
    const press = telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card?.message_id ?? 0,
      fromUserId: 1001,
      username: "alice",
      data: buttonData(telegram, card?.message_id ?? 0, "approve"),
    });
    await expect
      .poll(() => telegram.answerOf(press)?.text, { timeout: 20_000, interval: 50 })
      .toBe("Approved: CLEAR_CACHE. Running it now.");
    const takeoverMs = Date.now() - killedAt;
    console.log(`standby answered the press ${takeoverMs} ms after the poller was killed`);
    // the lease lapses after 6 s unrenewed; the standby tries every 1.5 s
    expect(takeoverMs).toBeLessThan(10_000);
    expect(standby.output()).toContain("bot holds the poller lease");
    expect(telegram.callsOf("getUpdates").filter((call) => call.status === 409)).toHaveLength(0);
    expect(telegram.callsOf("answerCallbackQuery").filter((call) => call.status === "ok")).toHaveLength(1);
  }, 60_000);
});

// Every role more than once, as separate OS processes (issue 12, points 6 and 7). Each process is
// the compiled `node dist/main.js` with one role (ROLES=http, worker or bot), as in the pods; they
// share one PostgreSQL schema and one Redis prefix, and talk to the Telegram emulator.
//
// Webhook mode: two http, two worker and two bot processes. A small Service stands in front of the
// http processes as Kubernetes' does: round robin over the endpoints whose readiness probe passes,
// an endpoint dropped only after its probe failed three times, and a connection to a dead one
// reset (the sender retries, as Alertmanager and Telegram do). The emulator was told the webhook by
// setWebhook with a secret_token and POSTs every update there, retrying any answer but a 2xx. Then:
//   - an http process is SIGKILLed between requests: the two Alertmanagers of an HA pair deliver
//     the same alert, one of them to the dead process; its retry reaches the other one;
//   - the worker holding the incident's analysis (the model has the request) is SIGKILLed: BullMQ's
//     stalled-job check hands the job to the other worker, and the incident gets one analysis;
//   - a bot process is SIGKILLed (in webhook mode it only set the webhook: it holds nothing);
//   - the approver presses Approve: one answer, one approval, one execution, one verification.
// Rolling update (point 7): a new process of each role starts, and the old ones get SIGTERM while
// alerts keep arriving and an Approve press is in flight: every alert becomes one incident with one
// card, the press is answered once and its repair runs and is verified once, and the old processes
// exit 0.
//
// Polling mode: two bot processes share the poller lease. The poller is SIGKILLed and a button is
// pressed at once: the standby takes the lease and answers the press, once, with no 409 Conflict
// from Telegram at any point; the takeover time is printed. Then a rolling update of the bot: a
// new process starts as standby and the poller gets SIGTERM while a press is in flight.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { startRuntime, type Runtime } from "../../app/runtime.js";
import { auditTrail, latestAction } from "../../db/actions.js";
import { listAnalyses } from "../../db/analyses.js";
import { getIncident } from "../../db/incidents.js";
import { installationId } from "../../db/installation.js";
import { alertmanagerFiring, alertmanagerPayload } from "../../dev/alerts.js";
import { OllamaFake } from "../../dev/emulators/llm/ollama.js";
import { LIFTED_TELEGRAM_LIMITS, TelegramEmulator } from "../../dev/emulators/telegram.js";
import { TEST_SECRETS, testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { buildDistIfStale, freePort, waitForHttp } from "../../dev/processes.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import {
  alertmanagerAuth,
  buttonData,
  CHAT_ID,
  LIFTED_THROTTLE,
  postJson,
  waitForChat,
} from "../../dev/stack.js";
import { QUEUE_NAMES, queuePrefix } from "../../jobs/queues.js";
import { parseConfig } from "../../registry/config.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const WEBHOOK_SECRET = "replica-processes-0123456789abcdef";
const WEBHOOK_PATH = "/telegram/webhook";
const APPROVER = 1001;
/** Not in TELEGRAM_APPROVER_IDS: Snooze is refused, and changes nothing however often it is handled. */
const STRANGER = 3003;
const REFUSAL = "You are not on the approver list.";
const APPROVED = "Approved: CLEAR_CACHE. Running it now.";
/** The chats the rolling update's alerts go to (TELEGRAM_ROUTES by namespace), each with its own send budget. */
const ROLLING_CHATS = { "rolling-a": -1002000000001, "rolling-b": -1002000000002 } as const;
/** Readiness is false this long after SIGTERM before intake stops (the manifests use 5 s). */
const SHUTDOWN_DELAY_SECONDS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ─── Processes ──────────────────────────────────────────────────────────────────────────────

type Role = "http" | "worker" | "bot";

interface BotProcess {
  readonly name: string;
  readonly role: Role;
  readonly child: ChildProcess;
  /** http://127.0.0.1:port: the API (http) or the health listener (HEALTH_PORT, worker and bot). */
  readonly url: string;
  readonly output: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One compiled process with one role; resolves once its readiness answers 200. */
async function startProcess(
  name: string,
  role: Role,
  env: Record<string, string | undefined>,
): Promise<BotProcess> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [`${ROOT}dist/main.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...env,
      ROLES: role,
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      SHUTDOWN_DELAY_SECONDS: String(SHUTDOWN_DELAY_SECONDS),
      ...(role === "http" ? { PORT: String(port) } : { PORT: "0", HEALTH_PORT: String(port) }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/api/v1/health`, 90_000, child);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${name}: ${(error as Error).message}\n${output.slice(-3_000)}`, { cause: error });
  }
  console.log(`${name} ready in ${Date.now() - spawnedAt} ms`);
  return { name, role, child, url, output: () => output, exit };
}

/** The process's log lines with this message, as pino wrote them (`time` in ms since the epoch). */
function logLines(proc: BotProcess, message: string): { time: number; [key: string]: unknown }[] {
  return proc
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { time: number; msg?: string })
    .filter((line) => line.msg === message);
}

async function stopAll(processes: Iterable<BotProcess>): Promise<void> {
  const running = [...processes].filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  for (const proc of running) proc.child.kill("SIGKILL");
  await Promise.all(running.map((proc) => proc.exit));
}

// ─── A Kubernetes Service in front of the http processes ─────────────────────────────────────

/**
 * Round robin over the ready endpoints. Readiness is probed (GET /api/v1/health) every 500 ms and
 * an endpoint leaves after three failed probes, so a process that just died is still sent to for a
 * moment, as in a cluster; its connection is then reset, and the sender retries. A process told to
 * stop answers 503 at once and keeps serving for SHUTDOWN_DELAY_SECONDS, longer than that lag.
 */
class Service {
  private readonly endpoints = new Map<string, { ready: boolean; failures: number }>();
  private server: Server | undefined;
  private prober: NodeJS.Timeout | undefined;
  private probing = false;
  private next = 0;
  /** Requests whose connection was reset because the endpoint chosen was dead. */
  resets = 0;
  /** Requests answered, per endpoint. */
  readonly served = new Map<string, number>();

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => this.forward(req.method ?? "GET", req.url ?? "/", req.headers, chunks, res));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.prober = setInterval(() => void this.probe(), 500);
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  add(url: string): void {
    this.endpoints.set(url, { ready: false, failures: 0 });
    void this.probe();
  }

  ready(url: string): boolean {
    return this.endpoints.get(url)?.ready === true;
  }

  async close(): Promise<void> {
    clearInterval(this.prober);
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async probe(): Promise<void> {
    // one round at a time: a slow round on a loaded machine must not count its failures twice
    if (this.probing) return;
    this.probing = true;
    await Promise.all(
      [...this.endpoints].map(async ([url, state]) => {
        const ok = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) }).then(
          (response) => response.ok,
          () => false,
        );
        state.failures = ok ? 0 : state.failures + 1;
        if (ok) state.ready = true;
        else if (state.failures >= 3) state.ready = false;
      }),
    );
    this.probing = false;
  }

  private forward(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer[],
    res: ServerResponse,
  ): void {
    const ready = [...this.endpoints].filter(([, state]) => state.ready).map(([url]) => url);
    const target = ready[this.next++ % Math.max(ready.length, 1)];
    if (target === undefined) {
      // no endpoint: a Service answers nothing; the senders retry
      res.socket?.destroy();
      this.resets++;
      return;
    }
    const upstream = httpRequest(`${target}${path}`, { method, headers }, (answer) => {
      this.served.set(target, (this.served.get(target) ?? 0) + 1);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      this.resets++;
      res.socket?.destroy();
    });
    upstream.end(Buffer.concat(body));
  }
}

/**
 * An Alertmanager delivering one notification: POST, and on a reset connection or a 5xx try again
 * (Alertmanager retries those with a backoff until the group's next notification is due). Returns
 * the final status and how many attempts it took.
 */
async function deliverAlert(url: string, payload: unknown): Promise<{ status: number; attempts: number }> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${url}/api/v1/webhooks/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json", ...alertmanagerAuth },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (response.status < 500) return { status: response.status, attempts: attempt };
    } catch {
      // reset or refused: retried below
    }
    if (Date.now() > deadline) throw new Error(`alert not delivered after ${attempt} attempts`);
    await sleep(200);
  }
}

// ─── Fixtures ───────────────────────────────────────────────────────────────────────────────

/** An alert whose proposal (CLEAR_CACHE on the cache database) an approver can press. */
function cacheAlert(fingerprint: string, alertname: string) {
  const payload = alertmanagerFiring();
  const [template] = payload.alerts;
  if (template === undefined) throw new Error("fixture has no alert");
  const labels = { alertname, severity: "high", service: "redis", container: "redis" };
  return { ...payload, commonLabels: labels, alerts: [{ ...template, fingerprint, labels }] };
}

/** A Redis database of its own for the cache the repair flushes (the other tests use 12 to 14). */
const cacheUrl = (db: number) => `${TEST_REDIS_URL.replace(/\/\d*$/, "")}/${db}`;

let dir: string;
beforeAll(async () => {
  buildDistIfStale();
  dir = await mkdtemp(join(tmpdir(), "replica-processes-"));
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function repairTargets(name: string, db: number): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `clear_cache:\n  sessions: { url: "${cacheUrl(db)}", aliases: [redis] }\n`);
  return file;
}

/** Answers to this callback query that Telegram accepted. */
function answersTo(telegram: TelegramEmulator, queryId: string): number {
  return telegram
    .callsOf("answerCallbackQuery")
    .filter((call) => call.status === "ok" && call.params.callback_query_id === queryId).length;
}

/** Cards posted (not edits) that name this incident. */
function cardsPostedFor(telegram: TelegramEmulator, incidentId: string): number {
  return telegram
    .callsOf("sendMessage")
    .filter((call) => call.status === "ok" && String(call.params.text).includes(incidentId)).length;
}

async function auditCounts(db: TestDatabase, incidentId: string) {
  const trail = await auditTrail(db.pool, incidentId);
  const count = (what: string, outcome: string) =>
    trail.filter((row) => row.what === what && row.outcome === outcome).length;
  return {
    approved: count("approve CLEAR_CACHE", "approved"),
    executed: count("CLEAR_CACHE", "executed"),
    recovered: count("verify CLEAR_CACHE", "recovered"),
  };
}

// ─── Webhook mode ───────────────────────────────────────────────────────────────────────────

describe("webhook mode: two http, two worker and two bot processes", () => {
  let db: TestDatabase;
  let telegram: TelegramEmulator;
  let ollama: OllamaFake;
  let cache: Redis;
  let queueRedis: Redis;
  const service = new Service();
  const prefix = uniquePrefix();
  const processes = new Map<string, BotProcess>();
  let env: Record<string, string | undefined>;
  const showLogs = () =>
    onTestFailed(() => {
      for (const proc of processes.values())
        console.log(
          `── ${proc.name} (pid ${proc.child.pid}) ──\n${proc.output().split("\n").slice(-60).join("\n")}`,
        );
    });

  beforeAll(async () => {
    telegram = await TelegramEmulator.start({
      token: TEST_SECRETS.telegramToken,
      // Telegram waits longer between webhook retries; the test has no minute to spare
      webhookRetryMs: 200,
    });
    // The first question to the model is left unanswered (the worker holding it is killed); the
    // others get a 500, and the chain falls back to the offline analyzer, which proposes CLEAR_CACHE.
    ollama = new OllamaFake(() => ({}));
    ollama.respondWith({ kind: "server_error" }).respondOnce({ kind: "hang" });
    await ollama.start();
    db = await createTestDatabase({ migrate: false });
    cache = new Redis(cacheUrl(11));
    queueRedis = new Redis(TEST_REDIS_URL);
    await service.start();
    env = testEnv({
      DATABASE_URL: db.url,
      REDIS_PREFIX: prefix,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_CHAT_ID: String(CHAT_ID),
      TELEGRAM_APPROVER_IDS: String(APPROVER),
      TELEGRAM_ROUTES: Object.entries(ROLLING_CHATS)
        .map(([namespace, chat]) => `namespace:${namespace}=${chat}`)
        .join(","),
      TELEGRAM_WEBHOOK_URL: `${service.url}${WEBHOOK_PATH}`,
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AUTO_REPAIR_CONFIG: await repairTargets("webhook.yaml", 11),
      LLM_CHAIN: "ollama",
      OLLAMA_HOST: ollama.url,
      OLLAMA_MODEL: "qwen2.5:7b",
    });
  }, 60_000);
  afterAll(async () => {
    await stopAll(processes.values());
    await service.close();
    await ollama.close();
    await telegram.close();
    await cache.flushdb();
    cache.disconnect();
    queueRedis.disconnect();
    await deleteKeys(prefix);
    await db.drop();
  });

  const start = async (name: string, role: Role) => {
    const proc = await startProcess(name, role, env);
    processes.set(name, proc);
    if (role === "http") service.add(proc.url);
    return proc;
  };
  const proc = (name: string): BotProcess => {
    const found = processes.get(name);
    if (found === undefined) throw new Error(`no process ${name}`);
    return found;
  };
  const kill = async (name: string) => {
    const target = proc(name);
    target.child.kill("SIGKILL");
    expect((await target.exit).signal).toBe("SIGKILL");
  };
  const queue = async (name: (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES]) =>
    new Queue(name, {
      connection: queueRedis,
      prefix: queuePrefix({ prefix, installation: await installationId(db.pool) }, name),
    });

  it(
    "opens one incident with one card, one analysis, one approval, one execution and one verification though one process of each role is killed",
    { timeout: 150_000 },
    async () => {
      showLogs();
      const started = Date.now();
      // the first worker migrates the database; the others start side by side
      await start("worker-1", "worker");
      await Promise.all([
        start("worker-2", "worker"),
        start("http-1", "http"),
        start("http-2", "http"),
        start("bot-1", "bot"),
        start("bot-2", "bot"),
      ]);
      console.log(`webhook mode: six processes ready in ${Date.now() - started} ms`);
      await expect
        .poll(() => service.ready(proc("http-1").url) && service.ready(proc("http-2").url), {
          timeout: 10_000,
        })
        .toBe(true);
      // each bot process told Telegram where to POST, with the secret; nobody long-polls
      await expect
        .poll(() => telegram.callsOf("setWebhook").filter((call) => call.status === "ok").length, {
          timeout: 30_000,
        })
        .toBe(2);
      for (const call of telegram.callsOf("setWebhook"))
        expect(call.params).toMatchObject({
          url: `${service.url}${WEBHOOK_PATH}`,
          secret_token: WEBHOOK_SECRET,
        });
      await cache.flushdb();
      await cache.mset("session:1", "a", "session:2", "b");

      // http-1 dies between requests; its endpoint is still in the Service for a moment. The HA
      // pair's two deliveries of one alert go round robin: one reaches the dead process and is retried.
      await kill("http-1");
      const deliveries = await Promise.all(
        [1, 2].map(() => deliverAlert(service.url, cacheAlert("processes-redis-mem", "RedisMemoryHigh"))),
      );
      expect(deliveries.map((delivery) => delivery.status)).toEqual([202, 202]);
      expect(service.resets).toBeGreaterThanOrEqual(1);
      expect(deliveries.some((delivery) => delivery.attempts > 1)).toBe(true);

      // The card is posted, and the analysis is under way: its job is active and the model has the question.
      const [card] = await waitForChat(telegram, (chat) => chat.length === 1, 30_000);
      const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
      expect(incidentId).not.toBe("");
      const analyze = await queue(QUEUE_NAMES.analyze);
      try {
        await expect.poll(() => ollama.modelRequests().length, { timeout: 30_000 }).toBe(1);
        const [active] = await analyze.getActive();
        const holder = ["worker-1", "worker-2"].find((name) =>
          active?.processedBy?.endsWith(`/${proc(name).child.pid}`),
        );
        expect(holder, `processedBy ${active?.processedBy}`).toBeDefined();
        const other = holder === "worker-1" ? "worker-2" : "worker-1";
        // the worker holding the analysis, and a bot process (in webhook mode it holds nothing), die
        await Promise.all([kill(holder ?? ""), kill("bot-1")]);
        const killedAt = Date.now();
        // the other worker takes the job once its lock lapses, and the offline analyzer proposes the repair
        await expect
          .poll(async () => (await latestAction(db.pool, incidentId))?.status, {
            timeout: 45_000,
            interval: 250,
          })
          .toBe("pending");
        console.log(
          `webhook mode: the analysis went to ${other} ${Date.now() - killedAt} ms after ${holder} was killed`,
        );
        // the line is written once the job completed, after the action was stored: wait for it
        await expect
          .poll(() => logLines(proc(other), "incident analysed").length, { timeout: 15_000, interval: 100 })
          .toBe(1);
      } finally {
        await analyze.close();
      }
      await waitForChat(telegram, (chat) => chat[0]?.text.includes("needs approval") ?? false, 30_000);

      // The press goes to the webhook through the Service: only http-2 is left behind it.
      await expect.poll(() => service.ready(proc("http-1").url), { timeout: 10_000 }).toBe(false);
      const press = telegram.pressButton({
        chatId: CHAT_ID,
        messageId: card?.message_id ?? 0,
        fromUserId: APPROVER,
        username: "alice",
        data: buttonData(telegram, card?.message_id ?? 0, "approve"),
      });
      await expect.poll(() => telegram.answerOf(press)?.text, { timeout: 20_000 }).toBe(APPROVED);
      await waitForChat(telegram, (chat) => chat[0]?.text.includes("RESOLVED") ?? false, 45_000);

      // Exactly once, counted in Telegram, the database and the audit log.
      const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents");
      expect(rows[0]?.n).toBe(1);
      expect(cardsPostedFor(telegram, incidentId)).toBe(1);
      expect(telegram.messages(CHAT_ID)).toHaveLength(1);
      expect(answersTo(telegram, press)).toBe(1);
      expect(await listAnalyses(db.pool, incidentId)).toHaveLength(1);
      expect(await auditCounts(db, incidentId)).toEqual({ approved: 1, executed: 1, recovered: 1 });
      expect((await getIncident(db.pool, incidentId))?.status).toBe("resolved");
      expect(await cache.dbsize()).toBe(0);
      expect(telegram.callsOf("getUpdates")).toHaveLength(0);
      console.log(
        `webhook mode counts: incidents 1, cards posted ${cardsPostedFor(telegram, incidentId)}, analyses 1, answers ${answersTo(telegram, press)}, ` +
          `approvals/executions/verifications ${JSON.stringify(await auditCounts(db, incidentId))}, alert deliveries reset ${service.resets}`,
      );
    },
  );

  it(
    "drops no alert and no press while every role is replaced by a rolling update",
    { timeout: 150_000 },
    async () => {
      showLogs();
      const started = Date.now();
      const old = [
        "http-2",
        "bot-2",
        [...processes.keys()].find(
          (name) =>
            name.startsWith("worker-") &&
            proc(name).child.exitCode === null &&
            proc(name).child.signalCode === null,
        ) ?? "",
      ];
      // the new version of each Deployment comes up first (maxUnavailable 0)
      await Promise.all([start("http-3", "http"), start("worker-3", "worker"), start("bot-3", "bot")]);
      await expect.poll(() => service.ready(proc("http-3").url), { timeout: 10_000 }).toBe(true);

      // a second cache incident waits for approval
      await cache.mset("session:3", "c");
      expect(
        (await deliverAlert(service.url, cacheAlert("processes-stale-cache", "StaleCache"))).status,
      ).toBe(202);
      const cards = await waitForChat(
        telegram,
        (chat) =>
          chat.some(
            (message) => message.text.includes("StaleCache") && message.text.includes("needs approval"),
          ),
        45_000,
      );
      const card = cards.find((message) => message.text.includes("StaleCache"));
      const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";

      // alerts keep arriving, one every 500 ms, before, during and after the old processes' drain
      const namespaces = Object.keys(ROLLING_CHATS);
      const sent: string[] = [];
      const stream = (async () => {
        const results: { status: number; attempts: number }[] = [];
        for (let index = 0; index < 8; index++) {
          const fingerprint = `rolling-${index}`;
          sent.push(fingerprint);
          const namespace = namespaces[index % namespaces.length] ?? "";
          results.push(
            await deliverAlert(
              service.url,
              alertmanagerPayload({ fingerprint, labels: { alertname: `RollingAlert${index}`, namespace } }),
            ),
          );
          await sleep(500);
        }
        return results;
      })();
      await sleep(500);
      const press = telegram.pressButton({
        chatId: CHAT_ID,
        messageId: card?.message_id ?? 0,
        fromUserId: APPROVER,
        username: "alice",
        data: buttonData(telegram, card?.message_id ?? 0, "approve"),
      });
      for (const name of old) proc(name).child.kill("SIGTERM");
      const exits = await Promise.all(old.map((name) => proc(name).exit));
      expect(exits).toEqual(old.map(() => ({ code: 0, signal: null })));
      const results = await stream;
      expect(results.map((result) => result.status)).toEqual(sent.map(() => 202));

      await expect.poll(() => telegram.answerOf(press)?.text, { timeout: 30_000 }).toBe(APPROVED);
      await expect
        .poll(() => auditCounts(db, incidentId), { timeout: 45_000, interval: 250 })
        .toEqual({ approved: 1, executed: 1, recovered: 1 });
      expect((await getIncident(db.pool, incidentId))?.status).toBe("resolved");
      // every alert: one incident and, in its routed chat, one card
      const { rows } = await db.pool.query<{ id: string; fingerprint: string }>(
        "SELECT id, fingerprint FROM incidents WHERE fingerprint LIKE 'rolling-%'",
      );
      expect(rows.map((row) => row.fingerprint).sort()).toEqual([...sent].sort());
      for (const row of rows)
        await expect.poll(() => cardsPostedFor(telegram, row.id), { timeout: 60_000, interval: 250 }).toBe(1);
      for (const chat of Object.values(ROLLING_CHATS))
        expect(telegram.messages(chat)).toHaveLength(sent.length / namespaces.length);
      expect(answersTo(telegram, press)).toBe(1);
      expect(await auditCounts(db, incidentId)).toEqual({ approved: 1, executed: 1, recovered: 1 });
      expect(await cache.dbsize()).toBe(0);
      expect(telegram.callsOf("getUpdates")).toHaveLength(0);
      console.log(
        `rolling update (webhook mode): ${sent.length} alerts → ${rows.length} incidents, ` +
          `${rows.map((row) => cardsPostedFor(telegram, row.id)).reduce((a, b) => a + b, 0)} cards; press answered ${answersTo(telegram, press)}×; ` +
          `${JSON.stringify(await auditCounts(db, incidentId))}; ${Date.now() - started} ms`,
      );
    },
  );
});

// ─── Polling mode ───────────────────────────────────────────────────────────────────────────

describe("polling mode: two bot processes share the poller lease", () => {
  let db: TestDatabase;
  let telegram: TelegramEmulator;
  let main: Runtime | undefined;
  let cache: Redis;
  const prefix = uniquePrefix();
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    // Telegram's flood limits lifted: this part is about who polls, not pacing
    telegram = await TelegramEmulator.start({
      token: TEST_SECRETS.telegramToken,
      ...LIFTED_TELEGRAM_LIMITS,
    });
    db = await createTestDatabase({ migrate: false });
    cache = new Redis(cacheUrl(10));
  });
  afterAll(async () => {
    await stopAll(bots);
    await main?.close();
    await telegram.close();
    await cache.flushdb();
    cache.disconnect();
    await deleteKeys(prefix);
    await db.drop();
  });

  it(
    "has one poller; killed, the standby takes over within seconds and handles the press once; replaced, no press is dropped",
    { timeout: 150_000 },
    async () => {
      await cache.flushdb();
      await cache.mset("session:1", "a");
      const env = testEnv({
        DATABASE_URL: db.url,
        REDIS_PREFIX: prefix,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_CHAT_ID: String(CHAT_ID),
        TELEGRAM_APPROVER_IDS: String(APPROVER),
        AUTO_REPAIR_CONFIG: await repairTargets("polling.yaml", 10),
        PORT: "0",
        HOST: "127.0.0.1",
      });
      // the http and worker roles run in this process: this part is about the bot processes
      main = await startRuntime(parseConfig({ ...env, ROLES: "http,worker" }), {
        telegramThrottle: LIFTED_THROTTLE,
        verify: { verifyEveryMs: 200, verifyWithinMs: 15_000 },
        logger: pino({ level: "silent" }),
      });
      bots.push(
        ...(await Promise.all([startProcess("bot-1", "bot", env), startProcess("bot-2", "bot", env)])),
      );
      const holders = () => bots.filter((bot) => logLines(bot, "bot holds the poller lease").length > 0);
      const standbys = () =>
        bots.filter((bot) => logLines(bot, "bot on standby: another process polls Telegram").length > 0);
      await expect.poll(() => holders().length, { timeout: 30_000, interval: 100 }).toBe(1);
      await expect.poll(() => standbys().length, { timeout: 10_000, interval: 100 }).toBe(1);
      const [leader] = holders();
      const [standby] = standbys();
      if (leader === undefined || standby === undefined || leader === standby)
        throw new Error("no leader and standby");

      const response = await postJson(
        `${main.url ?? ""}/api/v1/webhooks/alertmanager`,
        cacheAlert("polling-redis-mem", "RedisMemoryHigh"),
        alertmanagerAuth,
      );
      expect(response.status).toBe(202);
      const [card] = await waitForChat(
        telegram,
        (chat) => chat[0]?.text.includes("needs approval") ?? false,
        30_000,
      );
      const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";

      leader.child.kill("SIGKILL");
      await leader.exit;
      const killedAt = Date.now();
      const press = telegram.pressButton({
        chatId: CHAT_ID,
        messageId: card?.message_id ?? 0,
        fromUserId: APPROVER,
        username: "alice",
        data: buttonData(telegram, card?.message_id ?? 0, "approve"),
      });
      await expect
        .poll(() => telegram.answerOf(press)?.text, { timeout: 30_000, interval: 50 })
        .toBe(APPROVED);
      const answeredMs = Date.now() - killedAt;
      const [takeover] = logLines(standby, "bot holds the poller lease");
      const takeoverMs = (takeover?.time ?? Number.NaN) - killedAt;
      console.log(
        `polling mode: the standby took the lease ${takeoverMs} ms after the poller was killed and answered the press after ${answeredMs} ms`,
      );
      // the lease lapses 6 s after its last renewal and the standby tries every 1.5 s: 7.5 s at most,
      // and some room for a loaded machine
      expect(takeoverMs).toBeLessThan(12_000);
      await expect
        .poll(() => auditCounts(db, incidentId), { timeout: 30_000, interval: 250 })
        .toEqual({ approved: 1, executed: 1, recovered: 1 });
      expect((await getIncident(db.pool, incidentId))?.status).toBe("resolved");
      expect(answersTo(telegram, press)).toBe(1);

      // A rolling update of the bot: the new process stands by, the poller gets SIGTERM with a press
      // in flight, gives the lease up on its way out, and the new one takes over.
      const replacement = await startProcess("bot-3", "bot", env);
      bots.push(replacement);
      await expect
        .poll(() => logLines(replacement, "bot on standby: another process polls Telegram").length, {
          timeout: 20_000,
        })
        .toBe(1);
      // a card that still offers Snooze: a stranger's press of it is refused and changes nothing
      expect(
        (
          await postJson(
            `${main.url ?? ""}/api/v1/webhooks/alertmanager`,
            alertmanagerPayload({ fingerprint: "polling-rolling" }),
            alertmanagerAuth,
          )
        ).status,
      ).toBe(202);
      const open = (await waitForChat(telegram, (chat) => chat.length === 2, 30_000))[1];
      const snooze = () =>
        telegram.pressButton({
          chatId: CHAT_ID,
          messageId: open?.message_id ?? 0,
          fromUserId: STRANGER,
          data: buttonData(telegram, open?.message_id ?? 0, "snooze"),
        });
      const presses = [snooze()];
      standby.child.kill("SIGTERM");
      const termAt = Date.now();
      presses.push(snooze());
      expect(await standby.exit).toEqual({ code: 0, signal: null });
      presses.push(snooze());
      for (const query of presses)
        await expect.poll(() => telegram.answerOf(query)?.text, { timeout: 20_000 }).toBe(REFUSAL);
      const [handover] = logLines(replacement, "bot holds the poller lease");
      console.log(
        `polling mode rolling update: the new process took the lease ${(handover?.time ?? Number.NaN) - termAt} ms after SIGTERM to the old one`,
      );
      expect(presses.map((query) => answersTo(telegram, query))).toEqual([1, 1, 1]);
      // never two pollers: Telegram answers a second getUpdates consumer with 409 Conflict
      expect(telegram.callsOf("getUpdates").filter((call) => call.status === 409)).toEqual([]);
      // and nothing ran twice meanwhile
      expect(answersTo(telegram, press)).toBe(1);
      expect(await auditCounts(db, incidentId)).toEqual({ approved: 1, executed: 1, recovered: 1 });
    },
  );
});

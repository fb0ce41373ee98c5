// The workers' own process under `npm start` with every role (ROLES not set): the HTTP intake in
// the first process, the workers and the bot in a supervised child. A killed child is started
// again and the alerts keep reaching the chat; a child whose parent is killed outright stops by
// itself; SIGTERM stops both.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { constants, getPriority, tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKER_NICENESS, WorkerProcess } from "../../app/worker-process.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { freePort, waitForHttp } from "../../dev/processes.js";
import { deleteKeys, uniquePrefix } from "../../dev/redis.js";
import { alertmanagerAuth } from "../../dev/stack.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const silent = pino({ level: "silent" });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("WorkerProcess", () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chatops-worker-process-"));
    script = path.join(dir, "child.mjs");
    // a child that runs until told to stop, and writes down that it stopped gracefully
    await writeFile(
      script,
      [
        "import { appendFileSync } from 'node:fs';",
        "process.on('SIGTERM', () => { appendFileSync(process.env.STOPPED_FILE, `${process.pid}\\n`); process.exit(0); });",
        "appendFileSync(process.env.STARTED_FILE, `${process.pid}\\n`);",
        "setInterval(() => undefined, 1000);",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("starts a killed child again, and stops it with SIGTERM without starting another", async () => {
    const stoppedFile = path.join(dir, "stopped");
    const startedFile = path.join(dir, "started");
    const running = async () =>
      (await readFile(startedFile, "utf8").catch(() => "")).split("\n").filter(Boolean).map(Number);
    const workers = new WorkerProcess({
      entry: script,
      env: { PATH: process.env.PATH, STOPPED_FILE: stoppedFile, STARTED_FILE: startedFile },
      execArgv: [],
      logger: silent,
      restartDelayMs: 10,
    });
    workers.start();
    const first = await waitFor(() => workers.pid, 10_000);
    process.kill(first, "SIGKILL");
    const second = await waitFor(
      () => (workers.pid !== undefined && workers.pid !== first ? workers.pid : undefined),
      20_000,
    );
    expect(workers.startCount).toBe(2);
    expect(alive(first)).toBe(false);
    // its SIGTERM handler is in place once it wrote down its start
    await waitFor(async () => ((await running()).includes(second) ? true : undefined), 20_000);

    await workers.stop(10_000);
    expect(alive(second)).toBe(false);
    // the SIGTERM reached the child, which stopped on its own
    expect((await readFile(stoppedFile, "utf8")).trim()).toBe(String(second));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(workers.startCount).toBe(2);
    expect(workers.pid).toBeUndefined();
  });

  it("runs the child, and each one started again, WORKER_NICENESS nice levels below this process", async () => {
    const startedFile = path.join(dir, "started-nice");
    const workers = new WorkerProcess({
      entry: script,
      env: {
        PATH: process.env.PATH,
        STOPPED_FILE: path.join(dir, "stopped-nice"),
        STARTED_FILE: startedFile,
      },
      execArgv: [],
      logger: silent,
      restartDelayMs: 10,
    });
    const expected = Math.min(getPriority() + WORKER_NICENESS, constants.priority.PRIORITY_LOW);
    workers.start();
    try {
      const first = await waitFor(() => workers.pid, 10_000);
      expect(getPriority(first)).toBe(expected);
      process.kill(first, "SIGKILL");
      const second = await waitFor(
        () => (workers.pid !== undefined && workers.pid !== first ? workers.pid : undefined),
        20_000,
      );
      expect(getPriority(second)).toBe(expected);
    } finally {
      await workers.stop(10_000);
    }
  });
});

describe("npm start with every role", () => {
  let db: TestDatabase;
  let telegram: TelegramEmulator;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    telegram = new TelegramEmulator({
      token: "123456:TEST-TOKEN",
      // limits lifted: this test is about processes, not flood control (storm tests keep them)
      groupPerMinute: 100_000,
      perSecond: 100_000,
      perChatPerSecond: 100_000,
      perChatBurst: 100_000,
    });
    await telegram.start();
  });
  afterAll(async () => {
    await telegram.close();
    await deleteKeys(prefix);
    await db.drop();
  });

  it(
    "runs the workers in a child that is started again when killed, and that stops when its parent is killed",
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      const env = testEnv({
        DATABASE_URL: db.url,
        REDIS_PREFIX: prefix,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        ROLES: undefined,
      });
      const parent = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), `${ROOT}main.ts`], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const started: number[] = [];
      parent.stdout.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n")) {
          if (!line.includes("worker process started")) continue;
          const pid = (JSON.parse(line) as { pid?: number }).pid;
          if (pid !== undefined) started.push(pid);
        }
      });
      const exited = new Promise<void>((resolve) => parent.once("exit", () => resolve()));
      try {
        const url = `http://127.0.0.1:${port}`;
        await waitForHttp(`${url}/api/v1/health`, 30_000, parent);
        const first = await waitFor(() => started[0], 20_000);
        const cards = () =>
          telegram.calls.filter((call) => call.method === "sendMessage" && call.status === "ok").length;
        const send = (fingerprint: string) =>
          fetch(`${url}/api/v1/webhooks/alertmanager`, {
            method: "POST",
            headers: { "content-type": "application/json", ...alertmanagerAuth },
            body: JSON.stringify(
              alertmanagerPayload({ fingerprint, labels: { alertname: fingerprint, severity: "warning" } }),
            ),
          });
        expect((await send("apart-1")).status).toBe(202);
        // the card comes from the child: the first process runs no worker
        await waitFor(() => (cards() >= 1 ? true : undefined), 60_000);

        process.kill(first, "SIGKILL");
        const second = await waitFor(() => started[1], 30_000);
        expect(second).not.toBe(first);
        expect((await send("apart-2")).status).toBe(202);
        await waitFor(() => (cards() >= 2 ? true : undefined), 60_000);

        // the parent killed outright: its child notices and stops by itself
        parent.kill("SIGKILL");
        await exited;
        await waitFor(() => (alive(second) ? undefined : true), 30_000);
      } finally {
        parent.kill("SIGKILL");
        for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
      }
    },
  );
});

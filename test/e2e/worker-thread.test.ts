// The workers' own thread under `npm start` with every role (ROLES not set): the HTTP intake on the
// main thread, the workers and the bot in a supervised worker thread of the same process. A thread
// that ends is started again; it runs WORKER_NICENESS nice levels below the intake; a stop drains
// it, and one that does not stop in time is terminated; SIGTERM stops the whole process cleanly.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { constants, getPriority, tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKER_NICENESS, WORKER_YOUNG_GENERATION_MB, WorkerThread } from "../../app/worker-thread.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { openProcessBed, type ProcessBed } from "../../dev/process-bed.js";
import { freePort, waitForHttp } from "../../dev/processes.js";
import { alertmanagerAuth } from "../../dev/stack.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const silent = pino({ level: "silent" });
/** The thread scripts below are TypeScript that imports the app's module: tsx's loader runs them. */
const TSX = ["--import", import.meta.resolve("tsx")];

async function waitFor<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A thread's nice value, from its own /proc entry (field 19 of stat). */
async function niceOf(pid: number, tid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

function tasks(pid: number): Promise<string[]> {
  return readdir(`/proc/${pid}/task`);
}

describe("WorkerThread", () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chatops-worker-thread-"));
    script = path.join(dir, "thread.mts");
    // A thread that writes down its start; the first one (CRASH_MARK absent) throws soon after, as
    // a bug would; the others run until asked to stop, and write that down. With IGNORE_STOP set
    // it never stops by itself.
    await writeFile(
      script,
      [
        "import { appendFileSync, existsSync, writeFileSync } from 'node:fs';",
        `import { pino } from ${JSON.stringify(import.meta.resolve("pino"))};`,
        `import { superviseThisThread } from ${JSON.stringify(path.join(ROOT, "app/worker-thread.ts"))};`,
        "const tid = (await import('node:fs')).readlinkSync('/proc/thread-self').split('/').at(-1);",
        "superviseThisThread((delayMs) => {",
        "  if (process.env.IGNORE_STOP === '1') return;",
        "  setTimeout(() => { appendFileSync(process.env.STOPPED_FILE, `${tid}\\n`); process.exit(0); }, delayMs);",
        "}, pino({ level: 'silent' }));",
        "appendFileSync(process.env.STARTED_FILE, `${tid}\\n`);",
        "if (process.env.CRASH_MARK && !existsSync(process.env.CRASH_MARK)) {",
        "  writeFileSync(process.env.CRASH_MARK, '');",
        "  setTimeout(() => { throw new Error('a bug in the workers'); }, 50);",
        "}",
        "setInterval(() => undefined, 1000);",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = async (file: string) =>
    (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).map(Number);

  it("starts a thread that ended on an error again, and stops it gracefully without starting another", async () => {
    const stoppedFile = path.join(dir, "stopped");
    const startedFile = path.join(dir, "started");
    const workers = new WorkerThread({
      entry: script,
      env: { STOPPED_FILE: stoppedFile, STARTED_FILE: startedFile, CRASH_MARK: path.join(dir, "crashed") },
      execArgv: TSX,
      logger: silent,
      restartDelayMs: 10,
    });
    const seen: number[] = [];
    workers.onStart((tid) => seen.push(tid));
    workers.start();
    const first = await waitFor(() => workers.tid, 20_000);
    const second = await waitFor(
      () => (workers.tid !== undefined && workers.tid !== first ? workers.tid : undefined),
      20_000,
    );
    expect(workers.startCount).toBe(2);
    expect(seen).toEqual([first, second]);
    expect(await tasks(process.pid)).not.toContain(String(first));
    await waitFor(async () => ((await lines(startedFile)).includes(second) ? true : undefined), 20_000);

    await workers.stop(10_000, 100);
    // it stopped on its own, after the drain delay it was given
    expect(await lines(stoppedFile)).toEqual([second]);
    expect(await tasks(process.pid)).not.toContain(String(second));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(workers.startCount).toBe(2);
    expect(workers.tid).toBeUndefined();
  });

  it("runs the thread, and each one started again, WORKER_NICENESS nice levels below the process", async () => {
    const workers = new WorkerThread({
      entry: script,
      env: {
        STOPPED_FILE: path.join(dir, "stopped-nice"),
        STARTED_FILE: path.join(dir, "started-nice"),
        CRASH_MARK: path.join(dir, "crashed-nice"),
      },
      execArgv: TSX,
      logger: silent,
      restartDelayMs: 10,
    });
    const mine = getPriority(0);
    const expected = Math.min(mine + WORKER_NICENESS, constants.priority.PRIORITY_LOW);
    workers.start();
    try {
      const first = await waitFor(() => workers.tid, 20_000);
      expect(await niceOf(process.pid, first)).toBe(expected);
      const second = await waitFor(
        () => (workers.tid !== undefined && workers.tid !== first ? workers.tid : undefined),
        20_000,
      );
      expect(await niceOf(process.pid, second)).toBe(expected);
      // the main thread keeps its own
      expect(getPriority(0)).toBe(mine);
      expect(
        await niceOf(process.pid, Number((await readFile("/proc/thread-self/stat", "utf8")).split(" ")[0])),
      ).toBe(mine);
    } finally {
      await workers.stop(10_000);
    }
  });

  it("keeps the thread's own young generation when node runs with a --max-semi-space-size", async () => {
    // Each heap fills its young generation with survivors until V8 has grown it to its largest,
    // then writes that size down: the main thread's from node's flag, the thread's from its limits.
    const grow = [
      "const kept = [];",
      "for (let i = 0; i < 3e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept.length = 0; }",
      "const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;",
    ];
    const thread = path.join(dir, "young-thread.mjs");
    await writeFile(
      thread,
      [
        "import v8 from 'node:v8';",
        "import { appendFileSync } from 'node:fs';",
        ...grow,
        "appendFileSync(process.env.SIZES_FILE, `thread ${newSpace()}\\n`);",
        "setInterval(() => undefined, 1000);",
      ].join("\n"),
    );
    const main = path.join(dir, "young-main.mts");
    const sizes = path.join(dir, "young-sizes");
    await writeFile(
      main,
      [
        "import v8 from 'node:v8';",
        "import { appendFileSync, readFileSync } from 'node:fs';",
        `import { pino } from ${JSON.stringify(import.meta.resolve("pino"))};`,
        `import { WorkerThread } from ${JSON.stringify(path.join(ROOT, "app/worker-thread.ts"))};`,
        ...grow,
        "appendFileSync(process.env.SIZES_FILE, `main ${newSpace()}\\n`);",
        // node's own options (the flag among them) go to the thread, as under npm start
        "const workers = new WorkerThread({ entry: process.env.THREAD, env: { SIZES_FILE: process.env.SIZES_FILE }, logger: pino({ level: 'silent' }) });",
        "workers.start();",
        "const done = setInterval(async () => {",
        "  if (!readFileSync(process.env.SIZES_FILE, 'utf8').includes('thread')) return;",
        "  clearInterval(done);",
        "  await workers.stop(1_000);",
        "}, 50);",
      ].join("\n"),
    );
    const child = spawn(process.execPath, ["--max-semi-space-size=8", ...TSX, main], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, THREAD: thread, SIZES_FILE: sizes },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // a thread that never writes its size would be started again for ever
    const limit = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve)).finally(() =>
      clearTimeout(limit),
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const measured = new Map(
      (await readFile(sizes, "utf8"))
        .trim()
        .split("\n")
        .map((line): [string, number] => {
          const [who = "", mb] = line.split(" ");
          return [who, Number(mb)];
        }),
    );
    // the main thread grew past the thread's limit, to at most its two 8 MB semi-spaces (V8's own
    // largest is 2 × 16 MB)...
    expect(measured.get("main")).toBeGreaterThan((WORKER_YOUNG_GENERATION_MB / 3) * 2);
    expect(measured.get("main")).toBeLessThanOrEqual(16);
    // ...and the thread stayed within the two 2 MB ones WORKER_YOUNG_GENERATION_MB asks for
    expect(measured.get("thread")).toBeLessThanOrEqual((WORKER_YOUNG_GENERATION_MB / 3) * 2);
  });

  it("terminates a thread that does not stop within the limit", async () => {
    const startedFile = path.join(dir, "started-stubborn");
    const workers = new WorkerThread({
      entry: script,
      env: { STOPPED_FILE: path.join(dir, "stopped-stubborn"), STARTED_FILE: startedFile, IGNORE_STOP: "1" },
      execArgv: TSX,
      logger: silent,
    });
    workers.start();
    const tid = await waitFor(() => workers.tid, 20_000);
    const started = Date.now();
    await workers.stop(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await tasks(process.pid)).not.toContain(String(tid));
    expect(await lines(path.join(dir, "stopped-stubborn"))).toEqual([]);
    expect(workers.startCount).toBe(1);
  });
});

describe("npm start with every role", () => {
  // Telegram's limits lifted: this test is about threads, not flood control (storm tests keep them)
  let bed: ProcessBed;
  beforeAll(async () => {
    bed = await openProcessBed();
  });
  afterAll(async () => {
    await bed.close();
  });

  it(
    "runs the workers in a lower-priority thread of its one process, and stops both on SIGTERM",
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      const env = bed.env(port, { LOG_LEVEL: "info", ROLES: undefined });
      const parent = spawn(process.execPath, [...TSX, `${ROOT}main.ts`], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const logged: { msg: string; tid?: number }[] = [];
      let partial = "";
      parent.stdout.on("data", (chunk: Buffer) => {
        const text = partial + chunk.toString();
        const complete = text.split("\n");
        partial = complete.pop() ?? "";
        for (const line of complete)
          if (line.startsWith("{")) logged.push(JSON.parse(line) as { msg: string });
      });
      const exited = new Promise<number | null>((resolve) => parent.once("exit", (code) => resolve(code)));
      try {
        const pid = parent.pid ?? 0;
        const url = `http://127.0.0.1:${port}`;
        await waitForHttp(`${url}/api/v1/health`, 30_000, parent);
        const tid = await waitFor(
          () => logged.find((line) => line.msg === "workers' thread started")?.tid,
          30_000,
        );
        expect(await tasks(pid)).toContain(String(tid));
        expect(await niceOf(pid, tid)).toBe(Math.min(getPriority(pid) + WORKER_NICENESS, 19));
        // one process: nothing forked
        expect((await readFile(`/proc/${pid}/task/${pid}/children`, "utf8")).trim()).toBe("");

        const response = await fetch(`${url}/api/v1/webhooks/alertmanager`, {
          method: "POST",
          headers: { "content-type": "application/json", ...alertmanagerAuth },
          body: JSON.stringify(
            alertmanagerPayload({
              fingerprint: "thread-1",
              labels: { alertname: "thread-1", severity: "warning" },
            }),
          ),
        });
        expect(response.status).toBe(202);
        // the card comes from the thread: the main thread runs no worker
        await waitFor(
          () =>
            bed.telegram.calls.some((call) => call.method === "sendMessage" && call.status === "ok")
              ? true
              : undefined,
          60_000,
        );

        parent.kill("SIGTERM");
        expect(await exited).toBe(0);
        // each thread closed its own side before the process ended
        expect(logged.filter((line) => line.msg === "stopped")).toHaveLength(2);
        expect(logged.filter((line) => line.msg.startsWith("workers' thread ended"))).toEqual([]);
      } finally {
        parent.kill("SIGKILL");
      }
    },
  );
});

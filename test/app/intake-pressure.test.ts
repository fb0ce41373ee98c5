// The intake's hold on the ingest backlog (`npm start`, every role): when a saturated intake holds
// and releases it, that the hold reaches the workers' thread, and that a held ingest worker takes
// no new job on real Redis while the jobs it holds finish.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  HOLD_LIMIT_MS,
  INTAKE_BUSY,
  IngestHold,
  nextPressure,
  recordHolds,
  RELEASE_AT_LEAST_MS,
  UNHELD,
  watchIntakePressure,
  type PressureState,
} from "../../app/intake-pressure.js";
import { WorkerThread } from "../../app/worker-thread.js";
import { createMetrics } from "../../gateways/metrics.js";
import { followHold } from "../../app/workers.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

describe("nextPressure", () => {
  const held = (since: number): PressureState => ({ held: true, since });
  const released = (since: number): PressureState => ({ held: false, since });
  const cases: [string, PressureState, number, number, PressureState][] = [
    // name, given, utilization, now, then
    ["holds a busy intake", UNHELD, INTAKE_BUSY, 10_000, held(10_000)],
    ["holds one busy right after start (the clock near 0)", UNHELD, 1, 10, held(10)],
    ["leaves an intake with time to spare", UNHELD, INTAKE_BUSY - 0.01, 10_000, UNHELD],
    ["keeps holding while it stays busy", held(10_000), 1, 14_999, held(10_000)],
    ["releases once the intake has time to spare", held(10_000), 0.5, 11_000, released(11_000)],
    ["releases after the hold limit however busy", held(10_000), 1, 10_000 + HOLD_LIMIT_MS, released(15_000)],
    [
      "lets ingest run a while after a hold",
      released(15_000),
      1,
      15_000 + RELEASE_AT_LEAST_MS - 1,
      released(15_000),
    ],
    ["holds again after that while", released(15_000), 1, 15_000 + RELEASE_AT_LEAST_MS, held(16_000)],
  ];
  it.each(cases)("%s", (_name, given, utilization, now, then) => {
    expect(nextPressure(given, utilization, now)).toEqual(then);
  });
});

describe("watchIntakePressure", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("says each change once, as the samples go, and releases when stopped", () => {
    vi.useFakeTimers();
    const samples = [0.2, 0.95, 1, 1, 0.3, 0.99, 0.99, 0.99, 0.99];
    const changes: boolean[] = [];
    const watch = watchIntakePressure((held) => changes.push(held), {
      sampleMs: 100,
      releaseAtLeastMs: 200,
      utilization: () => samples.shift() ?? 1,
      now: () => Date.now(),
    });
    vi.advanceTimersByTime(100); // 0.2
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(300); // 0.95, 1, 1: held once
    expect(changes).toEqual([true]);
    vi.advanceTimersByTime(100); // 0.3: released
    expect(changes).toEqual([true, false]);
    vi.advanceTimersByTime(100); // busy, but ingest runs at least 200 ms
    expect(changes).toEqual([true, false]);
    vi.advanceTimersByTime(100);
    expect(changes).toEqual([true, false, true]);
    watch.stop();
    expect(changes).toEqual([true, false, true, false]);
    vi.advanceTimersByTime(1_000);
    expect(changes).toHaveLength(4);
  });
});

describe("recordHolds", () => {
  it("shows a hold while it lasts and counts its seconds once it ends", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let clock = 1_000;
    const record = recordHolds(metrics, () => clock);
    const value = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? Number.NaN;
    record(true);
    clock += 2_500;
    expect(await value("chatops_ingest_held")).toBe(1);
    expect(await value("chatops_ingest_held_seconds_total")).toBe(0);
    record(false);
    expect(await value("chatops_ingest_held")).toBe(0);
    expect(await value("chatops_ingest_held_seconds_total")).toBe(2.5);
    clock += 10_000; // not held meanwhile: nothing counted
    record(true);
    clock += 500;
    record(false);
    expect(await value("chatops_ingest_held_seconds_total")).toBe(3);
  });
});

describe("a held ingest worker (real Redis)", () => {
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  let worker: Worker | undefined;
  beforeEach(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    prefix = uniquePrefix();
    queue = new Queue("ingest", { connection: redis, prefix });
  });
  afterEach(async () => {
    await worker?.close(true);
    worker = undefined;
    await queue.close();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  it("takes no new job while held, finishes the one it holds, and takes the rest once released", async () => {
    const done: string[] = [];
    let finishFirst: () => void = () => undefined;
    const firstMayFinish = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    worker = new Worker(
      "ingest",
      async (job) => {
        if (job.name === "first") await firstMayFinish;
        done.push(job.name);
      },
      // every slot busy when the hold comes, as under a flood: a slot waiting on an empty queue
      // would still take the next job added (BullMQ's fetch was already under way)
      { connection: redis.duplicate(), prefix, concurrency: 1 },
    );
    const hold = new IngestHold();
    const unfollow = followHold(hold, worker);
    await queue.add("first", {});
    await expect.poll(() => queue.getActiveCount(), { timeout: 10_000 }).toBe(1);

    hold.set(true);
    await expect.poll(() => worker?.isPaused(), { timeout: 5_000 }).toBe(true);
    await queue.add("second", {});
    await queue.add("third", {});
    finishFirst();
    await expect.poll(() => done.includes("first"), { timeout: 5_000 }).toBe(true);
    // a second and more: the worker would have taken them within milliseconds
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(done).toEqual(["first"]);
    expect(await queue.getWaitingCount()).toBe(2);

    hold.set(false);
    await expect.poll(() => done.length, { timeout: 10_000 }).toBe(3);
    expect(done.slice(1).sort()).toEqual(["second", "third"]);

    // no longer followed (the worker is closing): a hold leaves it running
    unfollow();
    hold.set(true);
    expect(worker.isPaused()).toBe(false);
  });

  it("starts held when the hold was set before the worker started", async () => {
    const done: string[] = [];
    const hold = new IngestHold();
    hold.set(true);
    worker = new Worker(
      "ingest",
      async (job) => {
        done.push(job.name);
      },
      { connection: redis.duplicate(), prefix, autorun: false },
    );
    followHold(hold, worker);
    void worker.run();
    await queue.add("early", {});
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(done).toEqual([]);
    hold.set(false);
    await expect.poll(() => done.length, { timeout: 10_000 }).toBe(1);
  });
});

describe("the hold across the thread boundary", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chatops-intake-pressure-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reaches the workers' thread's IngestHold, each change in order", async () => {
    const script = path.join(dir, "thread.mts");
    const changes = path.join(dir, "changes");
    await writeFile(
      script,
      [
        "import { appendFileSync } from 'node:fs';",
        `import { pino } from ${JSON.stringify(import.meta.resolve("pino"))};`,
        `import { IngestHold } from ${JSON.stringify(new URL("../../app/intake-pressure.ts", import.meta.url).pathname)};`,
        `import { superviseThisThread } from ${JSON.stringify(new URL("../../app/worker-thread.ts", import.meta.url).pathname)};`,
        "const hold = new IngestHold();",
        "hold.onChange((held) => appendFileSync(process.env.CHANGES, `${held}\\n`));",
        "superviseThisThread(() => process.exit(0), pino({ level: 'silent' }), hold);",
        "setInterval(() => undefined, 1000);",
      ].join("\n"),
    );
    const workers = new WorkerThread({
      entry: script,
      env: { CHANGES: changes },
      execArgv: ["--import", import.meta.resolve("tsx")],
      logger: pino({ level: "silent" }),
    });
    workers.start();
    try {
      await expect.poll(() => workers.tid, { timeout: 20_000 }).toBeDefined();
      workers.holdIngest(true);
      workers.holdIngest(true); // no change: the thread's IngestHold tells no one
      workers.holdIngest(false);
      workers.holdIngest(true);
      const said = async () => (await readFile(changes, "utf8").catch(() => "")).split("\n").filter(Boolean);
      await expect.poll(async () => (await said()).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      const seen = await said();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await readFile(changes, "utf8")).split("\n").filter(Boolean)).toEqual([
        "true",
        "false",
        "true",
      ]);
      expect(seen).toEqual(["true", "false", "true"]);
    } finally {
      await workers.stop(10_000);
    }
  });
});

// The workers' own thread. With every role (ROLES not set) `npm start` keeps the HTTP intake on its
// main thread and runs the queue workers and the Telegram bot in a worker thread it starts and
// supervises. The thread has its own event loop and V8 heap, so a webhook's acknowledgement never
// waits behind ingest, analysis or card work, and the two use both cores of a small machine. It is
// a thread rather than a second process because a process costs its own copy of node in memory:
// under the bench's load the summed resident set of `npm start` was about 60 MB smaller than with
// the workers in a child process (about 50 MB of node's code counted once instead of twice, the
// rest node's own per-process memory).
//
// The thread lowers its own scheduling priority (WORKER_NICENESS; Linux keeps a nice value per
// thread): on a machine whose cores are all busy, the kernel gives the intake the CPU first, so a
// burst of alerts is acknowledged at once and the backlog waits in Redis, where it is durable,
// rather than the senders waiting for the backlog. The thread still takes every cycle the intake
// leaves idle. A nice value does not reach the PostgreSQL and Redis work its jobs cause, so while
// the intake is saturated the thread's ingest worker is also held (app/intake-pressure.ts). Its
// young generation is kept small (WORKER_YOUNG_GENERATION_MB): it does background work, where a
// few more scavenges cost nothing anyone waits for. V8 lets a `--max-semi-space-size`
// given to node (in NODE_OPTIONS, say, to size the intake's) override a thread's own resource
// limits, so the flag is put back to V8's default (0: the thread's limits decide) just before the
// thread is created; it is read only when a heap is set up, and the main thread's was set up long
// before.
//
// Supervised: a thread that ends (an uncaught error, its heap's limit, a failed start) is started
// again (after 1 s, doubling up to 30 s while it keeps ending soon after its start). `stop()` asks
// it to drain and close as SIGTERM would, waits for that, and terminates it only past the limit.
// A thread cannot outlive its process, so nothing of it is left when `npm start` is killed.
import { readlinkSync } from "node:fs";
import { constants, getPriority, setPriority } from "node:os";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { IngestHold } from "./intake-pressure.js";

/** The first restart waits this long; each quick end after it doubles the wait. */
export const RESTART_DELAY_MS = 1_000;
export const RESTART_DELAY_LIMIT_MS = 30_000;
/** A thread that ran this long before it ended counts as healthy: the next restart is quick again. */
const HEALTHY_RUN_MS = 60_000;
/**
 * Added to the process's nice value for the thread (19 is the lowest priority; lowering one's own
 * priority needs no privilege). At 10 the kernel weighs the intake about ten times the workers when
 * both want a core. Linux weighs nice values among the threads of one group (a container's cgroup,
 * a systemd service, a login session): 10 rather than 19, so that where the group is the whole
 * machine, the workers are slowed, not starved, by whatever else runs there.
 */
export const WORKER_NICENESS = 10;
/**
 * The thread's young generation in MB: V8 splits it into two 2 MB semi-spaces and a space for
 * large new objects (the intake's grow to 16 MB each, main.ts). Its resident set is about 20 MB
 * smaller than with V8's default, once ready and under load.
 */
export const WORKER_YOUNG_GENERATION_MB = 6;

/** Supervisor → thread: drain and close, as on SIGTERM. */
interface StopMessage {
  stop: { delayMs: number };
}
/** Supervisor → thread: the intake is saturated, or no longer (app/intake-pressure.ts). */
interface HoldMessage {
  ingestHeld: boolean;
}
/** Thread → supervisor: the Linux task id it runs as, once its priority is set. */
interface StartedMessage {
  tid: number;
}

export interface WorkerThreadOptions {
  /** The script the thread runs: the same entry point as the main thread (main.ts or dist/main.js). */
  entry: string;
  /** Its whole environment (registry/config.ts `childEnvironment`); unset names are left out. */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Node flags for the thread (the main thread's by default, e.g. tsx's loader in development). */
  execArgv?: readonly string[];
  /** Wait before the first restart (RESTART_DELAY_MS by default). */
  restartDelayMs?: number;
}

export class WorkerThread {
  private worker: Worker | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private startedAt = 0;
  private starts = 0;
  private currentTid: number | undefined;
  private readonly startListeners: ((tid: number) => void)[] = [];

  constructor(private readonly options: WorkerThreadOptions) {
    this.delayMs = options.restartDelayMs ?? RESTART_DELAY_MS;
  }

  /** The running thread's Linux task id (as in /proc/<pid>/task/<tid>), once it has said it. */
  get tid(): number | undefined {
    return this.currentTid;
  }

  /** How many threads were started so far (1 after `start()`, more after restarts). */
  get startCount(): number {
    return this.starts;
  }

  /** Calls `listener` with the task id of each thread started from now on, once it runs. */
  onStart(listener: (tid: number) => void): void {
    this.startListeners.push(listener);
  }

  start(): void {
    if (this.stopping || this.worker !== undefined) return;
    const env = Object.fromEntries(
      Object.entries(this.options.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    this.starts += 1;
    this.startedAt = Date.now();
    let worker: Worker;
    try {
      // the thread's young generation is its resourceLimits', not the intake's flag (see above)
      setFlagsFromString("--max-semi-space-size=0");
      worker = new Worker(threadEntry(this.options.entry), {
        env,
        ...(this.options.execArgv === undefined ? {} : { execArgv: [...this.options.execArgv] }),
        resourceLimits: {
          maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
        },
      });
    } catch (error) {
      // a thread that cannot be created now (out of memory, say) is tried again like one that ended
      this.options.logger.error({ err: error }, "workers' thread could not be started");
      this.scheduleRestart(undefined);
      return;
    }
    this.worker = worker;
    worker.on("message", (message: Partial<StartedMessage>) => {
      if (typeof message.tid !== "number") return;
      this.currentTid = message.tid;
      this.options.logger.info({ tid: message.tid, threadId: worker.threadId }, "workers' thread started");
      for (const listener of this.startListeners) listener(message.tid);
    });
    worker.on("error", (error) => {
      this.options.logger.error({ err: error }, "workers' thread failed");
    });
    worker.once("exit", (code) => {
      this.worker = undefined;
      this.currentTid = undefined;
      this.scheduleRestart(code);
    });
  }

  private scheduleRestart(code: number | undefined): void {
    if (this.stopping) return;
    const ranMs = Date.now() - this.startedAt;
    if (ranMs >= HEALTHY_RUN_MS) this.delayMs = this.options.restartDelayMs ?? RESTART_DELAY_MS;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, RESTART_DELAY_LIMIT_MS);
    this.options.logger.error(
      { code, restartInMs: delayMs },
      `workers' thread ended; starting it again in ${delayMs / 1000} s`,
    );
    this.restartTimer = setTimeout(() => this.start(), delayMs);
  }

  /** Tells the running thread whether to hold its ingest backlog (app/intake-pressure.ts). */
  holdIngest(held: boolean): void {
    this.worker?.postMessage({ ingestHeld: held } satisfies HoldMessage);
  }

  /**
   * No more restarts; asks the thread to drain and close (waiting `delayMs` first, as the main
   * thread does on SIGTERM) and resolves once it ended, or terminates it after `limitMs`.
   */
  async stop(limitMs: number, delayMs = 0): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker === undefined) return;
    const ended = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage({ stop: { delayMs } } satisfies StopMessage);
    let timer: NodeJS.Timeout | undefined;
    const overtime = new Promise<"overtime">((resolve) => {
      timer = setTimeout(() => resolve("overtime"), limitMs);
    });
    const outcome = await Promise.race([ended.then(() => "ended" as const), overtime]);
    clearTimeout(timer);
    if (outcome === "overtime") {
      this.options.logger.warn({ limitMs }, "workers' thread still running; terminating it");
      await worker.terminate();
    }
  }
}

/**
 * What the thread runs: the entry itself, or in development (a TypeScript entry under tsx) a
 * module that registers tsx's loader in the thread first, since Node 20 does not carry the main
 * thread's `--import tsx` over to a worker's entry.
 */
function threadEntry(entry: string): string | URL {
  if (!/\.[cm]?ts$/.test(entry)) return entry;
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(pathToFileURL(entry).href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/**
 * In the thread a WorkerThread started: lowers its own priority, tells the supervisor its task id,
 * calls `stop` with the drain delay when the supervisor asks it to stop, and keeps `hold` as the
 * supervisor says. Returns false (and does nothing) on a main thread.
 */
export function superviseThisThread(
  stop: (delayMs: number) => void,
  logger: Logger,
  hold?: IngestHold,
): boolean {
  if (isMainThread || parentPort === null) return false;
  const port = parentPort;
  // Linux only: elsewhere (macOS in development) the call would lower the whole process, intake too
  if (process.platform === "linux") {
    try {
      // 0: this thread alone, since Linux keeps a nice value per thread
      setPriority(0, Math.min(getPriority(0) + WORKER_NICENESS, constants.priority.PRIORITY_LOW));
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "workers' thread priority left as is");
    }
  }
  port.on("message", (message: Partial<StopMessage & HoldMessage>) => {
    if (message.stop !== undefined) stop(message.stop.delayMs);
    if (typeof message.ingestHeld === "boolean") hold?.set(message.ingestHeld);
  });
  port.postMessage({ tid: ownTaskId() } satisfies StartedMessage);
  return true;
}

/** This thread's Linux task id: /proc/thread-self links to <pid>/task/<tid> (the pid elsewhere). */
function ownTaskId(): number {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").at(-1));
  } catch {
    return process.pid;
  }
}

// The workers' own process. With every role (ROLES not set) `npm start` keeps the HTTP intake in
// its first process and runs the queue workers and the Telegram bot in a child it forks and
// supervises, so a webhook's acknowledgement never waits behind ingest, analysis or card work on
// one event loop, and the two use both cores of a small machine.
//
// The child runs at a lower scheduling priority (WORKER_NICENESS): on a machine whose cores are
// all busy, the kernel gives the intake the CPU first, so a burst of alerts is acknowledged at once
// and the backlog waits in Redis, where it is durable, rather than the senders waiting for the
// backlog. The child still takes every cycle the intake leaves idle.
//
// Supervised: a child that dies is started again (after 1 s, doubling up to 30 s while it keeps
// dying soon after its start); SIGTERM reaches it through `stop()`, which waits for its graceful
// exit and kills it only past the limit. A child whose parent is gone (even killed outright) sees
// its IPC channel close and stops by itself (`stopWhenOrphaned`), so no worker outlives `npm start`.
import { fork, type ChildProcess } from "node:child_process";
import { constants, getPriority, setPriority } from "node:os";
import type { Logger } from "pino";

/** The first restart waits this long; each quick death after it doubles the wait. */
export const RESTART_DELAY_MS = 1_000;
export const RESTART_DELAY_LIMIT_MS = 30_000;
/** A child that ran this long before dying counts as healthy: the next restart is quick again. */
const HEALTHY_RUN_MS = 60_000;
/**
 * Added to this process's nice value for the child (19 is the lowest priority; a nicer child
 * needs no privilege). At 10 the kernel weighs the intake about ten times the child when both want
 * a core. Linux weighs nice values among the processes of one group (a container's cgroup, a
 * systemd service, a login session): 10 rather than 19, so that where the group is the whole
 * machine, the child is slowed, not starved, by whatever else runs there.
 */
export const WORKER_NICENESS = 10;

export interface WorkerProcessOptions {
  /** The script the child runs: the same entry point as this process (main.ts or dist/main.js). */
  entry: string;
  /** Its whole environment (registry/config.ts `childEnvironment`). */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Node flags for the child (this process's by default, e.g. tsx's loader in development). */
  execArgv?: readonly string[];
  /** Wait before the first restart (RESTART_DELAY_MS by default). */
  restartDelayMs?: number;
  /** Added to this process's nice value for the child (WORKER_NICENESS by default; 0 leaves it equal). */
  niceness?: number;
}

export class WorkerProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private startedAt = 0;
  private starts = 0;
  private readonly startListeners: ((pid: number) => void)[] = [];

  constructor(private readonly options: WorkerProcessOptions) {
    this.delayMs = options.restartDelayMs ?? RESTART_DELAY_MS;
  }

  /** The running child's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many children were started so far (1 after `start()`, more after restarts). */
  get startCount(): number {
    return this.starts;
  }

  /** Calls `listener` with the pid of each child started from now on. */
  onStart(listener: (pid: number) => void): void {
    this.startListeners.push(listener);
  }

  start(): void {
    if (this.stopping || this.child !== undefined) return;
    const child = fork(this.options.entry, [], {
      env: this.options.env,
      execArgv: [...(this.options.execArgv ?? process.execArgv)],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    this.starts += 1;
    this.startedAt = Date.now();
    const pid = child.pid;
    if (pid !== undefined) this.lowerPriority(pid);
    this.options.logger.info({ pid }, "worker process started");
    child.once("error", (error) => {
      this.options.logger.error({ err: error }, "worker process could not be started");
    });
    child.once("exit", (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      const ranMs = Date.now() - this.startedAt;
      if (ranMs >= HEALTHY_RUN_MS) this.delayMs = this.options.restartDelayMs ?? RESTART_DELAY_MS;
      const delayMs = this.delayMs;
      this.delayMs = Math.min(this.delayMs * 2, RESTART_DELAY_LIMIT_MS);
      this.options.logger.error(
        { code, signal, restartInMs: delayMs },
        `worker process exited; starting it again in ${delayMs / 1000} s`,
      );
      this.restartTimer = setTimeout(() => this.start(), delayMs);
    });
    if (pid !== undefined) for (const listener of this.startListeners) listener(pid);
  }

  /** The child's nice value becomes this process's plus `niceness`, as `nice -n` would set it. */
  private lowerPriority(pid: number): void {
    const added = this.options.niceness ?? WORKER_NICENESS;
    if (added <= 0) return;
    try {
      setPriority(pid, Math.min(getPriority() + added, constants.priority.PRIORITY_LOW));
    } catch (error) {
      // a container without the right to renice: the child runs at this process's priority
      this.options.logger.warn({ err: (error as Error).message, pid }, "worker process priority left as is");
    }
  }

  /**
   * No more restarts; sends `signal` and resolves once the child exited, or kills it after
   * `limitMs`. The child's own SIGTERM handling drains its jobs first (main.ts).
   */
  async stop(limitMs: number, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const overtime = new Promise<"overtime">((resolve) => {
      timer = setTimeout(() => resolve("overtime"), limitMs);
    });
    const outcome = await Promise.race([exited.then(() => "exited" as const), overtime]);
    clearTimeout(timer);
    if (outcome === "overtime") {
      this.options.logger.warn({ limitMs }, "worker process still running; killing it");
      child.kill("SIGKILL");
      await exited;
    }
  }
}

/**
 * In a child started by WorkerProcess: calls `stop` once the parent is gone (its IPC channel
 * closes when the parent exits or is killed). Does nothing in a process nobody forked.
 */
export function stopWhenOrphaned(stop: () => void): void {
  if (process.send === undefined) return;
  process.once("disconnect", stop);
}

// The bot under test runs as a child process, started exactly as `npm start` starts it
// (`node --import tsx main.ts`), so the load generator in the bench process never shares the
// bot's event loop or heap. Not the tsx CLI: it runs the script in a second node process and
// kills it when it does not acknowledge a signal within 30 ms, which a loaded bot cannot promise.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { testEnv } from "../dev/env.js";
import { freePort, waitForHttp } from "../dev/processes.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ARGS = ["--import", "tsx", "main.ts"] as const;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Process groups still running. If the bench dies without its cleanup (an uncaught error, a
 * closed stdout), the exit hook still kills them, so no bot outlives the bench.
 */
const running = new Set<number>();
process.on("exit", () => {
  for (const pid of running) killGroup(pid);
});

export interface BotProcess {
  readonly label: string;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** The node process that runs main.ts. */
  readonly pid: number;
  /** Its resident set (VmRSS) now, in MB; undefined once it exited. */
  rssMb(): Promise<number | undefined>;
  /** Its peak resident set (VmHWM) so far, in MB. */
  peakRssMb(): Promise<number | undefined>;
  /** The last 20 kB of its stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

export interface BotProcessOptions {
  label: string;
  /** Settings on top of dev/env.ts's complete test environment. */
  env: Record<string, string>;
}

/** Starts the bot on a free port of 127.0.0.1 and resolves once /api/v1/health answers 200. */
export async function startBotProcess(options: BotProcessOptions): Promise<BotProcess> {
  const port = await freePort();
  const env = definedOnly({
    // Only what a shell needs; nothing else from the bench's environment reaches the bot.
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...testEnv({ PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", ...options.env }),
  });
  // detached: the bot and the esbuild service tsx starts for it form one process group, which
  // the fallback in stop() can kill as a whole without touching anything else.
  const child = spawn(process.execPath, ARGS, {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.label}: could not start node ${ARGS.join(" ")}`);
  running.add(pid);
  void exited.then(() => running.delete(pid));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // main.ts closes the bot gracefully on SIGTERM.
    child.kill("SIGTERM");
    const timer = setTimeout(() => killGroup(pid), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/api/v1/health`, READY_TIMEOUT_MS, child);
  } catch (error) {
    await stop();
    throw new Error(`${options.label} did not become healthy: ${(error as Error).message}\n${output}`, {
      cause: error,
    });
  }
  return {
    label: options.label,
    url,
    pid,
    output: () => output,
    stop,
    rssMb: () => statusMb(pid, "VmRSS"),
    peakRssMb: () => statusMb(pid, "VmHWM"),
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

async function statusMb(pid: number, field: "VmRSS" | "VmHWM"): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
}

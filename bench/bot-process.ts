// The bot under test runs as a child process, started exactly as `npm start` starts it: the
// compiled `node dist/main.js` (built first when a source is newer, as the `prestart` hook does),
// so the load generator in the bench process never shares the bot's event loop or heap, and no
// TypeScript compiler sits in the measured memory. `npm start` runs one process (the workers in a
// thread of it), but CPU and memory are summed over the whole process tree all the same, so that a
// process it starts could never hide from the figures.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { testEnv } from "../dev/env.js";
import { freePort, waitForHttp } from "../dev/processes.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/**
 * What `npm start` runs: package.json's start script, its environment settings (glibc's mmap
 * threshold) and what follows `node` (its flags, then dist/main.js).
 */
const START = startCommand();
const ARGS = START.args;
/** How often the process tree's memory is read while the bot runs. */
const MEMORY_SAMPLE_MS = 250;
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
  /** The node process that `npm start` runs (dist/main.js). */
  readonly pid: number;
  /** It and every process it started (none today: the workers run in a thread of it). */
  pids(): Promise<number[]>;
  /** The resident sets (VmRSS) of the whole tree now, summed, in MB; undefined once it exited. */
  rssMb(): Promise<number | undefined>;
  /**
   * The peak of the summed resident set so far, in MB: the highest sum sampled every 250 ms, or
   * the sum of each process's own peak (VmHWM) if that is higher, since a sample can miss a peak.
   */
  peakRssMb(): Promise<number | undefined>;
  /** Each process's own peak (VmHWM) so far, in MB, by pid. */
  peaksByProcess(): ReadonlyMap<number, number>;
  /** The last 20 kB of its stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

export interface BotProcessOptions {
  label: string;
  /** Settings on top of dev/env.ts's complete test environment. */
  env: Record<string, string>;
  /** node's flags instead of the start script's (a Kubernetes pod's: podCommand()). */
  nodeFlags?: readonly string[];
}

let built = false;

/** `npm run build` when a source is newer than dist/ (what `prestart` does before `npm start`). */
function buildOnce(): void {
  if (built) return;
  const result = spawnSync(process.execPath, ["--import", "tsx", "dev/build.ts", "--if-stale"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status})`);
  built = true;
}

/** Starts the bot on a free port of 127.0.0.1 and resolves once /api/v1/health answers 200. */
export async function startBotProcess(options: BotProcessOptions): Promise<BotProcess> {
  buildOnce();
  const port = await freePort();
  const env = definedOnly({
    // Only what a shell needs; nothing else from the bench's environment reaches the bot.
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...START.env,
    ...testEnv({ PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", ...options.env }),
  });
  // detached: the bot and the processes it starts form one process group, which the fallback in
  // stop() can kill as a whole without touching anything else.
  const args = options.nodeFlags === undefined ? ARGS : [...options.nodeFlags, "dist/main.js"];
  const child = spawn(process.execPath, args, {
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
  if (pid === undefined) throw new Error(`${options.label}: could not start node ${args.join(" ")}`);
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

  const memory = new TreeMemory(pid);
  const sampler = setInterval(() => void memory.sample(), MEMORY_SAMPLE_MS);
  sampler.unref();
  void exited.then(() => clearInterval(sampler));

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
    pids: () => processTree(pid),
    rssMb: async () => (await memory.sample()).rss,
    peakRssMb: async () => {
      await memory.sample();
      return memory.peak();
    },
    peaksByProcess: () => memory.peaks(),
  };
}

/**
 * The start script as `[NAME=${NAME:-default} …] node <flags> dist/main.js`. The bot's environment
 * here holds none of those names, so each takes its default, as under a plain `npm start`.
 */
function startCommand(): { env: Record<string, string>; args: string[] } {
  const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: { start: string } })
    .scripts;
  const words = scripts.start.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let setting: RegExpExecArray | null;
  while (
    (setting = /^([A-Z_][A-Z0-9_]*)=(?:\$\{\1:-([^}$'"\\]*)\}|([^$'"\\]*))$/.exec(words[0] ?? "")) !== null
  ) {
    env[setting[1] as string] = setting[2] ?? setting[3] ?? "";
    words.shift();
  }
  // anything the shell would expand or unquote (a quote, a `$`, a backslash) is not read here
  const [program, ...args] = words;
  if (program !== "node" || !args.includes("dist/main.js"))
    throw new Error(
      `package.json's start script is not \`[NAME=value …] node … dist/main.js\`: ${scripts.start}`,
    );
  return { env, args };
}

/**
 * How a role's Deployment (deploy/k8s/base) runs the image: node's flags and NODE_OPTIONS, the
 * image's own command when the Deployment sets no args.
 */
export function podCommand(role: "http" | "worker" | "bot"): {
  nodeFlags: string[];
  env: Record<string, string>;
} {
  interface Container {
    args?: string[];
    env?: { name: string; value?: string }[];
  }
  const manifest = parse(readFileSync(`${ROOT}deploy/k8s/base/deployment-${role}.yaml`, "utf8")) as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  const [container] = manifest.spec.template.spec.containers;
  const nodeOptions = container?.env?.find((setting) => setting.name === "NODE_OPTIONS")?.value;
  const env = nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions };
  const args = container?.args;
  if (args === undefined) return { nodeFlags: START.args.filter((arg) => arg !== "dist/main.js"), env };
  const [program, ...rest] = args;
  if (program !== "node" || rest.at(-1) !== "main.js")
    throw new Error(`deployment-${role}.yaml's args are not \`node … main.js\`: ${args.join(" ")}`);
  return { nodeFlags: rest.slice(0, -1), env };
}

/** Summed memory of a process tree, sampled; remembers each process's own peak after it is gone. */
class TreeMemory {
  private peakSum = 0;
  private readonly ownPeaks = new Map<number, number>();

  constructor(private readonly root: number) {}

  async sample(): Promise<{ rss: number | undefined }> {
    const pids = await processTree(this.root);
    let sum = 0;
    let seen = false;
    for (const pid of pids) {
      const rss = await statusMb(pid, "VmRSS");
      const hwm = await statusMb(pid, "VmHWM");
      if (rss === undefined) continue;
      seen = true;
      sum += rss;
      if (hwm !== undefined) this.ownPeaks.set(pid, Math.max(hwm, this.ownPeaks.get(pid) ?? 0));
    }
    if (!seen) return { rss: undefined };
    this.peakSum = Math.max(this.peakSum, sum);
    return { rss: sum };
  }

  peaks(): ReadonlyMap<number, number> {
    return this.ownPeaks;
  }

  peak(): number | undefined {
    const ownSum = [...this.ownPeaks.values()].reduce((total, value) => total + value, 0);
    const peak = Math.max(this.peakSum, ownSum);
    return peak > 0 ? peak : undefined;
  }
}

/** `root` and its descendants, from the parent pids in /proc. */
export async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of (await readdir("/proc").catch(() => [])).filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined);
    // the 2nd field after the command name (which may hold spaces) is the parent pid
    const ppid = stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
    if (ppid !== undefined) parents.set(Number(entry), Number(ppid));
  }
  const tree = [root];
  for (let index = 0; index < tree.length; index++) {
    for (const [pid, ppid] of parents) if (ppid === tree[index]) tree.push(pid);
  }
  return tree;
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

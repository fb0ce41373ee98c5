// Redis and PostgreSQL of the bot's own, for a machine where nothing is configured and nothing
// answers at the defaults: `npm start` starts them from the system's binaries in a data
// directory of its own (LOCAL_DATA_DIR, default `.data/`), Redis with append-only persistence so
// an accepted alert stays accepted, PostgreSQL with trust authentication on 127.0.0.1 only. The
// next start reuses them (same directory, same ports); the bot stops them when it stops.
// Configured REDIS_URL and DATABASE_URL always win and are never replaced.
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "pino";
import type { Config } from "../registry/config.js";

const run = promisify(execFile);

export class LocalServiceError extends Error {
  override readonly name = "LocalServiceError";
}

export interface LocalService {
  /** The URL the bot connects to (REDIS_URL / DATABASE_URL). */
  url: string;
  /** Where its data lives. */
  dir: string;
  /** True when this call started it; false when a previous start left it running. */
  started: boolean;
  stop(): Promise<void>;
}

/** What to install when a binary is missing, for the two systems people run this on. */
const INSTALL = {
  postgres:
    "install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql@16`) or set DATABASE_URL",
  redis:
    "install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`) or set REDIS_URL",
};

/** Whether something accepts TCP connections at host:port within `ms`. */
export function answers(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The ports chosen at the first start, kept so that the next start finds the same services. */
async function portsOf(dir: string): Promise<{ postgres: number; redis: number }> {
  const file = path.join(dir, "ports.json");
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as { postgres?: unknown; redis?: unknown };
    if (typeof stored.postgres === "number" && typeof stored.redis === "number") {
      return { postgres: stored.postgres, redis: stored.redis };
    }
  } catch {
    // first start: choose
  }
  const ports = { postgres: await freePort(), redis: await freePort() };
  await mkdir(dir, { recursive: true });
  await writeFile(file, `${JSON.stringify(ports)}\n`);
  return ports;
}

/** The first directory holding every one of `programs`: the search path, then where packages put them. */
function binDir(programs: readonly string[], searchPath: string): string | undefined {
  const candidates = [
    ...searchPath.split(path.delimiter),
    ...versioned("/usr/lib/postgresql", "bin"),
    ...versioned("/opt/homebrew/opt", "bin", "postgresql"),
    ...versioned("/usr/local/opt", "bin", "postgresql"),
    "/opt/homebrew/bin",
    "/usr/local/bin",
  ];
  return candidates.find(
    (dir) => dir !== "" && programs.every((program) => existsSync(path.join(dir, program))),
  );
}

/** `<root>/<name>/<sub>` for each entry of root (newest version first). */
function versioned(root: string, sub: string, prefix = ""): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => name.startsWith(prefix))
    .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))
    .map((name) => path.join(root, name, sub));
}

/**
 * The uid and gid PostgreSQL's programs run as: initdb and postgres refuse to run as root, so a
 * root process uses the `postgres` system account the packages create.
 */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const { stdout } = await run("getent", ["passwd", "postgres"]);
    const [, , uid, gid] = stdout.trim().split(":");
    if (uid === undefined || gid === undefined) throw new Error("no postgres account");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    throw new LocalServiceError(
      "PostgreSQL cannot run as root and there is no `postgres` account: run the bot as another user, or set DATABASE_URL",
    );
  }
}

async function runAs(
  user: { uid: number; gid: number } | undefined,
  program: string,
  args: readonly string[],
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      // PostgreSQL's programs read the locale; the bot's own may not exist in a minimal system
      env: { LC_ALL: "C", LANG: "C" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

export async function localPostgres(dir: string, searchPath: string): Promise<LocalService> {
  const bin = binDir(["initdb", "pg_ctl"], searchPath);
  if (bin === undefined) throw new LocalServiceError(`no PostgreSQL found: ${INSTALL.postgres}`);
  const user = await postgresUser();
  const data = path.resolve(dir, "postgres");
  const { postgres: port } = await portsOf(dir);
  const pgCtl = path.join(bin, "pg_ctl");
  if (!existsSync(path.join(data, "PG_VERSION"))) {
    await mkdir(data, { recursive: true, mode: 0o700 });
    if (user !== undefined) await chown(data, user.uid, user.gid);
    const init = await runAs(user, path.join(bin, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    if (init.code !== 0) throw new LocalServiceError(`initdb failed in ${data}: ${lastLine(init.output)}`);
  }
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const running = (await runAs(user, pgCtl, ["-D", data, "status"])).code === 0;
  if (!running) {
    const start = await runAs(user, pgCtl, [
      "-D",
      data,
      "-l",
      path.join(data, "server.log"),
      "-o",
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=`,
      "-w",
      "-t",
      "60",
      "start",
    ]);
    if (start.code !== 0)
      throw new LocalServiceError(
        `PostgreSQL did not start in ${data}: ${lastLine(start.output)} (see ${path.join(data, "server.log")})`,
      );
  }
  return {
    url,
    dir: data,
    started: !running,
    async stop() {
      await runAs(user, pgCtl, ["-D", data, "-m", "fast", "-w", "stop"]);
    },
  };
}

export async function localRedis(dir: string, searchPath: string): Promise<LocalService> {
  const bin = binDir(["redis-server"], searchPath);
  if (bin === undefined) throw new LocalServiceError(`no Redis found: ${INSTALL.redis}`);
  const data = path.resolve(dir, "redis");
  await mkdir(data, { recursive: true });
  const { redis: port } = await portsOf(dir);
  const url = `redis://127.0.0.1:${port}`;
  const pidFile = path.join(data, "redis.pid");
  const running = await answers("127.0.0.1", port);
  if (!running) {
    const start = await runAs(undefined, path.join(bin, "redis-server"), [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      data,
      "--appendonly",
      "yes",
      "--daemonize",
      "yes",
      "--pidfile",
      pidFile,
      "--logfile",
      path.join(data, "redis.log"),
    ]);
    if (start.code !== 0)
      throw new LocalServiceError(`Redis did not start in ${data}: ${lastLine(start.output)}`);
    const deadline = Date.now() + 10_000;
    while (!(await answers("127.0.0.1", port))) {
      if (Date.now() > deadline)
        throw new LocalServiceError(
          `Redis did not answer on port ${port} (see ${path.join(data, "redis.log")})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    dir: data,
    started: !running,
    async stop() {
      const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0) {
        try {
          // SIGTERM: Redis writes its append-only file and exits
          process.kill(pid, "SIGTERM");
        } catch {
          return;
        }
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && (await answers("127.0.0.1", port, 200))) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}

function lastLine(output: string): string {
  return output.trim().split("\n").at(-1) ?? "";
}

/**
 * The configuration with the bot's own Redis and PostgreSQL where they are needed: LOCAL_SERVICES
 * `auto` starts one only when its URL is not set and nothing answers at the default address,
 * `on` whenever its URL is not set, `off` never. Says in one line where they live.
 */
export async function withLocalServices(
  config: Readonly<Config>,
  logger: Logger,
): Promise<{ config: Readonly<Config>; stop(): Promise<void> }> {
  const { mode, dir, searchPath } = config.local;
  const needed = async (configured: boolean, port: number) =>
    mode !== "off" && !configured && (mode === "on" || !(await answers("127.0.0.1", port)));
  const services: LocalService[] = [];
  const stop = async () => {
    for (const service of services.splice(0).reverse()) await service.stop();
  };
  try {
    const redis = (await needed(config.redis.configured, 6379))
      ? await localRedis(dir, searchPath)
      : undefined;
    if (redis !== undefined) services.push(redis);
    const postgres = (await needed(config.database.configured, 5432))
      ? await localPostgres(dir, searchPath)
      : undefined;
    if (postgres !== undefined) services.push(postgres);
    if (services.length === 0) return { config, stop };
    logger.info(
      { redis: redis?.url, postgres: postgres?.url, dir: path.resolve(dir) },
      `using the bot's own ${services.map((s) => (s === redis ? "Redis" : "PostgreSQL")).join(" and ")} in ${path.resolve(dir)} (stopped with the bot); set REDIS_URL and DATABASE_URL to use your own servers`,
    );
    return {
      config: Object.freeze({
        ...config,
        redis: Object.freeze({ ...config.redis, url: redis?.url ?? config.redis.url }),
        database: Object.freeze({ ...config.database, url: postgres?.url ?? config.database.url }),
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// `npm start`: every role (HTTP ingest, Telegram bot, queue workers), or the ones named in ROLES.
// With ROLES not set, the HTTP intake runs on the main thread and the workers and the bot in a
// worker thread it supervises (app/worker-thread.ts), so an acknowledgement never waits behind
// their work; a ROLES naming several roles runs them all on one thread. Without REDIS_URL and
// DATABASE_URL, and nothing answering at the defaults, it brings up a Redis and a PostgreSQL of its
// own (app/local-services.ts). SIGTERM/SIGINT turn readiness false first (503 on /api/v1/health), keep
// serving for SHUTDOWN_DELAY_SECONDS so a Kubernetes Service stops sending, then stop intake, finish
// in-flight jobs (the workers' thread, asked by this one, does the same) and close the pools.
// Development runs this file under tsx (`npm run dev`); `npm start` and the image run the
// compiled dist/main.js (`npm run build`) with `--heap-growing-percent=50`: V8 lets the old
// generation of a busy process grow to several times what is live before it collects, which under
// the 100-alert load doubled the intake's resident set (about 250 MB peak against 125 MB once
// ready); collecting after 50 % growth keeps the peak near 165 MB at no CPU per alert that could be
// measured (20 % gave 10 MB less for half again the CPU). V8's flags hold for the whole process,
// the workers' thread included, except that a `--max-semi-space-size` does not size the thread's
// young generation (app/worker-thread.ts). The intake's young generation stays at V8's default (two
// 16 MB semi-spaces, reached during start-up already): two 8 MB ones
// (`--max-semi-space-size=8`) took about 20 MB off the summed peak under the 100-alert load, and
// 15-25 % off the single-alert rate (three paired runs).
// `npm start` also fixes glibc's mmap threshold at its initial 128 kB (MALLOC_MMAP_THRESHOLD_,
// unless the environment sets it; the image sets the same). By default glibc raises the threshold
// to the largest mapped block freed so far (up to 32 MB; start-up reads the bundle's chunks, up to
// 2 MB each) and the trim threshold to twice that, so later blocks of that size come from its heaps
// and what is freed there stays resident. Alternating runs of the bench's load phases, every role:
// once ready 134-135 -> 122-124 MB, peak 206-217 -> 194-200 MB; under the single-alert load
// alone, peak 189-192 -> 179-182 MB (three pairs each), no loss of either rate. Two malloc arenas
// as well (MALLOC_ARENA_MAX=2) saved nothing more the noise lets one see, and the single-alert
// rate came out 1-12 % lower in six of seven pairs (against the threshold alone or neither).
import { isMainThread } from "node:worker_threads";
import { withLocalServices } from "./app/local-services.js";
import { SHUTDOWN_LIMIT_MS } from "./app/infrastructure.js";
import { IngestHold, recordHolds, watchIntakePressure } from "./app/intake-pressure.js";
import { createLogger, startRuntime } from "./app/runtime.js";
import { superviseThisThread, WorkerThread } from "./app/worker-thread.js";
import { childEnvironment, ConfigError, loadConfig, type Config } from "./registry/config.js";

let configured: Readonly<Config>;
try {
  configured = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    // a thread's console reaches the terminal through the main thread, maybe after the thread ended
    if (isMainThread) console.error(error.message);
    else createLogger("info").fatal(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const logger = createLogger(configured.logLevel);
/**
 * In the workers' thread: its supervisor asked it to stop (with this drain delay) while it was still
 * starting; it stops as soon as it runs.
 */
let stopAskedEarly: number | undefined;
let started = false;
// the workers' thread lowers its priority before it starts, and hears a stop, or that the intake
// is saturated (app/intake-pressure.ts), at any time
const ingestHold = new IngestHold();
const inThread = superviseThisThread(
  (delayMs) => {
    if (started) stop("npm start is stopping", delayMs);
    else stopAskedEarly = delayMs;
  },
  logger,
  ingestHold,
);
let local: Awaited<ReturnType<typeof withLocalServices>>;
let runtime: Awaited<ReturnType<typeof startRuntime>>;
try {
  local = await withLocalServices(configured, logger);
  // every role: the HTTP intake here, the rest in the workers' thread started below
  const here = local.config.workersApart ? { ...local.config, roles: ["http" as const] } : local.config;
  runtime = await startRuntime(here, { logger, ...(inThread ? { ingestHold } : {}) });
} catch (error) {
  // Everything opened so far was closed; say why in plain words (in the thread, in its log).
  if (isMainThread) console.error(`start-up failed: ${(error as Error).message}`);
  else logger.fatal({ err: (error as Error).message }, "workers' thread: start-up failed");
  process.exit(1);
}

const workers = local.config.workersApart
  ? new WorkerThread({
      entry: process.argv[1] ?? "",
      env: childEnvironment({
        ROLES: "worker,bot",
        // its probes are this thread's; the servers are the ones this thread uses (maybe its own)
        HEALTH_PORT: "0",
        REDIS_URL: local.config.redis.url,
        DATABASE_URL: local.config.database.url,
        LOCAL_SERVICES: "off",
      }),
      logger,
    })
  : undefined;
workers?.start();
// the intake holds the thread's ingest backlog back while it is saturated
const pressure = workers === undefined ? undefined : watchHolds(workers);

function watchHolds(thread: WorkerThread): ReturnType<typeof watchIntakePressure> {
  const recordHold = recordHolds(runtime.metrics);
  return watchIntakePressure((held) => {
    thread.holdIngest(held);
    recordHold(held);
    logger.debug({ held }, held ? "intake saturated: ingest held" : "ingest released");
  });
}

let stopping = false;
function stop(reason: string, delayMs: number): void {
  if (stopping) return;
  stopping = true;
  runtime.drain();
  pressure?.stop();
  logger.info({ reason, delaySeconds: delayMs / 1000 }, "draining: readiness is false");
  const force = setTimeout(() => {
    logger.error(`shutdown took longer than ${(delayMs + SHUTDOWN_LIMIT_MS) / 1000} s; exiting`);
    process.exit(1);
  }, delayMs + SHUTDOWN_LIMIT_MS);
  force.unref();
  // the workers' thread drains and stops alongside this one, after the same delay
  const workersStopped = workers?.stop(delayMs + SHUTDOWN_LIMIT_MS - 2_000, delayMs) ?? Promise.resolve();
  void new Promise((resolve) => setTimeout(resolve, delayMs))
    .then(() => {
      logger.info("shutting down");
      return runtime.close();
    })
    .then(() => workersStopped)
    .then(() => local.stop())
    .then(() => {
      logger.info("stopped");
      process.exit(0);
    });
}
started = true;
if (stopAskedEarly !== undefined) stop("npm start is stopping", 0);
// signals reach the main thread only; the workers' thread stops when its supervisor asks
if (!inThread) {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => stop(signal, local.config.shutdown.delaySeconds * 1000));
  }
}

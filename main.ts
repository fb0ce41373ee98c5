// `npm start`: every role in one process (HTTP ingest, Telegram bot, queue workers), or the ones
// named in ROLES. Without REDIS_URL and DATABASE_URL, and nothing answering at the defaults, it
// brings up a Redis and a PostgreSQL of its own (app/local-services.ts). SIGTERM/SIGINT stop
// intake, finish in-flight jobs and close the pools.
import { withLocalServices } from "./app/local-services.js";
import { createLogger, startRuntime } from "./app/runtime.js";
import { ConfigError, loadConfig, type Config } from "./registry/config.js";

/** Shutdown must end well inside Kubernetes' default grace period of 30 s. */
const SHUTDOWN_LIMIT_MS = 25_000;

let configured: Readonly<Config>;
try {
  configured = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const logger = createLogger(configured.logLevel);
let local: Awaited<ReturnType<typeof withLocalServices>>;
let runtime: Awaited<ReturnType<typeof startRuntime>>;
try {
  local = await withLocalServices(configured, logger);
  runtime = await startRuntime(local.config, { logger });
} catch (error) {
  // Everything opened so far was closed; say why in plain words.
  console.error(`start-up failed: ${(error as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    void runtime
      .close()
      .then(() => local.stop())
      .then(() => {
        logger.info("stopped");
        process.exit(0);
      });
  });
}

// `npm start`: every role in one process (HTTP ingest, Telegram bot, queue workers), or the ones
// named in ROLES. Without REDIS_URL and DATABASE_URL, and nothing answering at the defaults, it
// brings up a Redis and a PostgreSQL of its own (app/local-services.ts). SIGTERM/SIGINT turn
// readiness false first (503 on /api/v1/health), keep serving for SHUTDOWN_DELAY_SECONDS so a
// Kubernetes Service stops sending, then stop intake, finish in-flight jobs and close the pools.
// Development runs this file under tsx (`npm run dev`); `npm start` and the image run the
// compiled dist/main.js (`npm run build`).
import { withLocalServices } from "./app/local-services.js";
import { SHUTDOWN_LIMIT_MS } from "./app/infrastructure.js";
import { createLogger, startRuntime } from "./app/runtime.js";
import { ConfigError, loadConfig, type Config } from "./registry/config.js";

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
    const delayMs = local.config.shutdown.delaySeconds * 1000;
    runtime.drain();
    logger.info({ signal, delaySeconds: delayMs / 1000 }, "draining: readiness is false");
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${(delayMs + SHUTDOWN_LIMIT_MS) / 1000} s; exiting`);
      process.exit(1);
    }, delayMs + SHUTDOWN_LIMIT_MS);
    force.unref();
    void new Promise((resolve) => setTimeout(resolve, delayMs))
      .then(() => {
        logger.info("shutting down");
        return runtime.close();
      })
      .then(() => local.stop())
      .then(() => {
        logger.info("stopped");
        process.exit(0);
      });
  });
}

// `npm start`: every role in one process (HTTP ingest, Telegram bot, queue workers), or the ones
// named in ROLES. SIGTERM/SIGINT stop intake, finish in-flight jobs and close the pools.
import { ConfigError, loadConfig, type Config } from "./registry/config.js";
import { startRuntime } from "./app/runtime.js";

let config: Readonly<Config>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

let runtime: Awaited<ReturnType<typeof startRuntime>>;
try {
  runtime = await startRuntime(config);
} catch (error) {
  // Everything opened so far was closed by startRuntime; say why in plain words.
  console.error(`start-up failed: ${(error as Error).message}`);
  process.exit(1);
}
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      runtime.logger.error("shutdown took longer than 30 s; exiting");
      process.exit(1);
    }, 30_000);
    force.unref();
    void runtime.close().then(() => {
      runtime.logger.info("stopped");
      process.exit(0);
    });
  });
}

// What every role stands on, opened once per process: PostgreSQL (migrated), Redis (a producer
// connection that fails fast, so a webhook answers 503 at once, and a worker connection that
// waits), the queues and the metrics; and the shutdown steps that close them in reverse order.
import { Redis, type RedisOptions } from "ioredis";
import { pino, type Logger } from "pino";
import { migrate } from "../db/migrate.js";
import { createPool, type Pool } from "../db/pool.js";
import { createMetrics, type Metrics } from "../gateways/metrics.js";
import { createQueues, type Queues } from "../jobs/queues.js";
import type { Config } from "../registry/config.js";

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "chatops-bot" }, redact: ["req.headers.authorization"] });
}

/** Steps run in reverse order of their adding: what started last (intake) stops first. */
export class Shutdown {
  private readonly steps: (() => Promise<unknown>)[] = [];

  constructor(private readonly logger: Logger) {}

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      await step().catch((error: unknown) => this.logger.error({ err: error }, "shutdown step failed"));
    }
  }
}

export interface Infrastructure {
  pool: Pool;
  /** For producers and reads: fails fast while Redis is away. */
  redis: Redis;
  /** For BullMQ workers: waits for Redis however long it is away. */
  workerConnection: Redis;
  queues: Queues;
  metrics: Metrics;
}

function redisOptions(extra: RedisOptions): RedisOptions {
  return { connectionName: "chatops-bot", ...extra };
}

export async function openInfrastructure(
  config: Readonly<Config>,
  logger: Logger,
  shutdown: Shutdown,
): Promise<Infrastructure> {
  const pool = createPool(config.database.url);
  shutdown.add(() => pool.end());
  const applied = await migrate(pool);
  if (applied.length > 0) logger.info({ applied }, "database migrated");

  const redis = new Redis(
    config.redis.url,
    redisOptions({ enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true }),
  );
  redis.on("error", (error) => logger.warn({ err: error.message }, "redis connection error"));
  await redis.connect();
  shutdown.add(() => redis.quit());
  const workerConnection = new Redis(config.redis.url, redisOptions({ maxRetriesPerRequest: null }));
  workerConnection.on("error", (error) =>
    logger.warn({ err: error.message }, "redis worker connection error"),
  );
  shutdown.add(async () => workerConnection.disconnect());

  const queues = createQueues(redis, config.redis.prefix);
  shutdown.add(() => queues.close());
  return { pool, redis, workerConnection, queues, metrics: createMetrics() };
}

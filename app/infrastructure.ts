// What every role stands on, opened once per process: PostgreSQL (migrated), Redis (a producer
// connection that fails fast, so a webhook answers 503 at once, and a worker connection that
// waits), the queues and the metrics; and the shutdown steps that close them in reverse order.
import { isMainThread } from "node:worker_threads";
import { Redis, type RedisOptions } from "ioredis";
import { pino, type Logger } from "pino";
import { migrate } from "../db/migrate.js";
import { createPool, pingDatabase, type Pool } from "../db/pool.js";
import { withDeadline } from "../domain/deadline.js";
import { redisPersistence } from "../kv/persistence.js";
import { pingRedis } from "../kv/ping.js";
import { createMetrics, type Metrics } from "../gateways/metrics.js";
import { createQueues, QUEUE_NAMES, type QueueScope, type Queues } from "../jobs/queues.js";
import { otherInstallations } from "../kv/installations.js";
import { TelegramHealthStore } from "../kv/telegram-health.js";
import { installationId } from "../db/installation.js";
import type { Config } from "../registry/config.js";

export function createLogger(level: string): Logger {
  const options = { level, base: { service: "chatops-bot" }, redact: ["req.headers.authorization"] };
  // pino flushes its asynchronous writes when a main thread exits, not when a worker thread does:
  // the workers' thread writes each line at once, so its last words (why it stopped) are not lost
  return isMainThread ? pino(options) : pino(options, pino.destination({ fd: 1, sync: true }));
}

/**
 * How long the shutdown steps may take in all, after the drain delay (SHUTDOWN_DELAY_SECONDS);
 * then the process exits anyway. A pod's terminationGracePeriodSeconds must exceed the sum.
 */
export const SHUTDOWN_LIMIT_MS = 25_000;

interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
  /** How long it may take before the next step starts anyway (and `force`, if any, runs). */
  limitMs: number;
  force?: () => Promise<unknown>;
}

/**
 * Steps run in reverse order of their adding: what started last (intake) stops first. Each step
 * has a time limit, so one that hangs (a job stuck on an outside call, a client that keeps its
 * connection open) is named in the log and overtaken, and the whole shutdown ends well inside
 * Kubernetes' 30 s grace period instead of being killed half-way.
 */
export class Shutdown {
  private readonly steps: ShutdownStep[] = [];

  constructor(private readonly logger: Logger) {}

  add(
    name: string,
    run: () => Promise<unknown>,
    options: { limitMs?: number; force?: () => Promise<unknown> } = {},
  ): void {
    this.steps.push({
      name,
      run,
      limitMs: options.limitMs ?? 3_000,
      ...(options.force === undefined ? {} : { force: options.force }),
    });
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      const started = Date.now();
      const done = await settlesWithin(
        step.limitMs,
        step.run().catch((error: unknown) => {
          this.logger.error({ err: error, step: step.name }, "shutdown step failed");
        }),
      );
      if (!done) {
        this.logger.warn(
          { step: step.name, limitMs: step.limitMs },
          `shutdown: ${step.name} still running; going on`,
        );
        // the force is bounded too: a close that hangs (a BullMQ worker whose job never settles was
        // seen to) must not hold the whole shutdown, and with it the process, forever
        if (step.force !== undefined && !(await settlesWithin(step.limitMs, step.force())))
          this.logger.warn({ step: step.name }, `shutdown: ${step.name} did not stop when forced; going on`);
      } else {
        this.logger.debug({ step: step.name, ms: Date.now() - started }, "shutdown step done");
      }
    }
  }
}

/** Whether `work` settled (either way) within `ms`; past that it is abandoned, never awaited. */
function settlesWithin(ms: number, work: Promise<unknown>): Promise<boolean> {
  return withDeadline(
    ms,
    () =>
      work.then(
        () => true,
        () => true,
      ),
    () => new Error(`not settled within ${ms} ms`),
  ).catch(() => false);
}

/**
 * How long after a dependency came back an error from a client that reconnects on its own schedule
 * (a queue worker's blocking connection, a job that was in flight) counts as the old outage's last
 * word rather than a new outage.
 */
export const OUTAGE_SETTLE_MS = 5_000;

/**
 * An outside dependency that comes and goes: logged once when it goes away, with how many errors
 * were seen, and once when it is back; never one line per reconnect attempt or per retried job.
 * Several clients report to one outage and reconnect each at its own pace: an error reported as a
 * `straggler` (by a client whose own reconnection is not what `recovered()` hears) within
 * OUTAGE_SETTLE_MS of the recovery is counted, not announced as the dependency going away again.
 */
export class Outage {
  private since: number | undefined;
  private errors = 0;
  private recoveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    /** "PostgreSQL at 10.0.0.5:5432 (DATABASE_URL)" */
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  failed(error: unknown, options: { straggler?: boolean } = {}): void {
    this.errors++;
    if (this.since !== undefined) return;
    if (options.straggler === true && this.now() - this.recoveredAt < OUTAGE_SETTLE_MS) return;
    this.since = this.now();
    this.logger.warn({ err: errorText(error) }, `${this.what} is unreachable; retrying`);
  }

  recovered(): void {
    if (this.since === undefined) return;
    this.logger.info(
      { downSeconds: Math.round((this.now() - this.since) / 1000), errors: this.errors },
      `${this.what} is reachable again`,
    );
    this.since = undefined;
    this.errors = 0;
    this.recoveredAt = this.now();
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(errorText).join("; ");
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/** "127.0.0.1:5432/postgres" of a URL: where it points, never its user or password. */
export function whereTo(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

/** How long start-up waits for PostgreSQL and Redis before it gives up (in a pod, the pod restarts). */
export const STARTUP_WAIT_MS = 300_000;

/**
 * Waits until `probe` succeeds: at start-up a dependency that is not there yet (a database still
 * starting next to the bot) is waited for, with one log line, not an exit after two seconds.
 */
async function waitUntilReachable(
  outage: Outage,
  what: string,
  probe: () => Promise<unknown>,
  waitMs: number,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  let delay = 500;
  for (;;) {
    try {
      await probe();
      outage.recovered();
      return;
    } catch (error) {
      outage.failed(error);
      if (Date.now() + delay > deadline) {
        throw new Error(
          `${what} is not reachable (${errorText(error)}); gave up after ${Math.round(waitMs / 1000)} s`,
          {
            cause: error,
          },
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

/** The two dependencies whose outages are watched. */
export type Dependency = "postgres" | "redis";

/**
 * A network or server-restart failure: Redis's or PostgreSQL's by its wording, else a socket's
 * ("socket": whose, only its port can tell), or `undefined` for anything else (a bug, a bad job).
 */
function connectionFailure(error: unknown): Dependency | "socket" | undefined {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (
    /^Stream isn't writeable|^Connection is closed\.|^Reached the max retries per request limit/.test(message)
  )
    return "redis";
  if (typeof code === "string" && /^(57P0[1-3]|08\d{3})$/.test(code)) return "postgres";
  if (/Connection terminated|the database system is (shutting down|starting up)/i.test(message))
    return "postgres";
  if (
    typeof code === "string" &&
    /^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)
  )
    return "socket";
  return /connect ECONNREFUSED|ECONNRESET/.test(message) ? "socket" : undefined;
}

/**
 * Which dependency a job's network or server-restart failure came from, or `undefined` for anything
 * else. A job can fail on either: its Redis commands fail fast while Redis is away, and counting
 * those as a PostgreSQL outage would announce one that never happened. ioredis and pg word their
 * errors differently; a refused or reset socket carries the port it was for, when it has one.
 */
export function failedDependency(error: unknown, ports: Record<Dependency, number>): Dependency | undefined {
  const failure = connectionFailure(error);
  if (failure !== "socket") return failure;
  // Node's happy-eyeballs wraps each address's error in an AggregateError; one for neither
  // dependency (ClickHouse, an LLM, the cluster) is the job's own failure
  const port =
    (error as { port?: unknown }).port ?? (error as { errors?: { port?: unknown }[] }).errors?.[0]?.port;
  if (typeof port !== "number" || port === ports.postgres) return "postgres";
  return port === ports.redis ? "redis" : undefined;
}

/**
 * A job's failure on a lost connection, counted on the outage of the dependency it came from;
 * false for any other failure. The job heard it after a round trip of its own (BullMQ records the
 * failure in Redis before it says so), so it may arrive just after another client saw the server
 * back: a PostgreSQL starting up refuses a connection ("the database system is starting up") a
 * moment before it takes the next one. Such a late report is a straggler of the outage that just
 * ended, not a new one, for PostgreSQL as for Redis (whose clients reconnect each at its own pace).
 */
export function jobConnectionFailed(
  error: unknown,
  ports: Record<Dependency, number>,
  outages: Record<Dependency, Pick<Outage, "failed">>,
): boolean {
  const dependency = failedDependency(error, ports);
  if (dependency !== undefined) outages[dependency].failed(error, { straggler: true });
  return dependency !== undefined;
}

/** A network or server-restart failure of a client that talks to one server (a queue worker's Redis). */
export function isConnectionError(error: unknown): boolean {
  return connectionFailure(error) !== undefined;
}

/** The port a postgres:// or redis:// URL points at, with the scheme's default. */
export function portOf(url: string, fallback: number): number {
  try {
    const port = new URL(url).port;
    return port === "" ? fallback : Number(port);
  } catch {
    return fallback;
  }
}

/**
 * Says at start-up whether an accepted alert survives a Redis restart; with REQUIRE_DURABLE_REDIS
 * a Redis without an append-only file or snapshots stops start-up.
 */
async function checkDurability(
  redis: Redis,
  store: string,
  required: boolean,
  logger: Logger,
): Promise<void> {
  const persistence = await redisPersistence(redis);
  if (persistence.mode === "aof") return;
  const advice = "set `appendonly yes` (see the README's Redis settings)";
  if (required && (persistence.mode === "none" || persistence.mode === "unknown")) {
    throw new Error(`${store}: ${persistence.detail}, and REQUIRE_DURABLE_REDIS is set; ${advice}`);
  }
  if (persistence.mode === "rdb") {
    logger.info(
      { persistence: persistence.detail },
      `${store} keeps snapshots only: alerts accepted since the last one are lost if it crashes; ${advice}`,
    );
  } else {
    logger.warn(
      { persistence: persistence.detail },
      `${store}: ${persistence.detail}; alerts accepted but not yet processed are lost if it restarts; ${advice}`,
    );
  }
}

export interface Infrastructure {
  /** Logged once when they start and once when they end. */
  outages: Record<Dependency, Outage>;
  /**
   * Counts a lost connection on the outage of the dependency it came from and says whether it was
   * one: a job that failed on it retries with backoff, and the outage is logged once, not per job.
   */
  connectionFailed(error: unknown): boolean;
  pool: Pool;
  /** For producers and reads: fails fast while Redis is away. */
  redis: Redis;
  /** For BullMQ workers: waits for Redis however long it is away. */
  workerConnection: Redis;
  queues: Queues;
  metrics: Metrics;
  /** REDIS_PREFIX and this database's installation id: where queues and row-naming keys live. */
  scope: QueueScope;
}

function redisOptions(extra: RedisOptions): RedisOptions {
  return { connectionName: "chatops-bot", ...extra };
}

export async function openInfrastructure(
  config: Readonly<Config>,
  logger: Logger,
  shutdown: Shutdown,
  options: { startupWaitMs?: number } = {},
): Promise<Infrastructure> {
  const waitMs = options.startupWaitMs ?? STARTUP_WAIT_MS;
  const database = `PostgreSQL at ${whereTo(config.database.url)} (DATABASE_URL)`;
  const postgresOutage = new Outage(logger, database);
  const pool = createPool(config.database.url);
  // An idle client whose server went away (a restart, pg_terminate_backend) errors on the pool:
  // without a listener that error would end the process. The next query opens a new client.
  pool.on("error", (error) => postgresOutage.failed(error));
  pool.on("connect", () => postgresOutage.recovered());
  shutdown.add("PostgreSQL pool", () => pool.end());
  await waitUntilReachable(postgresOutage, database, () => pingDatabase(pool), waitMs);
  const applied = await migrate(pool);
  if (applied.length > 0) logger.info({ applied }, "database migrated");

  // Producers fail fast when Redis is away (a webhook answers 503 at once); workers wait for it.
  const store = `Redis at ${whereTo(config.redis.url)} (REDIS_URL)`;
  const redisOutage = new Outage(logger, store);
  const ports = { postgres: portOf(config.database.url, 5432), redis: portOf(config.redis.url, 6379) };
  const redis = new Redis(
    config.redis.url,
    redisOptions({ enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true }),
  );
  redis.on("error", (error) => redisOutage.failed(error));
  redis.on("ready", () => redisOutage.recovered());
  shutdown.add("Redis connection", () => redis.quit().catch(() => redis.disconnect()), {
    force: async () => redis.disconnect(),
  });
  await waitUntilReachable(
    redisOutage,
    store,
    async () => {
      if (redis.status === "wait" || redis.status === "end") await redis.connect();
      await pingRedis(redis);
    },
    waitMs,
  );
  await checkDurability(redis, store, config.redis.requireDurable, logger);
  const workerConnection = new Redis(config.redis.url, redisOptions({ maxRetriesPerRequest: null }));
  workerConnection.on("error", (error) => redisOutage.failed(error));
  workerConnection.on("ready", () => redisOutage.recovered());
  shutdown.add("Redis worker connection", async () => workerConnection.disconnect());

  const scope = { prefix: config.redis.prefix, installation: await installationId(pool) };
  // the queues' own connections and commands in flight reconnect on their own schedule
  const queues = createQueues(redis, scope, (error) => redisOutage.failed(error, { straggler: true }));
  const others = await otherInstallations(redis, scope.prefix, scope.installation, QUEUE_NAMES.escalate);
  if (others.length > 0)
    logger.warn(
      { installation: scope.installation, others, prefix: scope.prefix },
      "Redis holds queued jobs of another database under this REDIS_PREFIX; they are never applied to this database's rows",
    );
  shutdown.add("queues", () => queues.close());
  return {
    outages: { postgres: postgresOutage, redis: redisOutage },
    connectionFailed: (error) =>
      jobConnectionFailed(error, ports, { postgres: postgresOutage, redis: redisOutage }),
    pool,
    redis,
    workerConnection,
    queues,
    metrics: createMetrics(),
    scope,
  };
}

/** The bot's id: the numeric part of its token, before the colon. */
export function botIdOf(token: string): number {
  return Number(token.split(":")[0]);
}

/** Where every process's Telegram reports meet (kv/telegram-health.ts): one hash per bot, under REDIS_PREFIX. */
export function telegramHealthStore(
  config: Readonly<Config>,
  infra: Pick<Infrastructure, "redis">,
): TelegramHealthStore {
  return new TelegramHealthStore(infra.redis, config.redis.prefix, botIdOf(config.telegram.token));
}

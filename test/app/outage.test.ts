// An outage of a dependency several clients report to: one line when it goes, one when it is back,
// and a client that reconnects later than the others does not announce a second outage. A job's
// failure is counted on the dependency it came from, told by the errors the real clients raise.
import { Redis } from "ioredis";
import pg from "pg";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  failedDependency,
  jobConnectionFailed,
  Outage,
  OUTAGE_SETTLE_MS,
  portOf,
} from "../../app/infrastructure.js";
import { freePort } from "../../dev/processes.js";
import { TEST_DATABASE_URL } from "../../dev/postgres.js";

/** An outage of `what`, and `watch` for more on the same log and clock. */
function outage(what = "Redis at 127.0.0.1:6379 (REDIS_URL)") {
  const lines: string[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) },
  );
  let now = 1_000_000;
  const watch = (name: string) => new Outage(logger, name, () => now);
  return { watched: watch(what), watch, lines, later: (ms: number) => (now += ms) };
}

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });

describe("Outage", () => {
  it("says once that it went away and once that it is back, whatever the clients report between", () => {
    const { watched, lines, later } = outage();
    watched.failed(refused);
    watched.failed(refused, { straggler: true });
    later(3_000);
    watched.failed(refused);
    watched.recovered();
    watched.recovered();
    expect(lines).toEqual([
      "Redis at 127.0.0.1:6379 (REDIS_URL) is unreachable; retrying",
      "Redis at 127.0.0.1:6379 (REDIS_URL) is reachable again",
    ]);
    expect(watched.down).toBe(false);
  });

  it("counts a straggling client's error right after the recovery as the old outage's", () => {
    const { watched, lines, later } = outage();
    watched.failed(refused);
    watched.recovered();
    later(OUTAGE_SETTLE_MS - 1);
    watched.failed(refused, { straggler: true });
    expect(watched.down).toBe(false);
    expect(lines).toHaveLength(2);
  });

  it("announces a new outage when a connection itself fails again, or a straggler after the settling time", () => {
    const { watched, lines, later } = outage();
    watched.failed(refused);
    watched.recovered();
    watched.failed(refused);
    expect(watched.down).toBe(true);
    watched.recovered();
    later(OUTAGE_SETTLE_MS);
    watched.failed(refused, { straggler: true });
    expect(watched.down).toBe(true);
    expect(lines.filter((line) => line.endsWith("is unreachable; retrying"))).toHaveLength(3);
  });
});

describe("a job's failure on a lost connection", () => {
  const ports = { postgres: 5432, redis: 6379 };
  // how pg words a connection refused by a server still replaying its log after a restart
  const startingUp = Object.assign(new Error("the database system is starting up"), { code: "57P03" });

  it("is counted on the outage that just ended when it comes right after PostgreSQL is back", () => {
    const { watched: postgres, watch, lines, later } = outage("PostgreSQL at 127.0.0.1:5432 (DATABASE_URL)");
    const redis = watch("Redis at 127.0.0.1:6379 (REDIS_URL)");
    postgres.failed(startingUp);
    // another client's connection is taken: the pool's connect event
    postgres.recovered();
    later(50);
    // BullMQ reports the job that was refused a moment before, after it recorded the failure
    expect(jobConnectionFailed(startingUp, ports, { postgres, redis })).toBe(true);
    expect(postgres.down).toBe(false);
    expect(lines).toEqual([
      "PostgreSQL at 127.0.0.1:5432 (DATABASE_URL) is unreachable; retrying",
      "PostgreSQL at 127.0.0.1:5432 (DATABASE_URL) is reachable again",
    ]);
    // later, a job's failure is a new outage
    later(OUTAGE_SETTLE_MS);
    expect(jobConnectionFailed(startingUp, ports, { postgres, redis })).toBe(true);
    expect(postgres.down).toBe(true);
    expect(redis.down).toBe(false);
  });

  it("is not counted at all when it is the job's own failure", () => {
    const failed: unknown[] = [];
    const outage = { failed: (error: unknown) => void failed.push(error) };
    expect(jobConnectionFailed(new Error("boom"), ports, { postgres: outage, redis: outage })).toBe(false);
    expect(failed).toEqual([]);
  });
});

describe("failedDependency", () => {
  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.unreachable("should have failed"),
      (error: unknown) => error,
    );
  }

  it("tells a Redis command that failed while Redis is away from a lost PostgreSQL connection", async () => {
    const closed = await freePort();
    const ports = { postgres: portOf(TEST_DATABASE_URL, 5432), redis: closed };
    // the producers' client: no offline queue, one retry (app/infrastructure.ts)
    const fast = new Redis({ port: closed, host: "127.0.0.1", enableOfflineQueue: false, lazyConnect: true });
    const retrying = new Redis({ port: closed, host: "127.0.0.1", maxRetriesPerRequest: 1 });
    const refusals: unknown[] = [];
    fast.on("error", () => undefined);
    retrying.on("error", (error) => refusals.push(error));
    try {
      const unwritable = await rejection(fast.get("k"));
      expect(String(unwritable)).toContain("Stream isn't writeable");
      expect(failedDependency(unwritable, ports)).toBe("redis");
      const retried = await rejection(retrying.get("k"));
      expect(String(retried)).toContain("max retries per request");
      expect(failedDependency(retried, ports)).toBe("redis");
      expect(refusals.length).toBeGreaterThan(0);
      expect(failedDependency(refusals[0], ports)).toBe("redis");
    } finally {
      fast.disconnect();
      retrying.disconnect();
    }

    const refusedDatabase = new pg.Client({ host: "127.0.0.1", port: closed, user: "postgres" });
    const refused = await rejection(refusedDatabase.connect());
    expect(failedDependency(refused, { ...ports, postgres: closed, redis: 6379 })).toBe("postgres");
    expect(failedDependency(refused, ports)).toBe("redis"); // the port is what tells them apart

    const victim = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await victim.connect();
    await admin.connect();
    victim.on("error", () => undefined);
    try {
      const { rows } = await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const terminated = rejection(victim.query("SELECT pg_sleep(5)"));
      await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
      const error = await terminated;
      expect((error as { code?: string }).code).toBe("57P01");
      expect(failedDependency(error, ports)).toBe("postgres");
    } finally {
      await admin.end();
      await victim.end().catch(() => undefined);
    }

    // a refusal by neither (ClickHouse, an LLM) is the job's own failure; a reset without a port is
    // PostgreSQL's, as ioredis retries its own
    const elsewhere = await freePort();
    // fetch's TypeError("fetch failed") carries the socket's error as its cause
    const refusedElsewhere = ((await rejection(fetch(`http://127.0.0.1:${elsewhere}/`))) as Error).cause;
    expect((refusedElsewhere as { code?: string }).code).toBe("ECONNREFUSED");
    expect(failedDependency(refusedElsewhere, ports)).toBeUndefined();
    expect(failedDependency(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), ports)).toBe(
      "postgres",
    );
    expect(failedDependency(new Error("incident 7 has no card"), ports)).toBeUndefined();
    expect(failedDependency(new TypeError("Cannot read properties of undefined"), ports)).toBeUndefined();
  });

  it("reads a URL's port, or the scheme's default", () => {
    expect(portOf("postgresql://postgres@db:5433/x", 5432)).toBe(5433);
    expect(portOf("redis://cache", 6379)).toBe(6379);
    expect(portOf("not a url", 6379)).toBe(6379);
  });
});

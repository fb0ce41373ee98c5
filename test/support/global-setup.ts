// Vitest's global set-up: the PostgreSQL and Redis every suite uses, and the `test` database.
// Where they answer at the usual addresses (or at TEST_DATABASE_URL / TEST_REDIS_URL) they are
// used; otherwise a private PostgreSQL and Redis are started for this run (app/local-services.ts)
// in .data/test/ and stopped at the end. Nothing here is skipped: a missing server fails the run.
import path from "node:path";
import pg from "pg";
import { answers, localPostgres, localRedis, type LocalService } from "../../app/local-services.js";

const started: LocalService[] = [];
const ROOT = path.resolve(import.meta.dirname, "../..");

export async function setup(): Promise<void> {
  const searchPath = process.env.PATH ?? "";
  const dir = path.join(ROOT, ".data", "test");
  if (process.env.TEST_REDIS_URL === undefined && !(await answers("127.0.0.1", 6379))) {
    const redis = await localRedis(dir, searchPath);
    started.push(redis);
    process.env.TEST_REDIS_URL = redis.url;
  }
  if (process.env.TEST_DATABASE_URL === undefined && !(await answers("127.0.0.1", 5432))) {
    const postgres = await localPostgres(dir, searchPath);
    started.push(postgres);
    process.env.TEST_DATABASE_URL = postgres.url.replace(/\/postgres$/, "/test");
  }
  // The suites work in their own schemas of one database, `test`; create it where it is missing.
  const url = new URL(process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test");
  const database = url.pathname.slice(1);
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
}

export async function teardown(): Promise<void> {
  for (const service of started.splice(0).reverse()) await service.stop();
}

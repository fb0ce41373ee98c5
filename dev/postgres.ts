// Each test file gets its own PostgreSQL schema in the real server, migrated from scratch and
// dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../db/migrate.js";
import { createPool, type Pool } from "../db/pool.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  schema: string;
  /** DATABASE_URL that selects this schema (search_path). */
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

export function schemaUrl(schema: string, base = TEST_DATABASE_URL): string {
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = schemaUrl(schema);
  const pool = createPool(url, { max: 5, applicationName: `test-${schema}` });
  if (options.migrate !== false) await migrate(pool);
  return {
    schema,
    url,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The pool, with `between` run once right after the first statement matching `statement` returns,
 * whether the code under test queries through the pool or through a client of it (a transaction):
 * how a test puts another connection's work exactly between two of its statements.
 */
export function interleaved(pool: Pool, statement: RegExp, between: () => Promise<void>): Pool {
  let done = false;
  const hook =
    <A extends unknown[], R>(query: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await query(...args);
      const [first] = args;
      const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "");
      if (!done && statement.test(text)) {
        done = true;
        await between();
      }
      return result;
    };
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property === "query")
        return hook(target.query.bind(target) as (...args: unknown[]) => Promise<unknown>);
      if (property === "connect") {
        return async () => {
          const client = await target.connect();
          const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
          return Object.assign(Object.create(client) as typeof client, { query: hook(query) });
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

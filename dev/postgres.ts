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

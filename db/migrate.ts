// Versioned migrations, applied at start-up. Two processes starting at once serialize on a
// PostgreSQL advisory lock, so each migration runs exactly once.
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { heldClientErrors, type Pool } from "./pool.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));
// An arbitrary constant that identifies "the chatops migration lock"; the schema name is mixed
// in so that test schemas in one database do not wait on each other.
const LOCK_NAMESPACE = 0x0c4a7095;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(file)).sort();
  const migrations = await Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, file.indexOf("_"))),
      name: file.replace(/\.sql$/, ""),
      sql: await readFile(`${dir}${file}`, "utf8"),
    })),
  );
  const versions = new Set<number>();
  for (const migration of migrations) {
    if (versions.has(migration.version)) throw new Error(`duplicate migration version ${migration.version}`);
    versions.add(migration.version);
  }
  return migrations;
}

/** Applies every pending migration; returns the names applied by this call. */
export async function migrate(pool: Pool, migrations?: Migration[]): Promise<string[]> {
  const pending = migrations ?? (await loadMigrations());
  const client = await pool.connect();
  const unguard = heldClientErrors(pool, client);
  try {
    await client.query("SELECT pg_advisory_lock($1, hashtext(current_schema()))", [LOCK_NAMESPACE]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
      const done = new Set(rows.map((row) => row.version));
      const applied: string[] = [];
      for (const migration of pending) {
        if (done.has(migration.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
            migration.version,
            migration.name,
          ]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        applied.push(migration.name);
      }
      return applied;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1, hashtext(current_schema()))", [LOCK_NAMESPACE]);
    }
  } finally {
    unguard();
    client.release();
  }
}

// This database's installation id (migration 011): made once, when the database was first
// migrated, and the same for every process that uses it. A database rebuilt from nothing gets a
// new one; see jobs/queues.ts for the Redis keys and queues that live under it.
import type { Queryable } from "./pool.js";

export async function installationId(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM installation");
  const row = rows[0];
  if (row === undefined) throw new Error("the installation table is empty: migration 011 did not run");
  return row.id;
}

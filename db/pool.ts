import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// Timestamps and bigints come back as strings/Dates; jsonb as objects. bigint ids of our own
// tables stay well inside 2^53, so parse them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * Clients pipeline (node-postgres's `pipeline` option): queries given to one client together are
 * written at once, and PostgreSQL runs and answers them in that order, each with its own result or
 * error. Code that awaits each query runs as before; reads sent together (a card's snapshot,
 * handlers/sync-incident-card.ts) cost one round trip instead of one each.
 */
export function createPool(url: string, options: { max?: number; applicationName?: string } = {}): Pool {
  return new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "chatops-bot",
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    pipeline: true,
  });
}

/**
 * A checked-out client has no error listener of the pool's (only idle ones do): PostgreSQL going
 * away while it is held (a restart mid-transaction) would be an uncaught 'error' that ends the
 * process. The query in flight rejects anyway; the error goes to the pool's listener (the outage
 * log). Returns the function that takes the listener off again, before the client is released.
 */
export function heldClientErrors(pool: Pool, client: PoolClient): () => void {
  const forward = (error: Error) => {
    pool.emit("error", error, client);
  };
  client.on("error", forward);
  return () => {
    client.off("error", forward);
  };
}

/** Runs `work` in a transaction; rolls back on any error. */
export function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, "BEGIN", work);
}

/**
 * Runs `work` as one transaction: writes that the card reads together (an incident's status and the
 * event that says why) are seen all or none. Given a client rather than a pool (a caller's own
 * transaction), `work` runs on it as it is.
 */
export function writeTogether<T>(db: Queryable, work: (db: Queryable) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return work(db);
  return transaction(db, "BEGIN", work);
}

/**
 * Runs `read` on one snapshot of the database (REPEATABLE READ, READ ONLY): reads that must agree
 * with each other (an incident row and its events, analysis and action) all see the same committed
 * state, never a transaction that committed between two of them. Given a client rather than a pool
 * (a caller's own transaction), `read` runs on it as it is.
 */
export function readSnapshot<T>(db: Queryable, read: (db: Queryable) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return read(db);
  return transaction(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", read, { readOnly: true });
}

async function transaction<T>(
  pool: Pool,
  begin: string,
  work: (client: PoolClient) => Promise<T>,
  { readOnly = false } = {},
): Promise<T> {
  const client = await pool.connect();
  const unguard = heldClientErrors(pool, client);
  try {
    // Reads may follow their BEGIN on the wire without waiting for it: had it failed, what they
    // read is thrown away with its error below. Writes wait: they must never run outside it.
    const begun = client.query(begin);
    begun.catch(() => undefined);
    if (!readOnly) await begun;
    const result = await work(client);
    await begun;
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    unguard();
    client.release();
  }
}

export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/** One round trip to PostgreSQL: throws when it cannot be reached. */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query("SELECT 1");
}

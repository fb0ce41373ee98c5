// The pool's clients pipeline (db/pool.ts): queries given to one client together go out before
// PostgreSQL answers the first, so a card's snapshot reads cost one round trip, not one each. A
// snapshot's reads follow its BEGIN without waiting for it, and must still run inside it; a write
// transaction's writes wait for its BEGIN's answer (were it to fail, they would run on their own), and
// one failed write still takes the others back with it.
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, inTransaction, readSnapshot, type Pool, type PoolClient } from "../../db/pool.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  // one client, so the snapshot below runs on the one whose socket is watched
  pool = createPool(db.url, { max: 1 });
  await pool.query("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)");
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** What went over the client's socket, in order: "write" (to PostgreSQL) or "answer" (from it). */
async function watchWire(): Promise<string[]> {
  const wire: string[] = [];
  const client: PoolClient = await pool.connect();
  // node-postgres's connection and its socket are not public API; this test is about the wire
  const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = (...args: unknown[]) => {
    wire.push("write");
    return write(...args);
  };
  socket.on("data", () => wire.push("answer"));
  client.release();
  return wire;
}

describe("a pipelined pool", () => {
  it("sends a snapshot's BEGIN and its reads before the first answer, and runs the reads inside it", async () => {
    const wire = await watchWire();
    const SETTINGS = `SELECT current_setting('transaction_isolation') AS isolation,
      current_setting('transaction_read_only') AS "readOnly", pg_current_snapshot()::text AS snapshot`;
    const rows = await readSnapshot(pool, async (client) => {
      const answers = await Promise.all([
        client.query(SETTINGS),
        client.query(SETTINGS),
        client.query(SETTINGS),
      ]);
      return answers.map((answer) => answer.rows[0] as Record<string, string>);
    });
    // BEGIN and three reads written before PostgreSQL's first answer
    expect(wire.indexOf("answer")).toBeGreaterThanOrEqual(4);
    expect(rows.map((row) => [row.isolation, row.readOnly])).toEqual([
      ["repeatable read", "on"],
      ["repeatable read", "on"],
      ["repeatable read", "on"],
    ]);
    expect(new Set(rows.map((row) => row.snapshot)).size).toBe(1);
  });

  it("writes a transaction's writes only once PostgreSQL has answered its BEGIN", async () => {
    const wire = await watchWire();
    await inTransaction(pool, (client) =>
      Promise.all([client.query("INSERT INTO notes VALUES (9, 'one')"), client.query("DELETE FROM notes")]),
    );
    expect(wire.slice(0, 3)).toEqual(["write", "answer", "write"]);
  });

  it("takes every write of a transaction back when one of the writes sent together fails", async () => {
    await expect(
      inTransaction(pool, (client) =>
        Promise.all([
          client.query("INSERT INTO notes VALUES (1, 'first')"),
          client.query("INSERT INTO notes VALUES (1, 'the same key again')"),
          client.query("INSERT INTO notes VALUES (2, 'after the failure')"),
        ]),
      ),
    ).rejects.toThrow(/duplicate key/);
    expect((await pool.query("SELECT count(*)::int AS n FROM notes")).rows[0]).toEqual({ n: 0 });
    // and the client is usable afterwards
    await inTransaction(pool, (client) => client.query("INSERT INTO notes VALUES (3, 'later')"));
    expect((await pool.query("SELECT id FROM notes")).rows).toEqual([{ id: 3 }]);
  });
});

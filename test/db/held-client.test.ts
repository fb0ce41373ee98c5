// PostgreSQL ending the connection of a client a transaction holds (a restart, a terminated
// backend): the pool guards only idle clients, so this was an uncaught 'error' that ended the
// process. Now the transaction fails, the pool's error listener hears it, and the process goes on.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction } from "../../db/pool.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
let admin: pg.Client;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
  await db.drop();
});

describe("a held client whose connection the server ends", () => {
  it("fails its transaction and tells the pool, without an uncaught error", async () => {
    const heard: Error[] = [];
    const listener = (error: Error) => heard.push(error);
    db.pool.on("error", listener);
    try {
      await expect(
        inTransaction(db.pool, async (client) => {
          const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
          // the 'error' event arrives while the transaction still holds the client
          await expect.poll(() => heard.length, { timeout: 5_000 }).toBeGreaterThan(0);
          await client.query("SELECT 1");
        }),
      ).rejects.toThrow();
      expect(heard[0]?.message).toMatch(/terminat/i);
      // the pool hands out a working client afterwards
      expect((await db.pool.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one).toBe(1);
    } finally {
      db.pool.off("error", listener);
    }
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { migrate } from "../../db/migrate.js";
import { createPool } from "../../db/pool.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

describe("migrations", () => {
  it("apply once even when two processes start at the same moment", async () => {
    db = await createTestDatabase({ migrate: false });
    const second = createPool(db.url, { max: 2 });
    try {
      const [first, other] = await Promise.all([migrate(db.pool), migrate(second)]);
      // exactly one of the two runs applied each migration
      expect([...first, ...other].sort()).toEqual(first.length > 0 ? first : other);
      expect(first.length === 0 || other.length === 0).toBe(true);
      const { rows } = await db.pool.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM schema_migrations",
      );
      expect(rows[0]?.count).toBeGreaterThan(0);
      expect(await migrate(db.pool)).toEqual([]);
    } finally {
      await second.end();
    }
  });

  it("rolls back a failing migration and reports its name", async () => {
    db = await createTestDatabase({ migrate: false });
    await expect(
      migrate(db.pool, [
        { version: 1, name: "001_ok", sql: "CREATE TABLE a (id int)" },
        { version: 2, name: "002_broken", sql: "CREATE TABLE b (id int); SELECT * FROM nowhere" },
      ]),
    ).rejects.toThrow("migration 002_broken failed");
    const { rows } = await db.pool.query<{ name: string }>("SELECT name FROM schema_migrations");
    expect(rows.map((row) => row.name)).toEqual(["001_ok"]);
    const tables = await db.pool.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'b'",
      [db.schema],
    );
    expect(tables.rowCount).toBe(0);
  });
});

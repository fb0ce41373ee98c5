// VACUUM_DB against the real PostgreSQL, on tables made in this file's own schema.
import { messagesFor, sayingText } from "../../domain/i18n/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTargets } from "../../executors/targets.js";
import { postgresTargetClients, vacuumDb, vacuumSql, type VacuumDbDeps } from "../../executors/vacuum-db.js";
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
let clients: ReturnType<typeof postgresTargetClients>;
let deps: VacuumDbDeps;

interface Stats {
  last_vacuum: Date | null;
  last_analyze: Date | null;
}

async function stats(table: string): Promise<Stats | undefined> {
  const result = await db.pool.query<Stats>(
    "SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2",
    [db.schema, table],
  );
  return result.rows[0];
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  for (const table of ["events", '"MixedCase"', "other", "elsewhere"]) {
    await db.pool.query(`CREATE TABLE ${db.schema}.${table} (id serial PRIMARY KEY, body text)`);
    await db.pool.query(
      `INSERT INTO ${db.schema}.${table} (body) SELECT md5(g::text) FROM generate_series(1, 500) g`,
    );
    await db.pool.query(`DELETE FROM ${db.schema}.${table} WHERE id % 2 = 0`);
  }
  const targets = parseTargets(
    [
      "vacuum_db:",
      `  main: { url: "${TEST_DATABASE_URL}", tables: [${db.schema}.events, ${db.schema}.MixedCase, ${db.schema}.shared] }`,
      `  second: { url: "${TEST_DATABASE_URL}", tables: [${db.schema}.elsewhere, ${db.schema}.shared, public.gone] }`,
    ].join("\n"),
    "test.yaml",
  ).vacuum_db;
  clients = postgresTargetClients(targets);
  deps = { targets, client: clients.client };
});
afterAll(async () => {
  await clients.close();
  await db.drop();
});

describe("VACUUM_DB", () => {
  it("vacuums and analyzes a listed table, and verify sees newer statistics", async () => {
    const p = vacuumDb.params.parse({ table: `${db.schema}.events` });
    expect(await vacuumDb.guard(deps, p)).toEqual({ ok: true });
    const result = await vacuumDb.execute(deps, p, { dryRun: false });
    expect(result.changed).toBe(true);
    expect(result.before).toMatchObject({ database: "main", table: `${db.schema}.events`, lastVacuum: null });
    expect(result.calls[0]?.args).toMatchObject({ sql: `VACUUM (ANALYZE) "${db.schema}"."events"` });
    await expect.poll(async () => (await stats("events"))?.last_vacuum).not.toBeNull();
    expect((await stats("events"))?.last_analyze).not.toBeNull();
    await expect.poll(async () => (await vacuumDb.verify(deps, p, result)).outcome).toBe("recovered");
  });

  it("quotes identifiers, so a mixed-case table is the one vacuumed", async () => {
    expect(vacuumSql("s.Events")).toBe('VACUUM (ANALYZE) "s"."Events"');
    expect(vacuumSql("events")).toBe('VACUUM (ANALYZE) "public"."events"');
    const p = vacuumDb.params.parse({ table: `${db.schema}.MixedCase`, database: "main" });
    expect(await vacuumDb.guard(deps, p)).toEqual({ ok: true });
    await vacuumDb.execute(deps, p, { dryRun: false });
    await expect.poll(async () => (await stats("MixedCase"))?.last_vacuum).not.toBeNull();
  });

  it("finds the database that lists the table when the analysis names none", async () => {
    const p = vacuumDb.params.parse({ table: `${db.schema}.elsewhere` });
    const result = await vacuumDb.execute(deps, p, { dryRun: true });
    expect(result.before).toMatchObject({ database: "second" });
  });

  it("changes nothing in dry run and reports the statement it would run", async () => {
    const before = await stats("other");
    const targets = { main: { url: TEST_DATABASE_URL, tables: [`${db.schema}.other`] } };
    const local = postgresTargetClients(targets);
    try {
      const p = vacuumDb.params.parse({ table: `${db.schema}.other` });
      const result = await vacuumDb.execute({ targets, client: local.client }, p, { dryRun: true });
      expect(result.changed).toBe(false);
      expect(result.calls).toEqual([
        {
          api: "postgres",
          method: "query",
          args: {
            database: "main",
            table: `${db.schema}.other`,
            sql: `VACUUM (ANALYZE) "${db.schema}"."other"`,
          },
        },
      ]);
    } finally {
      await local.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await stats("other")).toEqual(before);
    expect(before?.last_vacuum).toBeNull();
  });

  it("refuses a table that is not listed, even if it exists", async () => {
    expect(await vacuumDb.guard(deps, { table: `${db.schema}.other` })).toEqual({
      ok: false,
      rule: "table_listed",
      reason: `${db.schema}.other is not listed for any configured database`,
      said: { code: "table_unlisted", table: `${db.schema}.other` },
    });
    expect(await vacuumDb.guard(deps, { table: `${db.schema}.elsewhere`, database: "main" })).toMatchObject({
      ok: false,
      rule: "table_listed",
    });
    const refused = vacuumDb.execute(deps, { table: `${db.schema}.other` }, { dryRun: false });
    await expect(refused).rejects.toThrow("not listed");
    // the re-check's words as data, the guard's among them, for the card to say in BOT_LANGUAGE
    const failure: unknown = await refused.catch((error: unknown) => error);
    expect(failure).toMatchObject({
      said: { code: "rechecked", action: "VACUUM_DB", guard: { code: "table_unlisted" } },
    });
    const chinese = sayingText("executeError", (failure as { said: unknown }).said, messagesFor("zh-TW"));
    expect(chinese).toMatch(/^VACUUM_DB：/);
    expect(chinese).not.toContain("not listed");
    expect((await stats("other"))?.last_vacuum).toBeNull();
  });

  it("refuses an unknown database, a table listed twice without a database, and a listed table that is gone", async () => {
    expect(await vacuumDb.guard(deps, { table: `${db.schema}.events`, database: "nope" })).toMatchObject({
      ok: false,
      rule: "configured_target",
    });
    expect(await vacuumDb.guard(deps, { table: `${db.schema}.shared` })).toMatchObject({
      ok: false,
      rule: "table_listed",
      reason: expect.stringContaining("name the database") as unknown,
    });
    expect(await vacuumDb.guard(deps, { table: "public.gone" })).toMatchObject({
      ok: false,
      rule: "target_exists",
    });
  });

  it("takes no SQL from params", () => {
    expect(vacuumDb.params.safeParse({ table: "events; DROP TABLE events" }).success).toBe(false);
    expect(vacuumDb.params.safeParse({ table: 'public."events"' }).success).toBe(false);
    expect(vacuumDb.params.safeParse({ table: "events", sql: "VACUUM FULL" }).success).toBe(false);
  });
});

// VACUUM_DB: VACUUM ANALYZE of one table that the targets file lists for a configured PostgreSQL
// database (the action list, domain/actions.ts). Schema and table are quoted identifiers; VACUUM runs on its own,
// outside any transaction block, as PostgreSQL requires.
import pg from "pg";
import { z } from "zod";
import {
  type ExecutionResult,
  type Executor,
  type GuardVerdict,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";
import { TARGET_NAME, type PostgresTarget } from "./targets.js";

export interface VacuumDbParams {
  /** A `vacuum_db` name of the targets file; optional when one database lists the table. */
  database?: string;
  /** `schema.table`, or `table` for `public.table`. */
  table: string;
}

/** The one query method used: a pool runs each query on its own, in autocommit. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface VacuumDbDeps {
  targets: Readonly<Record<string, PostgresTarget>>;
  /** The pool of a configured database (created on first use). */
  client(name: string): PgQueryable;
}

const params = z.strictObject({
  database: z.string().regex(TARGET_NAME, { error: "not a target name" }).exactOptional(),
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/, {
    error: "must be schema.table or table",
  }),
});

const stats = z.object({ lastVacuum: z.string().nullable(), lastAnalyze: z.string().nullable() });
const before = stats.extend({ database: z.string(), table: z.string() });

function qualified(table: string): { schema: string; table: string; name: string } {
  const [schema, relname] = table.includes(".") ? table.split(".", 2) : ["public", table];
  return { schema: schema ?? "public", table: relname ?? table, name: `${schema}.${relname}` };
}

/** `VACUUM (ANALYZE) "schema"."table"`, each identifier quoted and escaped. */
/** Whether a configured database answers (for /status): one `SELECT 1` on its own client. */
export async function pingVacuumTarget(deps: VacuumDbDeps, name: string): Promise<void> {
  await deps.client(name).query("SELECT 1");
}

export function vacuumSql(table: string): string {
  const { schema, table: relname } = qualified(table);
  return `VACUUM (ANALYZE) ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(relname)}`;
}

type Resolved = { database: string; table: string } | { refusal: GuardVerdict & { ok: false } };

/** The configured database and listed table the params mean, or why there is none. */
function resolve(deps: VacuumDbDeps, input: VacuumDbParams): Resolved {
  const table = qualified(input.table).name;
  const listing = Object.entries(deps.targets).filter(([, target]) => target.tables.includes(table));
  if (input.database !== undefined) {
    const target = Object.hasOwn(deps.targets, input.database) ? deps.targets[input.database] : undefined;
    if (target === undefined) {
      return {
        refusal: refusal("configured_target", { code: "database_unlisted", database: input.database }),
      };
    }
    if (!target.tables.includes(table)) {
      return {
        refusal: refusal("table_listed", {
          code: "table_unlisted_in",
          table,
          database: input.database,
          listed: target.tables.join(", "),
        }),
      };
    }
    return { database: input.database, table };
  }
  const only = listing[0];
  if (only === undefined) {
    return {
      refusal: refusal("table_listed", { code: "table_unlisted", table }),
    };
  }
  if (listing.length > 1) {
    return {
      refusal: refusal("table_listed", {
        code: "table_ambiguous",
        table,
        databases: listing.map(([name]) => name).join(", "),
      }),
    };
  }
  return { database: only[0], table };
}

async function readStats(client: PgQueryable, table: string): Promise<z.infer<typeof stats> | undefined> {
  const { schema, table: relname } = qualified(table);
  const result = await client.query<{ last_vacuum: Date | null; last_analyze: Date | null }>(
    `SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
    [schema, relname],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return {
    lastVacuum: row.last_vacuum?.toISOString() ?? null,
    lastAnalyze: row.last_analyze?.toISOString() ?? null,
  };
}

function plan(input: VacuumDbParams, database?: string): PlannedCall[] {
  const table = qualified(input.table).name;
  return [
    {
      api: "postgres",
      method: "query",
      args: {
        database: database ?? input.database ?? "(the database listing it)",
        table,
        sql: vacuumSql(table),
      },
    },
  ];
}

const newer = (now: string | null, previous: string | null): boolean =>
  now !== null && (previous === null || Date.parse(now) > Date.parse(previous));

export const vacuumDb: Executor<VacuumDbParams, VacuumDbDeps> = {
  name: "VACUUM_DB",
  description: "VACUUM ANALYZE of one table listed in the targets file.",
  params,

  async guard(deps, input) {
    const resolved = resolve(deps, input);
    if ("refusal" in resolved) return resolved.refusal;
    const found = await readStats(deps.client(resolved.database), resolved.table);
    if (found === undefined) {
      return refusal("target_exists", {
        code: "table_missing",
        table: resolved.table,
        database: resolved.database,
      });
    }
    return { ok: true };
  },

  plan: (input) => plan(input),

  async execute(deps, input, context): Promise<ExecutionResult> {
    const resolved = resolve(deps, input);
    if ("refusal" in resolved) throw ExecutionFailure.rechecked("VACUUM_DB", resolved.refusal);
    const calls = plan(input, resolved.database);
    const client = deps.client(resolved.database);
    const found = await readStats(client, resolved.table);
    if (found === undefined)
      throw new ExecutionFailure({ code: "no_table", action: "VACUUM_DB", table: resolved.table });
    const recorded = { ...resolved, ...found };
    if (context.dryRun) return { changed: false, calls, before: recorded };
    context.signal?.throwIfAborted();
    await client.query(vacuumSql(resolved.table));
    return { changed: true, calls, before: recorded };
  },

  async verify(deps, _input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    const now = await readStats(deps.client(previous.database), previous.table);
    if (now === undefined) return verdict("failed", { code: "table_gone", table: previous.table });
    if (newer(now.lastVacuum, previous.lastVacuum) && newer(now.lastAnalyze, previous.lastAnalyze)) {
      return verdict("recovered", {
        code: "table_vacuumed",
        table: previous.table,
        vacuumed: now.lastVacuum ?? "",
        analyzed: now.lastAnalyze ?? "",
      });
    }
    return verdict("pending", {
      code: "table_not_vacuumed",
      table: previous.table,
      since: previous.lastVacuum ?? "",
    });
  },
};

/** Lazily created pools (one connection each) for the configured databases. */
export function postgresTargetClients(
  targets: Readonly<Record<string, PostgresTarget>>,
): Pick<VacuumDbDeps, "client"> & { close(): Promise<void> } {
  const pools = new Map<string, pg.Pool>();
  return {
    client(name) {
      let pool = pools.get(name);
      if (pool === undefined) {
        const target = targets[name];
        if (target === undefined) throw new Error(`${name} is not a configured PostgreSQL target`);
        pool = new pg.Pool({
          connectionString: target.url,
          max: 1,
          connectionTimeoutMillis: 5_000,
          application_name: "chatops-bot-vacuum",
        });
        pool.on("error", () => undefined);
        pools.set(name, pool);
      }
      return pool;
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.end()));
      pools.clear();
    },
  };
}

// The targets file (AUTO_REPAIR_CONFIG): the only Redis databases CLEAR_CACHE may flush, the only
// tables VACUUM_DB may vacuum, the only directories CLEANUP_LOGS may clean and the only commands
// RENEW_CERT may run. An analysis names a target; what it means is written here, by a person.
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { parse, YAMLParseError } from "yaml";
import { z } from "zod";

/** A name a person gives a target, which an analysis may repeat; no spaces, quotes or `/`. */
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** `schema.table`, unquoted as PostgreSQL folds neither (quoting happens at execution). */
export const QUALIFIED_TABLE = /^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

const targetName = z.string().regex(TARGET_NAME, { error: "not a target name ([A-Za-z0-9_.:-])" });
const absolutePath = z
  .string()
  .min(1)
  .refine((path) => isAbsolute(path), { error: "must be an absolute path" });
const urlWithScheme = (schemes: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be a ${schemes.map((s) => `${s}//`).join(" or ")} URL` },
  );

const RedisTarget = z.strictObject({
  url: urlWithScheme(["redis:", "rediss:"]),
  /** Other names alerts use for this database (a container name, `host:port`). */
  aliases: z.array(targetName).default([]),
});

const PostgresTarget = z.strictObject({
  url: urlWithScheme(["postgres:", "postgresql:"]),
  tables: z
    .array(z.string().regex(QUALIFIED_TABLE, { error: "must be schema.table" }))
    .min(1, { error: "list at least one table" }),
});

const CleanupLogs = z.strictObject({
  directories: z.array(absolutePath).min(1, { error: "list at least one directory" }),
  max_age_days: z.number().int().min(1).max(3650).default(7),
  /** When given, an analysis naming another host is refused: these directories are this machine's. */
  hosts: z.array(targetName).exactOptional(),
});

const CertTarget = z.strictObject({
  command: z
    .tuple([absolutePath], z.string().max(4096))
    .refine((argv) => argv.length <= 64, { error: "at most 64 arguments" }),
  timeout_seconds: z.number().int().min(1).max(3600).default(300),
  cert_file: absolutePath.exactOptional(),
  aliases: z.array(targetName).default([]),
});

const TargetsSchema = z.strictObject({
  clear_cache: z.record(targetName, RedisTarget).default({}),
  vacuum_db: z.record(targetName, PostgresTarget).default({}),
  cleanup_logs: CleanupLogs.exactOptional(),
  renew_cert: z.record(targetName, CertTarget).default({}),
});

export type RedisTarget = z.infer<typeof RedisTarget>;
export type PostgresTarget = z.infer<typeof PostgresTarget>;
export type CleanupLogsTarget = z.infer<typeof CleanupLogs>;
export type CertTarget = z.infer<typeof CertTarget>;
export type RepairTargets = z.infer<typeof TargetsSchema>;

/** No file configured: nothing to flush, vacuum, clean or renew. */
export const NO_TARGETS: RepairTargets = Object.freeze({
  clear_cache: {},
  vacuum_db: {},
  renew_cert: {},
});

export class TargetsFileError extends Error {
  override readonly name = "TargetsFileError";
}

/** Parses the file's text; every problem names the file and the key (`vacuum_db.main.tables.0`). */
export function parseTargets(text: string, path: string): RepairTargets {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const where = error instanceof YAMLParseError ? ` (line ${error.linePos?.[0].line ?? "?"})` : "";
    throw new TargetsFileError(`${path}: not valid YAML${where}: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = TargetsSchema.safeParse(document ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join(".");
      return `${key === "" ? "(top level)" : key}: ${issue.message}`;
    });
    throw new TargetsFileError(`${path}: ${problems.join("; ")}`);
  }
  return parsed.data;
}

export async function loadTargets(path: string): Promise<RepairTargets> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TargetsFileError(`${path}: cannot read the targets file: ${(error as Error).message}`);
  }
  return parseTargets(text, path);
}

/** The configured name `name` is, or is an alias of; undefined when it names nothing configured. */
export function findTarget<T extends { aliases?: readonly string[] }>(
  targets: Readonly<Record<string, T>>,
  name: string,
): { name: string; target: T } | undefined {
  const own = Object.hasOwn(targets, name) ? targets[name] : undefined;
  if (own !== undefined) return { name, target: own };
  for (const [configured, target] of Object.entries(targets)) {
    if (target.aliases?.includes(name) === true) return { name: configured, target };
  }
  return undefined;
}

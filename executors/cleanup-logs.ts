// CLEANUP_LOGS: deletes regular files older than the configured age (7 days by default) in the
// directories of the targets file, and nowhere else (the action list, domain/actions.ts). Links are never followed:
// entries are read with lstat, a symbolic link (to a file or a directory) is left alone, and a
// file is deleted only when its real path lies inside the directory's real path.
import { lstat, readdir, realpath, unlink } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { z } from "zod";
import {
  type ExecutionResult,
  type Executor,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";
import { TARGET_NAME, type CleanupLogsTarget } from "./targets.js";

export interface CleanupLogsParams {
  /** The host the alert is about; refused unless the targets file lists it (when it lists any). */
  host?: string;
  /** One configured directory; all of them when omitted. */
  directory?: string;
}

export interface CleanupLogsDeps {
  /** The targets file's `cleanup_logs`; undefined when none is configured. */
  config: CleanupLogsTarget | undefined;
  now?: () => number;
}

/** Directories deeper than this below a configured one are not visited. */
const MAX_DEPTH = 8;
/** At most this many paths are listed in a plan or the audit log; the count is always exact. */
const LISTED = 200;

const params = z.strictObject({
  host: z.string().regex(TARGET_NAME, { error: "not a host name" }).exactOptional(),
  directory: z
    .string()
    .max(4096)
    .regex(/^\/[^\0]*$/, { error: "must be an absolute path" })
    .exactOptional(),
});

const before = z.object({ directories: z.array(z.string()), cutoff: z.number(), found: z.number() });

interface OldFile {
  path: string;
  size: number;
  mtimeMs: number;
}

function directoriesFor(config: CleanupLogsTarget, input: CleanupLogsParams): string[] {
  const configured = config.directories.map((directory) => resolve(directory));
  return input.directory === undefined
    ? configured
    : configured.filter((d) => d === resolve(input.directory ?? ""));
}

const inside = (root: string, path: string): boolean =>
  path.startsWith(root.endsWith(sep) ? root : root + sep);

/** Regular files under `directory` last modified before `cutoff`; links and other mounts' tricks skipped. */
async function oldFiles(directory: string, cutoff: number): Promise<{ root: string; files: OldFile[] }> {
  const root = await realpath(directory);
  const files: OldFile[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const stats = await lstat(path).catch(() => undefined);
      if (stats === undefined || stats.isSymbolicLink()) continue;
      if (stats.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(path, depth + 1);
      } else if (stats.isFile() && stats.mtimeMs < cutoff) {
        files.push({ path, size: stats.size, mtimeMs: stats.mtimeMs });
      }
    }
  };
  await walk(root, 0);
  return { root, files };
}

function plan(input: CleanupLogsParams): PlannedCall[] {
  return [
    {
      api: "filesystem",
      method: "unlink",
      args: {
        directory: input.directory ?? "(every configured directory)",
        files: "regular files older than the configured age; links are not followed",
      },
    },
  ];
}

function listing(directory: string, files: OldFile[]): PlannedCall {
  return {
    api: "filesystem",
    method: "unlink",
    args: {
      directory,
      count: files.length,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
      files: files.slice(0, LISTED).map((file) => file.path),
      ...(files.length > LISTED ? { more: files.length - LISTED } : {}),
    },
  };
}

export const cleanupLogs: Executor<CleanupLogsParams, CleanupLogsDeps> = {
  name: "CLEANUP_LOGS",
  description: "Deletes regular files older than the configured age in configured log directories.",
  params,

  async guard(deps, input) {
    const config = deps.config;
    if (config === undefined) {
      return refusal("configured_target", { code: "logs_unconfigured" });
    }
    if (input.host !== undefined && config.hosts !== undefined && !config.hosts.includes(input.host)) {
      return refusal("local_host", {
        code: "logs_elsewhere",
        hosts: config.hosts.join(", "),
        host: input.host,
      });
    }
    const directories = directoriesFor(config, input);
    if (directories.length === 0) {
      return refusal("configured_target", {
        code: "logs_directory_unlisted",
        directory: input.directory ?? "",
        configured: config.directories.join(", "),
      });
    }
    for (const directory of directories) {
      const stats = await lstat(directory).catch(() => undefined);
      if (stats === undefined) {
        return refusal("target_exists", { code: "logs_directory_missing", directory });
      }
      if (!stats.isDirectory() && !stats.isSymbolicLink()) {
        return refusal("target_exists", { code: "logs_not_a_directory", directory });
      }
    }
    return { ok: true };
  },

  plan,

  async execute(deps, input, context): Promise<ExecutionResult> {
    const config = deps.config;
    if (config === undefined) throw new ExecutionFailure({ code: "no_directories", action: "CLEANUP_LOGS" });
    const directories = directoriesFor(config, input);
    if (directories.length === 0)
      throw new ExecutionFailure({
        code: "not_configured",
        action: "CLEANUP_LOGS",
        name: input.directory ?? "",
      });
    const cutoff = (deps.now ?? Date.now)() - config.max_age_days * 24 * 3600 * 1000;
    const calls: PlannedCall[] = [];
    const found: { root: string; files: OldFile[] }[] = [];
    for (const directory of directories) {
      const old = await oldFiles(directory, cutoff);
      found.push(old);
      calls.push(listing(directory, old.files));
    }
    const count = found.reduce((sum, f) => sum + f.files.length, 0);
    const recorded = { directories, cutoff, found: count };
    if (context.dryRun) return { changed: false, calls, before: recorded };

    let deleted = 0;
    let bytes = 0;
    const skipped: string[] = [];
    for (const { root, files } of found) {
      for (const file of files) {
        context.signal?.throwIfAborted();
        // Checked again right before unlink: a parent swapped for a link meanwhile leads elsewhere,
        // and a file written to since the scan is no longer old.
        const real = await realpath(file.path).catch(() => undefined);
        const stats = await lstat(file.path).catch(() => undefined);
        if (
          real === undefined ||
          stats === undefined ||
          !stats.isFile() ||
          stats.mtimeMs >= cutoff ||
          !inside(root, real)
        ) {
          skipped.push(file.path);
          continue;
        }
        try {
          await unlink(file.path);
          deleted += 1;
          bytes += file.size;
        } catch (error) {
          skipped.push(`${file.path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
        }
      }
    }
    return {
      changed: deleted > 0,
      calls,
      before: recorded,
      detail: { deleted, bytes, skipped: skipped.slice(0, LISTED), skippedCount: skipped.length },
    };
  },

  async verify(_deps, _input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    let remaining = 0;
    for (const directory of previous.directories) {
      remaining += (await oldFiles(directory, previous.cutoff).catch(() => ({ files: [] }))).files.length;
    }
    if (remaining > 0) {
      return verdict("failed", { code: "logs_remain", remaining, found: previous.found });
    }
    return verdict("recovered", {
      code: "logs_cleaned",
      cutoff: new Date(previous.cutoff).toISOString(),
      found: previous.found,
    });
  },
};

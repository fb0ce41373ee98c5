// CLEANUP_LOGS on the real filesystem under a temporary directory, with links pointing out of it.
import { utimesSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanupLogs, type CleanupLogsDeps } from "../../executors/cleanup-logs.js";
import { parseTargets } from "../../executors/targets.js";

const DAY = 24 * 3600 * 1000;
let base: string;
let logs: string;
let outside: string;
let other: string;
let deps: CleanupLogsDeps;

async function file(path: string, ageDays: number, text = "log line\n"): Promise<void> {
  await writeFile(path, text);
  const when = new Date(Date.now() - ageDays * DAY);
  await utimes(path, when, when);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "cleanup-logs-"));
  logs = join(base, "logs");
  outside = join(base, "outside");
  other = join(base, "other");
  await mkdir(join(logs, "nginx"), { recursive: true });
  await mkdir(join(outside, "archive"), { recursive: true });
  await mkdir(other);
  await file(join(logs, "app.log.1"), 10);
  await file(join(logs, "nginx", "access.log.3"), 30);
  await file(join(logs, "app.log"), 0); // recent: must survive
  await file(join(logs, "app.log.0"), 6); // younger than 7 days: must survive
  await file(join(outside, "secret.log"), 90);
  await file(join(outside, "archive", "old.log"), 90);
  await file(join(other, "old.log"), 90);
  await symlink(join(outside, "secret.log"), join(logs, "secret.log")); // link to a file outside
  await symlink(join(outside, "archive"), join(logs, "archive")); // link to a directory outside
  deps = {
    config: parseTargets(
      `cleanup_logs: { directories: ["${logs}"], max_age_days: 7, hosts: [app-1] }`,
      "test.yaml",
    ).cleanup_logs,
  };
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("CLEANUP_LOGS", () => {
  it("deletes old regular files in the configured directory and keeps recent ones", async () => {
    const p = cleanupLogs.params.parse({ host: "app-1" });
    expect(await cleanupLogs.guard(deps, p)).toEqual({ ok: true });
    const result = await cleanupLogs.execute(deps, p, { dryRun: false });
    expect(result.changed).toBe(true);
    expect(result.detail).toMatchObject({ deleted: 2, skippedCount: 0 });
    expect(await exists(join(logs, "app.log.1"))).toBe(false);
    expect(await exists(join(logs, "nginx", "access.log.3"))).toBe(false);
    expect(await exists(join(logs, "app.log"))).toBe(true);
    expect(await exists(join(logs, "app.log.0"))).toBe(true);
    expect(await cleanupLogs.verify(deps, p, result)).toMatchObject({ outcome: "recovered" });
  });

  it("never follows a link out: the files they point at, and the links, stay", async () => {
    await cleanupLogs.execute(deps, {}, { dryRun: false });
    expect(await exists(join(outside, "secret.log"))).toBe(true);
    expect(await exists(join(outside, "archive", "old.log"))).toBe(true);
    expect((await readdir(logs)).sort()).toEqual(["app.log", "app.log.0", "archive", "nginx", "secret.log"]);
    expect(await exists(join(other, "old.log"))).toBe(true);
  });

  it("keeps a file written to between the scan and its deletion", async () => {
    let touched = false;
    // the execution's abort check runs right before each deletion: the app writes its log there
    const signal = {
      aborted: false,
      throwIfAborted() {
        if (touched) return;
        touched = true;
        const now = new Date();
        for (const path of [join(logs, "app.log.1"), join(logs, "nginx", "access.log.3")])
          utimesSync(path, now, now);
      },
    } as unknown as AbortSignal;
    const result = await cleanupLogs.execute(deps, {}, { dryRun: false, signal });
    expect(touched).toBe(true);
    expect(result.detail).toMatchObject({ deleted: 0, skippedCount: 2 });
    expect(await exists(join(logs, "app.log.1"))).toBe(true);
    expect(await exists(join(logs, "nginx", "access.log.3"))).toBe(true);
  });

  it("lists what would go in dry run, and deletes nothing", async () => {
    const result = await cleanupLogs.execute(deps, { host: "app-1" }, { dryRun: true });
    expect(result.changed).toBe(false);
    expect(result.calls).toEqual([
      {
        api: "filesystem",
        method: "unlink",
        args: {
          directory: logs,
          count: 2,
          bytes: 18,
          files: expect.arrayContaining([
            join(logs, "app.log.1"),
            join(logs, "nginx", "access.log.3"),
          ]) as unknown,
        },
      },
    ]);
    expect(await exists(join(logs, "app.log.1"))).toBe(true);
    expect(await exists(join(logs, "nginx", "access.log.3"))).toBe(true);
    expect(await cleanupLogs.verify(deps, {}, result)).toMatchObject({ outcome: "failed" });
  });

  it("refuses a directory that is not configured", async () => {
    expect(await cleanupLogs.guard(deps, { directory: other })).toEqual({
      ok: false,
      rule: "configured_target",
      reason: `${other} is not a configured log directory (configured: ${logs})`,
      said: { code: "logs_directory_unlisted", directory: other, configured: logs },
    });
    await expect(cleanupLogs.execute(deps, { directory: other }, { dryRun: false })).rejects.toThrow(
      "is not configured",
    );
    // a path that walks out of a configured one is not the configured one
    expect(await cleanupLogs.guard(deps, { directory: `${logs}/../other` })).toMatchObject({ ok: false });
    expect(await exists(join(other, "old.log"))).toBe(true);
  });

  it("refuses a host the directories are not on, and everything when no directory is configured", async () => {
    expect(await cleanupLogs.guard(deps, { host: "db-7" })).toMatchObject({ ok: false, rule: "local_host" });
    expect(await cleanupLogs.guard({ config: undefined }, {})).toMatchObject({
      ok: false,
      rule: "configured_target",
    });
  });

  it("refuses a configured directory that does not exist", async () => {
    const gone = parseTargets(
      `cleanup_logs: { directories: ["${join(base, "gone")}"] }`,
      "t.yaml",
    ).cleanup_logs;
    expect(await cleanupLogs.guard({ config: gone }, {})).toMatchObject({ ok: false, rule: "target_exists" });
  });
});

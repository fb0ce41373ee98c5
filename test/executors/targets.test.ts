import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { startRuntime } from "../../app/runtime.js";
import { findTarget, loadTargets, parseTargets, TargetsFileError } from "../../executors/targets.js";
import { parseConfig } from "../../registry/config.js";
import { testEnv } from "../../dev/env.js";
import { createTestDatabase } from "../../dev/postgres.js";
import { deleteKeys, uniquePrefix } from "../../dev/redis.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "targets-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FILE = "/etc/awoooi/auto-repair.yaml";

function problem(text: string): string {
  try {
    parseTargets(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(TargetsFileError);
    return (error as Error).message;
  }
  throw new Error("the file was accepted");
}

describe("the targets file", () => {
  it("loads the example file shipped in registry/", async () => {
    const targets = await loadTargets("registry/auto-repair.example.yaml");
    expect(targets.clear_cache.sessions?.url).toBe("redis://127.0.0.1:6379/3");
    expect(targets.vacuum_db.main?.tables).toContain("public.events");
    expect(targets.cleanup_logs).toMatchObject({ directories: ["/var/log/awoooi"], max_age_days: 7 });
    expect(targets.renew_cert["api-cert"]?.command[0]).toBe("/usr/bin/certbot");
  });

  it("fills defaults: 7 days, 300 s, no sections", () => {
    const targets = parseTargets(
      "cleanup_logs: { directories: [/var/log/x] }\nrenew_cert: { a: { command: [/bin/true] } }\n",
      FILE,
    );
    expect(targets.cleanup_logs?.max_age_days).toBe(7);
    expect(targets.renew_cert.a?.timeout_seconds).toBe(300);
    expect(targets.clear_cache).toEqual({});
    expect(targets.vacuum_db).toEqual({});
    expect(parseTargets("", FILE)).toEqual({ clear_cache: {}, vacuum_db: {}, renew_cert: {} });
  });

  it("names the file and the key of each problem", () => {
    expect(problem("vacuum_db: { main: { url: postgresql://h/db, tables: [events] } }")).toBe(
      `${FILE}: vacuum_db.main.tables.0: must be schema.table`,
    );
    expect(problem("clear_cache: { s: { url: http://h:6379 } }")).toContain(
      "clear_cache.s.url: must be a redis://",
    );
    expect(problem("cleanup_logs: { directories: [var/log] }")).toContain(
      "cleanup_logs.directories.0: must be an absolute path",
    );
    expect(problem("renew_cert: { a: { command: [certbot, renew] } }")).toContain(
      "renew_cert.a.command.0: must be an absolute path",
    );
    expect(problem("renew_cert: { a: { command: /usr/bin/certbot renew } }")).toContain(
      "renew_cert.a.command",
    );
    expect(problem("clear_cache: { 'bad name': { url: redis://h } }")).toContain("clear_cache");
  });

  it("refuses keys it does not know, so a typo is not silently ignored", () => {
    expect(problem("vacum_db: {}")).toContain(`${FILE}: (top level):`);
    expect(problem("vacum_db: {}")).toContain("vacum_db");
    expect(problem("cleanup_logs: { directories: [/x], max_age: 3 }")).toContain("cleanup_logs");
  });

  it("says when the text is not YAML, with the line", () => {
    expect(problem("clear_cache:\n  s: { url: [\n")).toMatch(
      /^\/etc\/awoooi\/auto-repair\.yaml: not valid YAML \(line \d+\)/,
    );
  });

  it("says when the file cannot be read", async () => {
    const missing = join(dir, "missing.yaml");
    await expect(loadTargets(missing)).rejects.toThrow(`${missing}: cannot read the targets file`);
    const good = join(dir, "good.yaml");
    await writeFile(good, "clear_cache: { s: { url: 'redis://127.0.0.1:6379/13' } }\n");
    expect((await loadTargets(good)).clear_cache.s?.url).toBe("redis://127.0.0.1:6379/13");
  });

  it("finds a target by its name or an alias, and nothing else", () => {
    const targets = parseTargets(
      "clear_cache: { sessions: { url: 'redis://h/3', aliases: [redis-sessions] } }",
      FILE,
    );
    expect(findTarget(targets.clear_cache, "sessions")?.name).toBe("sessions");
    expect(findTarget(targets.clear_cache, "redis-sessions")?.name).toBe("sessions");
    expect(findTarget(targets.clear_cache, "toString")).toBeUndefined();
    expect(findTarget(targets.clear_cache, "cache")).toBeUndefined();
  });
});

describe("the runtime with a targets file", () => {
  it("does not start when the file is broken, and says which file and key in one line", async () => {
    const db = await createTestDatabase({ migrate: false });
    const prefix = uniquePrefix();
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "vacuum_db: { main: { url: 'postgresql://h/db', tables: [events] } }\n");
    try {
      const config = parseConfig(
        testEnv({ DATABASE_URL: db.url, REDIS_PREFIX: prefix, AUTO_REPAIR_CONFIG: broken, ROLES: "worker" }),
      );
      const started = startRuntime(config, { logger: pino({ level: "silent" }) });
      await expect(started).rejects.toThrow(
        new TargetsFileError(`${broken}: vacuum_db.main.tables.0: must be schema.table`),
      );
    } finally {
      await deleteKeys(prefix);
      await db.drop();
    }
  });
});

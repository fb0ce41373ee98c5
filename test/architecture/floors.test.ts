// The floors of the house (ARCHITECTURE.md): imports run down, never up. Read from the source
// itself, so a new import that runs up, a SQL statement outside db/ or a Redis call outside kv/
// fails here before review.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Lowest first. A folder may import its own floor's files only where named in SIDEWAYS. */
const FLOORS: readonly (readonly string[])[] = [
  ["domain"],
  ["db", "kv"],
  ["registry"],
  ["gateways"],
  ["ai", "executors"],
  ["handlers"],
  ["jobs", "bot", "http"],
  ["app"],
];

/** The one sideways door: the queues are the contract between producers and their workers. */
const SIDEWAYS: Readonly<Record<string, readonly string[]>> = {
  http: ["jobs/queues.ts"],
  bot: ["jobs/queues.ts"],
};

function floorOf(folder: string): number {
  return FLOORS.findIndex((floor) => floor.includes(folder));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sourceFiles(relative);
    return name.endsWith(".ts") ? [relative] : [];
  });
}

const FILES = FLOORS.flat().flatMap((folder) => sourceFiles(folder));

/** The project files `file` imports (static and dynamic), relative to the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1] ?? "");
  return specifiers.map((specifier) =>
    path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)).replace(/\.js$/, ".ts"),
  );
}

const topFolder = (file: string): string => file.split(path.sep)[0] ?? "";

describe("floors", () => {
  it("knows every source folder", () => {
    const folders = readdirSync(ROOT).filter(
      (name) =>
        statSync(path.join(ROOT, name)).isDirectory() &&
        !name.startsWith(".") &&
        sourceFiles(name).length > 0 &&
        !["node_modules", "test", "bench", "dev", "deploy", "dist"].includes(name),
    );
    expect(folders.filter((folder) => floorOf(folder) < 0)).toEqual([]);
  });

  it("domain/ imports nothing of the project outside itself", () => {
    const outside = FILES.filter((file) => topFolder(file) === "domain").flatMap((file) =>
      importsOf(file)
        .filter((target) => topFolder(target) !== "domain")
        .map((target) => `${file} → ${target}`),
    );
    expect(outside).toEqual([]);
  });

  it("no folder imports from a floor above its own, nor sideways", () => {
    const wrong = FILES.flatMap((file) => {
      const from = topFolder(file);
      return importsOf(file)
        .filter((target) => {
          const to = topFolder(target);
          if (to === from) return false;
          if (SIDEWAYS[from]?.includes(target)) return false;
          return floorOf(to) >= floorOf(from);
        })
        .map((target) => `${file} → ${target}`);
    });
    expect(wrong).toEqual([]);
  });
});

// SQL and Redis commands belong to their folders. These files speak to other systems in their own
// languages, not to the bot's state: the executors act on a repair target's own Redis or
// PostgreSQL (FLUSHDB, VACUUM), and the SigNoz gateway reads SigNoz's ClickHouse.
const TARGET_CLIENTS = ["executors/clear-cache.ts", "executors/vacuum-db.ts", "gateways/signoz-spans.ts"];

describe("state has one home", () => {
  it("no SQL outside db/", () => {
    const sql =
      /`\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS)\b|"(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s/;
    const offenders = FILES.filter(
      (file) =>
        topFolder(file) !== "db" &&
        !TARGET_CLIENTS.includes(file) &&
        sql.test(readFileSync(path.join(ROOT, file), "utf8")),
    );
    expect(offenders).toEqual([]);
  });

  it("no Redis client outside kv/ (app/ only opens the connections)", () => {
    const offenders = FILES.filter(
      (file) =>
        !["kv", "app"].includes(topFolder(file)) &&
        !TARGET_CLIENTS.includes(file) &&
        /from "ioredis"/.test(readFileSync(path.join(ROOT, file), "utf8")),
    );
    expect(offenders).toEqual([]);
  });

  it("no pg client outside db/ (app/ only opens the pool)", () => {
    const offenders = FILES.filter(
      (file) =>
        !["db", "app"].includes(topFolder(file)) &&
        !TARGET_CLIENTS.includes(file) &&
        /from "pg"/.test(readFileSync(path.join(ROOT, file), "utf8")),
    );
    expect(offenders).toEqual([]);
  });
});

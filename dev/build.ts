// `npm run build`: compiles the bot to plain JavaScript in dist/ (tsc with tsconfig.build.json) and
// copies the files the code reads at run time next to it, so `node dist/main.js` (the image, and
// `npm start`) needs neither tsx nor the TypeScript sources:
//   - db/migrations/*.sql   read by db/migrate.ts relative to its own module (import.meta.url)
//   - kv/lua/*.lua          read by kv/scripts.ts relative to its own module
//   - registry/*.yaml       REGISTRY_PATH (default registry/services.yaml) is relative to the working
//                           directory, so dist/ can be the working directory (as in the image)
// `--if-stale` (the `prestart` hook) builds only when a source is newer than the last build, so
// `npm start` on a fresh clone builds once and later starts skip it. Builds that overlap (test
// files in parallel) take turns through a lock.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = path.join(ROOT, "dist");
const STAMP = path.join(OUT, ".build-stamp");

/** The folders tsconfig.build.json compiles, plus what decides how they compile. */
const SOURCE_DIRS = [
  "domain",
  "db",
  "kv",
  "registry",
  "gateways",
  "ai",
  "executors",
  "handlers",
  "jobs",
  "bot",
  "http",
  "app",
];
const SOURCE_FILES = ["main.ts", "tsconfig.json", "tsconfig.build.json", "package.json"];

/** Run-time files: [source folder, file name pattern]. Each lands at the same path under dist/. */
export const ASSETS: readonly (readonly [string, RegExp])[] = [
  ["db/migrations", /\.sql$/],
  ["kv/lua", /\.lua$/],
  ["registry", /\.ya?ml$/],
];

function newestSourceTime(): number {
  let newest = 0;
  const visit = (file: string): void => {
    const stat = statSync(file);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(file)) visit(path.join(file, entry));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const name of [...SOURCE_DIRS, ...SOURCE_FILES]) {
    const file = path.join(ROOT, name);
    if (existsSync(file)) visit(file);
  }
  return newest;
}

function isStale(): boolean {
  if (!existsSync(STAMP) || !existsSync(path.join(OUT, "main.js"))) return true;
  return newestSourceTime() > statSync(STAMP).mtimeMs;
}

function compile(): void {
  // A clean output: a source file deleted since the last build must not live on in dist/.
  rmSync(OUT, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.build.json")], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error("tsc failed (its errors are above)");
  for (const [dir, pattern] of ASSETS) {
    const target = path.join(OUT, dir);
    mkdirSync(target, { recursive: true });
    for (const file of readdirSync(path.join(ROOT, dir)).filter((name) => pattern.test(name))) {
      cpSync(path.join(ROOT, dir, file), path.join(target, file));
    }
  }
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

/**
 * One build at a time: test files that need dist/ run in parallel and each asks for it. Whoever
 * holds the lock (a directory: creating it is atomic) builds; the others wait, then look again.
 * A lock older than any build could take is left over from a killed one and is taken over.
 */
const LOCK = path.join(ROOT, ".dist.lock");
const LOCK_STALE_MS = 10 * 60_000;

async function withLock(run: () => void): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - (existsSync(LOCK) ? statSync(LOCK).mtimeMs : Date.now());
      if (age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    run();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const ifStale = process.argv.includes("--if-stale");
try {
  await withLock(() => {
    if (ifStale && !isStale()) return;
    const started = Date.now();
    compile();
    console.error(`build: dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
} catch (error) {
  console.error(`build: ${(error as Error).message}`);
  process.exitCode = 1;
}

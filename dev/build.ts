// `npm run build`: bundles the bot into dist/ with esbuild, minified but for names, so `node dist/main.js` (the
// image, and `npm start`) needs neither tsx nor the TypeScript sources, and copies the files the
// code reads at run time next to it.
//
// Why a bundle rather than tsc's one file per module: V8 keeps the source text of every
// module it loads, in each of the two heaps `npm start` runs (the intake's and the workers'
// thread's), and node keeps a record per module file. Against the tsc output, alternating runs:
// resident set once ready and idle, intake only 103-121 -> 99-100 MB, every role 158-167 ->
// 143-144 MB (with app/runtime.ts loading the HTTP server only where something listens, which the
// workers' thread no longer does); /api/v1/health answers 0.8-1.2 s after start instead of
// 1.0-1.6 s (those figures with the names minified too, and keepNames). The peaks under the bench's
// load moved less than their noise (intake only 162-169 -> 157-164 MB, every role 220-236 ->
// 226-235 MB): they are young generations and old-generation headroom, not code.
//  - Whitespace and syntax are minified; names are not. Names are what a library may test
//    (`this.name = this.constructor.name` in BullMQ's and redis-errors' error classes) and what a
//    stack trace and a log line's `err.type` show. esbuild still renames a top-level name that two
//    ES modules share, and any name that would shadow a global the same chunk refers to (`Foo2`,
//    `AbortSignal2`): which ones depends on what lands in each chunk. grammY's fetch (node-fetch 2)
//    accepts a signal only if its class is named `AbortSignal`, so grammY's AbortController
//    polyfill is replaced by node's own (nativeAbortController below), whose name no bundle can
//    change. Its `keepNames` option would restore the names, but it does so by
//    calling `Object.defineProperty(fn, "name", ...)` on every function expression each time it is
//    created: the closures fastify makes for each request among them. With names minified and
//    `keepNames`, those calls were 11 % of the intake's CPU under the single-alert load. Paired
//    runs, every role: single alert 8,221-9,662 req/s with them, 9,186-11,875 without (five
//    runs); peak RSS 218-219 -> 211-214 MB. Minifying the names as well made no difference the
//    noise lets one see (138-139 MB once ready either way).
//  - Each module that is imported lazily (the Kubernetes, Docker and AI provider clients) stays a
//    chunk of its own, loaded on first use as before.
//  - Linked source maps (without the sources) map a stack trace to the TypeScript file and line:
//    run node with `--enable-source-maps` (NODE_OPTIONS). Not by default: it keeps the maps in
//    memory, about 45 MB once ready.
//  - Left outside the bundle, loaded from node_modules at run time as before: the libraries that
//    load files of their own package: msgpackr-extract (a native addon) and dockerode (its SSH
//    transport's native addons, the protobuf files of BuildKit and gRPC); and the optional
//    pg-native. A library in the bundle that only reads a file of its own finds it in node_modules
//    (installedLocation below): keeping ioredis outside instead cost 8 MB once ready, intake only.
// Run-time files, each read relative to the module that reads it (import.meta.url), which is now
// a file in dist/ itself (every chunk is written there):
//   - db/migrations/*.sql   -> dist/migrations/ (db/migrate.ts)
//   - kv/lua/*.lua          -> dist/lua/ (kv/scripts.ts)
//   - registry/*.yaml       -> dist/registry/: REGISTRY_PATH (default registry/services.yaml) is
//                              relative to the working directory, so dist/ can be it (the image)
// Types are checked by `npm run check`, not here: esbuild compiles each file on its own, as tsx
// does in development and in the tests (tsconfig.json has isolatedModules).
// `--if-stale` (the `prestart` hook) builds only when a source is newer than the last build, so
// `npm start` on a fresh clone builds once and later starts skip it. Builds that overlap (test
// files in parallel) take turns through a lock.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readFile } from "node:fs/promises";
import { build, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = path.join(ROOT, "dist");
const STAMP = path.join(OUT, ".build-stamp");
/** The JavaScript files and source maps the last build wrote, one name a line. */
const CHUNK_LIST = path.join(OUT, ".build-chunks");

/** The folders the bundle is built from, plus what decides how it is built. */
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
// the libraries are in the bundle too: an `npm ci` or `npm update` changes the lock files
const SOURCE_FILES = [
  "main.ts",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  "node_modules/.package-lock.json",
  "dev/build.ts",
];

/** Run-time files: [source folder, file name pattern, folder under dist/]. */
const ASSETS: readonly (readonly [string, RegExp, string])[] = [
  ["db/migrations", /\.sql$/, "migrations"],
  ["kv/lua", /\.lua$/, "lua"],
  ["registry", /\.ya?ml$/, "registry"],
];

/**
 * A CommonJS file of a library that names its own location (`__dirname`, `__filename`: ioredis
 * reads its package.json for the version it reports to Redis) gets the location npm installed it
 * at, found from dist/ when the module loads, as when node loads it from node_modules. (In the
 * bundle they would be undefined, as in any ES module.)
 */
const installedLocation: Plugin = {
  name: "installed-location",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const commonJs = /\b(module\.exports|exports\.\w+)\s*=/.test(source) && !source.includes("import.meta");
      if (!commonJs || !/\b__(dirname|filename)\b/.test(source)) return undefined;
      const file = path.relative(path.join(ROOT, "node_modules"), args.path).split(path.sep).join("/");
      const location = `var __filename=__installedFile(${JSON.stringify(file)}),__dirname=require("node:path").dirname(__filename);`;
      return { contents: `${location}\n${source}`, loader: "js" };
    });
  },
};

/** What a free `__dirname` / `__filename` becomes in the bundle, for the check after the build. */
const FREE_DIRNAME = "__free_dirname_in_bundle";
const FREE_FILENAME = "__free_filename_in_bundle";
const FREE_LOCATION = new RegExp(`\\b(${FREE_DIRNAME}|${FREE_FILENAME})\\b`);

/**
 * `abort-controller` (grammY's polyfill, for runtimes without one) as node's own classes. node-fetch 2
 * takes a signal only if its class is named `AbortSignal`, which a polyfill class bundled beside a
 * use of the global `AbortSignal` is not (esbuild renames it `AbortSignal2`).
 */
const nativeAbortController: Plugin = {
  name: "native-abort-controller",
  setup(build) {
    build.onResolve({ filter: /^abort-controller$/ }, () => ({
      path: "abort-controller",
      namespace: "native",
    }));
    build.onLoad({ filter: /.*/, namespace: "native" }, () => ({
      contents:
        "const { AbortController, AbortSignal } = globalThis;\n" +
        "module.exports = { AbortController, AbortSignal, default: AbortController };\n",
      loader: "js",
    }));
  },
};

/** Packages node loads from node_modules at run time instead of from the bundle (see above). */
const EXTERNAL = ["msgpackr-extract", "dockerode", "pg-native"];

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

async function compile(): Promise<void> {
  // esbuild writes nothing when it fails, so a failed build leaves dist/ as it was
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["main.ts"],
    outdir: OUT,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: "linked",
    sourcesContent: false,
    external: EXTERNAL,
    // A __dirname or __filename that no module declares becomes a name the check below finds
    // (esbuild's define replaces only free identifiers).
    define: { __dirname: FREE_DIRNAME, __filename: FREE_FILENAME },
    // CommonJS libraries in the bundle call require() (node's modules, the external libraries);
    // __installedFile is for the plugin below
    banner: {
      js: [
        "import{createRequire as __createRequire}from'node:module';",
        "import{existsSync as __existsSync}from'node:fs';",
        "import{join as __joinPath}from'node:path';",
        "const require=__createRequire(import.meta.url);",
        "const __installedFile=(f)=>{for(const d of require.resolve.paths('x')??[]){const p=__joinPath(d,f);if(__existsSync(p))return p}return __joinPath('node_modules',f)};",
      ].join(""),
    },
    plugins: [installedLocation, nativeAbortController],
    logLevel: "warning",
    metafile: true,
  });
  const chunks = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  // each chunk read once, for both checks below
  const sources = chunks
    .filter((file) => file.endsWith(".js"))
    .map((file) => [file, readFileSync(path.join(OUT, file), "utf8")] as const);
  // A library file the plugin missed would throw "__dirname is not defined" when it loads, later.
  const unresolved = sources.filter(([, source]) => FREE_LOCATION.test(source)).map(([file]) => file);
  if (unresolved.length > 0)
    throw new Error(
      `${unresolved.join(", ")}: a bundled library names __dirname or __filename, which the bundle does not define; add it to EXTERNAL or have installedLocation recognise it`,
    );
  // V8 keeps a module's source text for as long as the module lives, in one byte a character
  // when every character fits Latin-1 and in two otherwise: one Chinese character in a regular
  // expression (esbuild escapes non-ASCII in strings, not in regular expressions) made the main
  // chunk of 1.9 MB take 3.9 MB in each of the two heaps `npm start` runs.
  const wide = sources.flatMap(([file, source]) => {
    let at = 0;
    while (at < source.length && source.charCodeAt(at) <= 0xff) at++;
    if (at === source.length) return [];
    return [`${file} at ${at}: …${source.slice(Math.max(0, at - 40), at + 20)}…`];
  });
  if (wide.length > 0)
    throw new Error(
      `a character past Latin-1 in the bundle doubles its chunk's size in memory; write it as a string (which esbuild escapes) or a \\u escape:\n  ${wide.join("\n  ")}`,
    );
  for (const [dir, pattern, target] of ASSETS) {
    // copied beside, then swapped in: a migration deleted from the sources goes with the old copy
    const fresh = path.join(OUT, `${target}.new`);
    rmSync(fresh, { recursive: true, force: true });
    mkdirSync(fresh, { recursive: true });
    for (const file of readdirSync(path.join(ROOT, dir)).filter((name) => pattern.test(name))) {
      cpSync(path.join(ROOT, dir, file), path.join(fresh, file));
    }
    rmSync(path.join(OUT, target), { recursive: true, force: true });
    renameSync(fresh, path.join(OUT, target));
  }
  removeStale(chunks);
  writeFileSync(CHUNK_LIST, `${chunks.join("\n")}\n`);
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

/**
 * Removes from dist/ what neither this build nor the last one wrote. A chunk's name changes with
 * its content, and a process started from the last build (`npm start` left running while the
 * tests build again) loads some chunks only on first use (the Kubernetes client, an AI
 * provider's): they stay until the build after this one. A dist/ without a list (tsc's layout of
 * earlier versions) keeps nothing of its own.
 */
function removeStale(written: readonly string[]): void {
  const previous = existsSync(CHUNK_LIST) ? readFileSync(CHUNK_LIST, "utf8").split("\n") : [];
  const keep = new Set([
    ...previous,
    ...written,
    ...ASSETS.map(([, , target]) => target),
    path.basename(CHUNK_LIST),
    path.basename(STAMP),
  ]);
  for (const entry of readdirSync(OUT)) {
    if (!keep.has(entry)) rmSync(path.join(OUT, entry), { recursive: true, force: true });
  }
}

/**
 * One build at a time: test files that need dist/ run in parallel and each asks for it. Whoever
 * holds the lock (a directory: creating it is atomic) builds; the others wait, then look again.
 * A lock older than any build could take is left over from a killed one and is taken over.
 */
const LOCK = path.join(ROOT, ".dist.lock");
const LOCK_STALE_MS = 10 * 60_000;

async function withLock(run: () => Promise<void>): Promise<void> {
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
    await run();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const ifStale = process.argv.includes("--if-stale");
try {
  await withLock(async () => {
    if (ifStale && !isStale()) return;
    const started = Date.now();
    await compile();
    console.error(`build: dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
} catch (error) {
  console.error(`build: ${(error as Error).message}`);
  process.exitCode = 1;
}

// `tsx registry/cli.ts validate|generate`: the registry's CI check and its generator.
import { realpathSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { readCliEnv, type CliEnv } from "./cli-env.js";
import { computeCoverage, formatPercent, renderMarkdown, type CoverageReport } from "./coverage.js";
import { ALERTMANAGER_FILE, RULES_FILE, WEBHOOK_PATH, generateFiles, prometheusRules } from "./generate.js";
import { DEFAULT_REGISTRY_PATH, formatIssue, readRegistry } from "./loader.js";
import type { Registry } from "./model.js";
import { PrometheusSource } from "./sources/prometheus.js";
import { RuleFileSource } from "./sources/rule-files.js";
import type { LoadedRule, RuleSource, RunningThing, WorkloadSource } from "./sources/types.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Every entry watched by an alert, nothing running unregistered: the seed's "100% coverage". */
export const DEFAULT_MIN_COVERAGE = 100;

export const USAGE = `Usage:
  registry validate [--registry PATH] [--kubeconfig PATH] [--docker-host URL] [--prometheus URL]
                    [--rules FILE...] [--min-coverage N] [--report-dir DIR]
  registry generate --out DIR [--registry PATH]

validate  checks the registry (shape, names, references), then its coverage against each source
          given: Kubernetes deployments/statefulsets/daemonsets (--kubeconfig, default $KUBECONFIG),
          Docker containers (--docker-host, default $DOCKER_HOST), Prometheus scrape targets and
          loaded alert rules (--prometheus URL), alert rules in rule files (--rules).
          Writes coverage-report.md and coverage-report.json to --report-dir (default .).
          Fails on registry errors, on a source it cannot read, and when coverage is below
          --min-coverage (default ${DEFAULT_MIN_COVERAGE}: every registered entry has an alert that is loaded, and
          nothing runs unregistered; without sources only the first part is checked).
generate  writes ${RULES_FILE} and ${ALERTMANAGER_FILE} to --out.

The registry is --registry, else $REGISTRY_PATH, else ${DEFAULT_REGISTRY_PATH}.
Exit status: 0 passed, 1 failed, 2 usage error.`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface ValidateOptions {
  registryPath: string;
  minCoverage: number;
  reportDir: string;
}

export interface CoverageSources {
  workloads: readonly WorkloadSource[];
  rules: readonly RuleSource[];
}

export async function runCli(argv: readonly string[], io: CliIo, env: CliEnv): Promise<number> {
  const parsed = parseCommandLine(argv);
  if ("error" in parsed) {
    io.err(`error: ${parsed.error}`);
    io.err(USAGE);
    return EXIT_USAGE;
  }
  const { command, values, rules } = parsed;
  if (command === "help") {
    io.out(USAGE);
    return EXIT_OK;
  }
  const registryPath = values.registry ?? env.registryPath ?? DEFAULT_REGISTRY_PATH;
  if (command === "generate") {
    if (values.out === undefined) return usageError(io, "generate needs --out DIR");
    return generate({ registryPath, outDir: values.out }, io);
  }
  const minCoverage = Number(values["min-coverage"] ?? DEFAULT_MIN_COVERAGE);
  if (!Number.isFinite(minCoverage) || minCoverage < 0 || minCoverage > 100) {
    return usageError(
      io,
      `--min-coverage must be a number from 0 to 100 (got ${values["min-coverage"] ?? ""})`,
    );
  }
  const kubeconfig = values.kubeconfig ?? env.kubeconfig;
  const dockerHost = values["docker-host"] ?? env.dockerHost;
  const prometheus = values.prometheus === undefined ? undefined : new PrometheusSource(values.prometheus);
  // Imported only when configured: the Kubernetes client alone takes most of a second to load.
  const workloads: WorkloadSource[] = [];
  if (kubeconfig !== undefined) {
    const { KubernetesSource } = await import("./sources/kubernetes.js");
    workloads.push(new KubernetesSource(kubeconfig));
  }
  if (dockerHost !== undefined) {
    const { DockerSource } = await import("./sources/docker.js");
    workloads.push(new DockerSource(dockerHost));
  }
  const sources: CoverageSources = {
    workloads: [...workloads, ...(prometheus === undefined ? [] : [prometheus])],
    rules: [
      ...(prometheus === undefined ? [] : [prometheus]),
      ...(rules.length === 0 ? [] : [new RuleFileSource(rules)]),
    ],
  };
  return validate({ registryPath, minCoverage, reportDir: values["report-dir"] ?? "." }, sources, io);
}

export async function validate(
  options: ValidateOptions,
  sources: CoverageSources,
  io: CliIo,
): Promise<number> {
  const registry = await loadOrReport(options.registryPath, io);
  if (registry === undefined) return EXIT_FAILED;
  const ruleCount = prometheusRules(registry).groups.reduce((sum, group) => sum + group.rules.length, 0);
  io.out(
    `${registry.file}: ${count(registry.services.length, "service")}, ${count(registry.hosts.length, "host")}, ` +
      `${count(ruleCount, "Prometheus rule")}: valid`,
  );

  const gathered = await gather(sources);
  if ("errors" in gathered) {
    for (const message of gathered.errors) io.err(`error: ${message}`);
    return EXIT_FAILED;
  }
  const names = [...new Set([...sources.workloads, ...sources.rules].map((source) => source.name))];
  const report = computeCoverage(registry, { sources: names, ...gathered }, options.minCoverage);
  printFindings(report, io);
  await mkdir(options.reportDir, { recursive: true });
  const markdown = join(options.reportDir, "coverage-report.md");
  const json = join(options.reportDir, "coverage-report.json");
  await writeFile(markdown, renderMarkdown(report) + "\n");
  await writeFile(json, JSON.stringify(report, null, 2) + "\n");
  io.out(`reports: ${markdown}, ${json}`);
  return report.passed ? EXIT_OK : EXIT_FAILED;
}

export async function generate(
  options: { registryPath: string; outDir: string },
  io: CliIo,
): Promise<number> {
  const registry = await loadOrReport(options.registryPath, io);
  if (registry === undefined) return EXIT_FAILED;
  await mkdir(options.outDir, { recursive: true });
  for (const [name, content] of Object.entries(generateFiles(registry))) {
    await writeFile(join(options.outDir, name), content);
  }
  const groups = prometheusRules(registry).groups;
  const rules = groups.reduce((sum, group) => sum + group.rules.length, 0);
  io.out(`wrote ${join(options.outDir, RULES_FILE)} (${rules} rules in ${groups.length} groups)`);
  io.out(
    `wrote ${join(options.outDir, ALERTMANAGER_FILE)} (receiver ${registry.alertmanager.receiver} -> ${registry.alertmanager.bot_url}${WEBHOOK_PATH})`,
  );
  return EXIT_OK;
}

async function loadOrReport(path: string, io: CliIo): Promise<Registry | undefined> {
  const result = await readRegistry(path);
  if (result.ok) return result.registry;
  for (const issue of result.issues) io.err(formatIssue(issue));
  io.err(`${path}: ${count(result.issues.length, "problem")}`);
  return undefined;
}

/** Reads every source at once; reports all that fail, not only the first. */
async function gather(
  sources: CoverageSources,
): Promise<{ running: RunningThing[]; loadedRules?: LoadedRule[] } | { errors: string[] }> {
  const [running, rules] = await Promise.all([
    Promise.allSettled(sources.workloads.map((source) => source.list())),
    Promise.allSettled(sources.rules.map((source) => source.alertRules())),
  ]);
  const errors = [...running, ...rules].flatMap((result) =>
    result.status === "rejected" ? [(result.reason as Error).message] : [],
  );
  if (errors.length > 0) return { errors };
  const values = <T>(results: PromiseSettledResult<T[]>[]) =>
    results.flatMap((result) => (result.status === "fulfilled" ? result.value : []));
  return {
    running: values(running),
    ...(sources.rules.length === 0 ? {} : { loadedRules: values(rules) }),
  };
}

function printFindings(report: CoverageReport, io: CliIo): void {
  for (const thing of report.unregistered)
    io.out(`unregistered: ${thing.description} (seen by ${thing.source})`);
  for (const unit of report.units) {
    if (unit.status === "no-alert") io.out(`no alert: ${unit.id}`);
    if (unit.status === "alert-not-loaded")
      io.out(`alert not loaded: ${unit.id}: ${unit.notLoaded.join(", ")}`);
  }
  for (const id of report.notRunning) io.out(`not running: ${id}`);
  const line = `coverage ${formatPercent(report.percent)} (${report.covered} of ${report.total}), minimum ${report.minCoverage}%`;
  if (report.passed) io.out(`${line}: passed`);
  else io.err(`${line}: FAILED`);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function usageError(io: CliIo, message: string): number {
  io.err(`error: ${message}`);
  io.err(USAGE);
  return EXIT_USAGE;
}

const OPTIONS = {
  registry: { type: "string" },
  kubeconfig: { type: "string" },
  "docker-host": { type: "string" },
  prometheus: { type: "string" },
  rules: { type: "string", multiple: true },
  "min-coverage": { type: "string" },
  "report-dir": { type: "string" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  validate: ["registry", "kubeconfig", "docker-host", "prometheus", "rules", "min-coverage", "report-dir"],
  generate: ["registry", "out"],
};

type ParsedValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

/**
 * `--rules a.yml b.yml` takes every following plain argument, so a shell glob works
 * (`--rules rules/*.yml`).
 */
function parseCommandLine(
  argv: readonly string[],
): { command: "validate" | "generate" | "help"; values: ParsedValues; rules: string[] } | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const rules: string[] = [];
  let command: string | undefined;
  let afterRules = false;
  for (const token of parsed.tokens) {
    if (token.kind === "option") {
      afterRules = token.name === "rules";
      if (afterRules && token.value !== undefined) rules.push(token.value);
    } else if (token.kind === "positional") {
      if (afterRules) rules.push(token.value);
      else if (command === undefined) command = token.value;
      else return { error: `unexpected argument ${token.value}` };
    }
  }
  if (parsed.values.help === true || command === "help")
    return { command: "help", values: parsed.values, rules };
  if (command !== "validate" && command !== "generate") {
    return { error: command === undefined ? "name a command" : `unknown command ${command}` };
  }
  const allowed = COMMAND_OPTIONS[command] ?? [];
  const misplaced = Object.keys(parsed.values).find((name) => name !== "help" && !allowed.includes(name));
  if (misplaced !== undefined) return { error: `--${misplaced} is not an option of ${command}` };
  return { command, values: parsed.values, rules };
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(resolve(script))).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const io: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  process.exitCode = await runCli(process.argv.slice(2), io, readCliEnv());
}

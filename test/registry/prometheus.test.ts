// validate against a real Prometheus (Debian package `prometheus`) on 127.0.0.1.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runCli } from "../../registry/cli.js";
import type { CoverageReport } from "../../registry/coverage.js";
import { generateFiles, RULES_FILE } from "../../registry/generate.js";
import { loadRegistryFile } from "../../registry/loader.js";
import { freePort, startProcess, waitForHttp, type RunningProcess } from "../../dev/processes.js";
import { binary, captureIo, SAMPLE_REGISTRY, withTempDir } from "./helpers.js";

let dir: string;
let prometheus: RunningProcess | undefined;
let url: string;
let fullRules: string;
let mysteryTarget: string;

async function waitForTargets(jobs: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: { labels: Record<string, string> }[] };
    };
    seen = body.data.activeTargets.map((target) => target.labels.job ?? "");
    if (jobs.every((job) => seen.includes(job))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `Prometheus did not list the targets ${jobs.join(", ")} within ${timeoutMs} ms (saw ${seen.join(", ")})`,
  );
}

beforeAll(async () => {
  const executable = binary("prometheus");
  dir = await mkdtemp(join(tmpdir(), "registry-prometheus-"));
  const registry = await loadRegistryFile(SAMPLE_REGISTRY);
  fullRules = join(dir, "full-rules.yml");
  await writeFile(fullRules, generateFiles(registry)[RULES_FILE]);
  // Prometheus loads every generated rule except the redis group.
  const { groups } = parse(generateFiles(registry)[RULES_FILE]) as { groups: { name: string }[] };
  await writeFile(
    join(dir, "rules.yml"),
    stringify({ groups: groups.filter((group) => group.name !== "redis") }),
  );

  const [port, nobodyListens] = await Promise.all([freePort(), freePort()]);
  url = `http://127.0.0.1:${port}`;
  mysteryTarget = `127.0.0.1:${nobodyListens}`;
  const config = {
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    rule_files: [join(dir, "rules.yml")],
    scrape_configs: [
      { job_name: "prometheus", static_configs: [{ targets: [`127.0.0.1:${port}`] }] },
      { job_name: "mystery-exporter", static_configs: [{ targets: [mysteryTarget] }] },
    ],
  };
  await writeFile(join(dir, "prometheus.yml"), stringify(config));
  prometheus = startProcess(executable, [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ]);
  try {
    await waitForHttp(`${url}/-/ready`, 15_000, prometheus.child);
    // Target discovery reaches the scrape manager in batches about 5 s apart.
    await waitForTargets(["prometheus", "mystery-exporter"], 20_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${prometheus.output()}`, { cause: error });
  }
}, 40_000);

afterAll(async () => {
  await prometheus?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("validate --prometheus", () => {
  it("fails and names an unregistered scrape job and the alerts Prometheus has not loaded", async () => {
    await withTempDir(async (reports) => {
      const { io, out, err } = captureIo();
      const code = await runCli(
        ["validate", "--registry", SAMPLE_REGISTRY, "--prometheus", url, "--report-dir", reports],
        io,
        {},
      );
      expect(code).toBe(1);
      expect(out).toContain(
        `unregistered: scrape target job=mystery-exporter instance=${mysteryTarget} (seen by prometheus)`,
      );
      expect(out.filter((line) => line.startsWith("unregistered: "))).toHaveLength(1);
      expect(out).toContain(
        "alert not loaded: container redis-stack on pg: RedisDown, MemoryExhausted, RedisMemoryHigh, HitRateLow, SlowCommands, ContainerNotRunning",
      );
      expect(out.filter((line) => line.startsWith("alert not loaded: "))).toHaveLength(2);
      expect(err.at(-1)).toMatch(/minimum 100%: FAILED$/);
      const report = JSON.parse(
        await readFile(join(reports, "coverage-report.json"), "utf8"),
      ) as CoverageReport;
      expect(report.sources).toEqual(["prometheus"]);
      expect(report.unregisteredRules).toEqual([]);
    });
  });

  it("passes when the job is ignored and a rule file supplies the missing rules", async () => {
    await withTempDir(async (reports) => {
      const registry = join(reports, "services.yaml");
      const source = await readFile(SAMPLE_REGISTRY, "utf8");
      const ignoring = "  ignore_namespaces: [kube-system, kube-public, kube-node-lease]\n";
      expect(source).toContain(ignoring);
      await writeFile(registry, source.replace(ignoring, `${ignoring}  ignore_jobs: [mystery-exporter]\n`));
      const { io, out } = captureIo();
      const argv = [
        "validate",
        "--registry",
        registry,
        "--prometheus",
        url,
        "--rules",
        fullRules,
        "--report-dir",
        reports,
      ];
      const code = await runCli(argv, io, {});
      expect(out).toContainEqual(
        expect.stringMatching(/^coverage 100\.0% \(\d+ of \d+\), minimum 100%: passed$/),
      );
      expect(code).toBe(0);
      const report = JSON.parse(
        await readFile(join(reports, "coverage-report.json"), "utf8"),
      ) as CoverageReport;
      expect(report.sources).toEqual(["prometheus", "rule files"]);
      expect(report.ignored.map((thing) => thing.description)).toEqual([
        `scrape target job=mystery-exporter instance=${mysteryTarget}`,
      ]);
    });
  });
});

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { validate, type CoverageSources } from "../../registry/cli.js";
import type { CoverageReport } from "../../registry/coverage.js";
import { generateFiles, RULES_FILE } from "../../registry/generate.js";
import { loadRegistryFile } from "../../registry/loader.js";
import type { Registry } from "../../registry/model.js";
import { RuleFileSource } from "../../registry/sources/rule-files.js";
import type { RunningThing, WorkloadSource } from "../../registry/sources/types.js";
import { captureIo, fixture, SAMPLE_REGISTRY, withTempDir } from "./helpers.js";

/** Stands for the Kubernetes or Docker listing: what "really runs" in a test. */
class ListedSource implements WorkloadSource {
  constructor(
    readonly name: string,
    private readonly things: RunningThing[],
  ) {}

  list(): Promise<RunningThing[]> {
    return Promise.resolve(this.things);
  }
}

let registry: Registry;

beforeAll(async () => {
  registry = await loadRegistryFile(SAMPLE_REGISTRY);
});

/** Kubernetes and Docker listings of exactly what the registry holds, plus `extra`. */
function listings(extra: { kubernetes?: RunningThing[]; docker?: RunningThing[] } = {}): WorkloadSource[] {
  const workloads = registry.services.flatMap((s) =>
    s.k8s.map((w): RunningThing => ({
      source: "kubernetes",
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
    })),
  );
  const containers = registry.services.flatMap((s) =>
    s.docker.map((c): RunningThing => ({ source: "docker", kind: "Container", name: c.name })),
  );
  return [
    new ListedSource("kubernetes", [...workloads, ...(extra.kubernetes ?? [])]),
    new ListedSource("docker", [...containers, ...(extra.docker ?? [])]),
  ];
}

async function validateIn(
  dir: string,
  sources: CoverageSources,
  options: { registryPath?: string; minCoverage?: number } = {},
) {
  const { io, out, err } = captureIo();
  const code = await validate(
    {
      registryPath: options.registryPath ?? SAMPLE_REGISTRY,
      minCoverage: options.minCoverage ?? 100,
      reportDir: dir,
    },
    sources,
    io,
  );
  const report = JSON.parse(await readFile(join(dir, "coverage-report.json"), "utf8")) as CoverageReport;
  const markdown = await readFile(join(dir, "coverage-report.md"), "utf8");
  return { code, out, err, report, markdown };
}

const STRAY_DEPLOYMENT: RunningThing = {
  source: "kubernetes",
  kind: "Deployment",
  namespace: "awoooi-prod",
  name: "awoooi-scheduler",
};
const STRAY_CONTAINER: RunningThing = { source: "docker", kind: "Container", name: "crypto-miner" };

describe("validate coverage", () => {
  it("passes at 100% when everything that runs is registered and alerted on", async () => {
    await withTempDir(async (dir) => {
      const { code, out, report, markdown } = await validateIn(dir, { workloads: listings(), rules: [] });
      expect(code).toBe(0);
      expect(report.percent).toBe(100);
      expect(report.passed).toBe(true);
      expect(report.sources).toEqual(["kubernetes", "docker"]);
      expect(report.unregistered).toEqual([]);
      expect(out).toContain(`coverage 100.0% (${report.total} of ${report.total}), minimum 100%: passed`);
      expect(markdown).toContain("**100.0%** covered");
      expect(markdown).toContain(
        "| Deployment awoooi-prod/awoooi-api | awoooi-api | PodCrashLoopBackOff, ReplicasUnavailable, AWOOOIAPIDown | covered |",
      );
    });
  });

  it("fails and names a deployment and a container that run unregistered", async () => {
    await withTempDir(async (dir) => {
      const sources = {
        workloads: listings({ kubernetes: [STRAY_DEPLOYMENT], docker: [STRAY_CONTAINER] }),
        rules: [],
      };
      const { code, out, err, report, markdown } = await validateIn(dir, sources);
      expect(code).toBe(1);
      expect(out).toContain("unregistered: Deployment awoooi-prod/awoooi-scheduler (seen by kubernetes)");
      expect(out).toContain("unregistered: container crypto-miner (seen by docker)");
      expect(err.at(-1)).toMatch(/^coverage 9\d\.\d% \(\d+ of \d+\), minimum 100%: FAILED$/);
      expect(report.unregistered.map((thing) => thing.description)).toEqual([
        "Deployment awoooi-prod/awoooi-scheduler",
        "container crypto-miner",
      ]);
      expect(report.total - report.covered).toBe(2);
      expect(markdown).toContain("## Running but not registered (2)");
      expect(markdown).toContain("| Deployment awoooi-prod/awoooi-scheduler | kubernetes |");
    });
  });

  it("passes a lower --min-coverage while still listing what is unregistered", async () => {
    await withTempDir(async (dir) => {
      const sources = { workloads: listings({ docker: [STRAY_CONTAINER] }), rules: [] };
      const { code, out, report } = await validateIn(dir, sources, { minCoverage: 90 });
      expect(code).toBe(0);
      expect(report.percent).toBeLessThan(100);
      expect(out).toContain("unregistered: container crypto-miner (seen by docker)");
    });
  });

  it("does not count the cluster's own namespaces", async () => {
    await withTempDir(async (dir) => {
      const coredns: RunningThing = {
        source: "kubernetes",
        kind: "Deployment",
        namespace: "kube-system",
        name: "coredns",
      };
      const { code, report, markdown } = await validateIn(dir, {
        workloads: listings({ kubernetes: [coredns] }),
        rules: [],
      });
      expect(code).toBe(0);
      expect(report.ignored.map((thing) => thing.description)).toEqual(["Deployment kube-system/coredns"]);
      expect(markdown).toContain("## Ignored (coverage.ignore_*) (1)");
    });
  });

  it("matches workloads by kind as well as name", async () => {
    await withTempDir(async (dir) => {
      const asDeployment = listings().map((source) =>
        source.name !== "kubernetes"
          ? source
          : new ListedSource("kubernetes", [
              { source: "kubernetes", kind: "Deployment", namespace: "monitoring", name: "alertmanager" },
            ]),
      );
      const { code, out } = await validateIn(dir, { workloads: asDeployment, rules: [] });
      expect(code).toBe(1);
      expect(out).toContain("unregistered: Deployment monitoring/alertmanager (seen by kubernetes)");
      expect(out).toContain("not running: StatefulSet monitoring/alertmanager (service alertmanager)");
    });
  });

  it("fails on a registered workload that no alert watches", async () => {
    await withTempDir(async (dir) => {
      const source = (await readFile(fixture("minimal.yaml"), "utf8")).replace(
        "        name: shop-api-canary\n        replicas: 1\n        alerts: [PodCrashLoopBackOff]\n",
        "        name: shop-api-canary\n        replicas: 1\n",
      );
      const path = join(dir, "services.yaml");
      await writeFile(path, source);
      const { code, out, report } = await validateIn(
        dir,
        { workloads: [], rules: [] },
        { registryPath: path },
      );
      expect(code).toBe(1);
      expect(out).toContain("no alert: Deployment shop/shop-api-canary");
      expect(report.units.find((unit) => unit.id === "Deployment shop/shop-api-canary")?.status).toBe(
        "no-alert",
      );
    });
  });

  it("names the entries whose alerts the rule files do not load", async () => {
    await withTempDir(async (dir) => {
      const rules = parse(generateFiles(registry)[RULES_FILE]) as { groups: { name: string }[] };
      const path = join(dir, "rules.yml");
      await writeFile(path, stringify({ groups: rules.groups.filter((group) => group.name !== "redis") }));
      const { code, out, report } = await validateIn(dir, {
        workloads: [],
        rules: [new RuleFileSource([path])],
      });
      expect(code).toBe(1);
      expect(out).toContain(
        "alert not loaded: container redis-stack on pg: RedisDown, MemoryExhausted, RedisMemoryHigh, HitRateLow, SlowCommands, ContainerNotRunning",
      );
      expect(out).toContain(
        "alert not loaded: service redis: RedisDown, RedisMemoryHigh, MemoryExhausted, HitRateLow, SlowCommands, ContainerNotRunning",
      );
      expect(report.units.filter((unit) => unit.status === "alert-not-loaded")).toHaveLength(2);
    });
  });

  it("lists loaded rules the registry does not define, without failing on them", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "rules.yml");
      const generated = parse(generateFiles(registry)[RULES_FILE]) as { groups: unknown[] };
      const extra = {
        name: "legacy",
        rules: [{ alert: "LegacyCronMissed", expr: "vector(1)", labels: { service: "cron" } }],
      };
      await writeFile(path, stringify({ groups: [...generated.groups, extra] }));
      const { code, report, markdown } = await validateIn(dir, {
        workloads: [],
        rules: [new RuleFileSource([path])],
      });
      expect(code).toBe(0);
      expect(report.unregisteredRules).toEqual([
        { name: "LegacyCronMissed", labels: { service: "cron" }, origin: path },
      ]);
      expect(markdown).toContain("| LegacyCronMissed | service=cron |");
    });
  });

  it("fails with one line per source it cannot read", async () => {
    await withTempDir(async (dir) => {
      const broken: WorkloadSource = {
        name: "kubernetes",
        list: () => Promise.reject(new Error("kubernetes: connection refused")),
      };
      const missing = new RuleFileSource([join(dir, "missing.yml")]);
      const { io, err } = captureIo();
      const code = await validate(
        { registryPath: SAMPLE_REGISTRY, minCoverage: 100, reportDir: dir },
        { workloads: [broken], rules: [missing] },
        io,
      );
      expect(code).toBe(1);
      expect(err).toEqual([
        "error: kubernetes: connection refused",
        expect.stringMatching(/^error: rules: cannot read .*missing\.yml: ENOENT/),
      ]);
    });
  });
});

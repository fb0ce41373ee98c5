import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runCli } from "../../registry/cli.js";
import { generateFiles, RULES_FILE } from "../../registry/generate.js";
import { loadRegistryFile } from "../../registry/loader.js";
import { startDockerApi, startKubeApi, writeKubeconfig } from "./fake-apis.js";
import { captureIo, fixture, ROOT, run, SAMPLE_REGISTRY, withTempDir } from "./helpers.js";

async function cli(argv: string[], env: Parameters<typeof runCli>[2] = {}) {
  const { io, out, err } = captureIo();
  const code = await runCli(argv, io, env);
  return { code, out, err };
}

describe("registry CLI", () => {
  it.each([
    [[], "error: name a command"],
    [["deploy"], "error: unknown command deploy"],
    [["generate"], "error: generate needs --out DIR"],
    [["validate", "--min-coverage", "120"], "error: --min-coverage must be a number from 0 to 100 (got 120)"],
    [["validate", "--out", "x"], "error: --out is not an option of validate"],
    [["validate", "--verbose"], "error: Unknown option '--verbose'"],
  ])("refuses %j with exit 2 and the usage", async (argv, message) => {
    const { code, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err[0]).toContain(message);
    expect(err[1]).toMatch(/^Usage:/);
  });

  it("prints the usage for --help", async () => {
    const { code, out } = await cli(["--help"]);
    expect(code).toBe(0);
    expect(out[0]).toContain("--min-coverage N");
  });

  it("validates the sample registry without sources and writes both reports", async () => {
    await withTempDir(async (dir) => {
      const { code, out } = await cli([
        "validate",
        "--registry",
        SAMPLE_REGISTRY,
        "--report-dir",
        join(dir, "reports"),
      ]);
      expect(code).toBe(0);
      expect(out[0]).toMatch(/services\.yaml: 22 services, 5 hosts, \d+ Prometheus rules: valid$/);
      expect(existsSync(join(dir, "reports", "coverage-report.md"))).toBe(true);
      expect(existsSync(join(dir, "reports", "coverage-report.json"))).toBe(true);
    });
  });

  it("prints every registry error on its own line and exits 1", async () => {
    const { code, out, err } = await cli(["validate", "--registry", fixture("broken-schema.yaml")]);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(10);
    for (const line of err.slice(0, 9)) expect(line).toMatch(/broken-schema\.yaml:\d+:\d+: services\[\d\]\./);
    expect(err[9]).toMatch(/broken-schema\.yaml: 9 problems$/);
  });

  it("takes the registry path from REGISTRY_PATH when no flag is given", async () => {
    await withTempDir(async (dir) => {
      const { code, out } = await cli(["validate", "--report-dir", dir], {
        registryPath: fixture("minimal.yaml"),
      });
      expect(code).toBe(0);
      expect(out[0]).toMatch(/minimal\.yaml: 2 services, 1 host, 7 Prometheus rules: valid$/);
    });
  });

  it("fails and names what runs unregistered in Kubernetes and Docker", async () => {
    const registry = await loadRegistryFile(SAMPLE_REGISTRY);
    const workloads = registry.services.flatMap((s) => s.k8s);
    const kube = await startKubeApi({
      deployments: [
        ...workloads.filter((w) => w.kind === "Deployment"),
        { namespace: "awoooi-prod", name: "awoooi-scheduler" },
        { namespace: "kube-system", name: "coredns" },
      ],
      statefulsets: workloads.filter((w) => w.kind === "StatefulSet"),
    });
    const docker = await startDockerApi(["ollama", "postgres", "crypto-miner"]);
    try {
      await withTempDir(async (dir) => {
        const { code, out, err } = await cli(
          [
            "validate",
            "--registry",
            SAMPLE_REGISTRY,
            "--report-dir",
            dir,
            "--docker-host",
            docker.url.replace("http://", "tcp://"),
          ],
          { kubeconfig: await writeKubeconfig(dir, kube.url) },
        );
        expect(code).toBe(1);
        expect(out).toContain("unregistered: Deployment awoooi-prod/awoooi-scheduler (seen by kubernetes)");
        expect(out).toContain("unregistered: container crypto-miner (seen by docker)");
        expect(out.join("\n")).not.toContain("coredns");
        expect(err.at(-1)).toMatch(/minimum 100%: FAILED$/);
      });
    } finally {
      await Promise.all([kube.close(), docker.close()]);
    }
  });

  it("takes every file after --rules, as a shell glob gives them", async () => {
    await withTempDir(async (dir) => {
      const registry = await loadRegistryFile(SAMPLE_REGISTRY);
      const { groups } = parse(generateFiles(registry)[RULES_FILE]) as { groups: { name: string }[] };
      const half = Math.floor(groups.length / 2);
      const [first, second] = [join(dir, "a.yml"), join(dir, "b.yml")];
      await writeFile(first, stringify({ groups: groups.slice(0, half) }));
      await writeFile(second, stringify({ groups: groups.slice(half) }));
      const base = ["validate", "--registry", SAMPLE_REGISTRY, "--report-dir", dir];
      expect((await cli([...base, "--rules", first, second])).code).toBe(0);
      const one = await cli([...base, "--rules", first]);
      expect(one.code).toBe(1);
      expect(one.out.some((line) => line.startsWith("alert not loaded: "))).toBe(true);
    });
  });

  it("generates the rules and the Alertmanager config", async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, "generated");
      const result = await cli(["generate", "--registry", SAMPLE_REGISTRY, "--out", out]);
      expect(result.code).toBe(0);
      expect(result.out[0]).toMatch(/^wrote .*prometheus-rules\.yml \(\d+ rules in \d+ groups\)$/);
      expect(result.out[1]).toContain(
        "alertmanager.yml (receiver awoooi-api -> http://192.168.0.125:32334/api/v1/webhooks/alertmanager)",
      );
      expect(await readFile(join(out, "alertmanager.yml"), "utf8")).toMatch(/^# Generated from /);
    });
  });

  it("runs as `tsx registry/cli.ts` with its exit status and REGISTRY_PATH", async () => {
    const tsx = join(ROOT, "node_modules/.bin/tsx");
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
    await withTempDir(async (dir) => {
      const [good, bad] = await Promise.all([
        run(tsx, [join(ROOT, "registry/cli.ts"), "validate", "--report-dir", dir], {
          ...env,
          REGISTRY_PATH: fixture("minimal.yaml"),
        }),
        run(tsx, [join(ROOT, "registry/cli.ts"), "validate", "--report-dir", dir], {
          ...env,
          REGISTRY_PATH: fixture("semantic-errors.yaml"),
        }),
      ]);
      expect(good.stdout).toContain("minimal.yaml: 2 services");
      expect(good.code).toBe(0);
      expect(bad.stderr).toContain(
        'semantic-errors.yaml:71:15: services[2].docker[0].host: unknown host "node9"',
      );
      expect(bad.code).toBe(1);
    });
  });
});

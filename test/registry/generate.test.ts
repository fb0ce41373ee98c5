import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ALERTMANAGER_FILE, RULES_FILE, generateFiles } from "../../registry/generate.js";
import { loadRegistryFile, parseRegistry } from "../../registry/loader.js";
import type { Registry } from "../../registry/model.js";
import { binary, fixture, run, SAMPLE_REGISTRY, withTempDir } from "./helpers.js";

interface RuleGroup {
  name: string;
  rules: {
    alert: string;
    expr: string;
    for?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }[];
}

let registry: Registry;
let files: Record<string, string>;
let groups: RuleGroup[];

beforeAll(async () => {
  registry = await loadRegistryFile(SAMPLE_REGISTRY);
  files = generateFiles(registry);
  groups = (parse(files[RULES_FILE] ?? "") as { groups: RuleGroup[] }).groups;
});

const rule = (group: string, alert: string) =>
  groups.find((g) => g.name === group)?.rules.find((r) => r.alert === alert);

describe("generated Prometheus rules", () => {
  it("pass promtool check rules", async () => {
    const promtool = binary("promtool");
    await withTempDir(async (dir) => {
      await writeFile(join(dir, RULES_FILE), files[RULES_FILE] ?? "");
      const result = await run(promtool, ["check", "rules", join(dir, RULES_FILE)]);
      expect(result.stderr + result.stdout).toMatch(/SUCCESS: \d+ rules found/);
      expect(result.code).toBe(0);
    });
  });

  it("have one group per service with Prometheus alerts, and one per host", () => {
    const names = groups.map((group) => group.name);
    expect(names).toEqual(
      expect.arrayContaining(["awoooi-api", "postgresql", "k3s-control-plane", "host:mon", "host:kali"]),
    );
    expect(names.filter((name) => name.startsWith("host:"))).toHaveLength(registry.hosts.length);
    for (const service of registry.services) {
      const promAlerts = service.rules.filter((r) => r.source === "prometheus");
      expect(names.includes(service.name)).toBe(promAlerts.length > 0);
    }
  });

  it("label every rule with severity, team and its service or host, and annotate it", () => {
    for (const group of groups) {
      for (const r of group.rules) {
        expect(Object.keys(r.labels)).toEqual(expect.arrayContaining(["severity", "team"]));
        if (group.name.startsWith("host:")) expect(r.labels.host).toBe(group.name.slice("host:".length));
        else expect(r.labels.service).toBe(group.name);
        expect(r.annotations.summary).not.toBe("");
        expect(r.annotations.description).not.toBe("");
        expect(r.annotations.runbook_url).toMatch(/^https:\/\/runbooks\.awoooi\.internal\//);
      }
    }
    expect(rule("awoooi-api", "AWOOOIAPIDown")?.labels).toEqual({
      severity: "critical",
      service: "awoooi-api",
      team: "backend",
      namespace: "awoooi-prod",
    });
    expect(rule("awoooi-api", "AWOOOIAPIDown")?.annotations.auto_repair).toBe("RESTART_POD");
  });

  it("keep the seed's `for` durations and leave it out where the seed has none", () => {
    expect(rule("host:mon", "NodeDown")?.for).toBe("1m");
    expect(rule("postgresql", "PostgreSQLDown")?.for).toBe("30s");
    expect(rule("openclaw", "OpenClawDown")?.for).toBe("2m");
    expect(rule("github-actions", "GitHubRunnerOffline")?.for).toBe("5m");
    expect(rule("ollama", "OllamaSlowInference")?.for).toBe("3m");
    expect(rule("host:pg", "DiskSpaceLow")?.for).toBe("10m");
    expect(rule("tls-certificates", "CertificateExpiringSoon")).not.toHaveProperty("for");
    expect(rule("velero", "BackupNotSuccessful")).not.toHaveProperty("for");
  });

  it("fill templates in per workload and per host", () => {
    const crashLoops = groups
      .find((g) => g.name === "awoooi-api")
      ?.rules.filter((r) => r.alert === "PodCrashLoopBackOff");
    expect(crashLoops).toHaveLength(1);
    expect(crashLoops?.[0]?.expr).toContain('namespace="awoooi-prod", pod=~"awoooi-api-.*"');
    expect(crashLoops?.[0]?.labels).toMatchObject({ workload: "awoooi-api", namespace: "awoooi-prod" });
    expect(rule("host:pg", "NodeDown")?.expr).toContain('instance=~"192.168.0.188(:[0-9]+)?"');
    expect(rule("host:kali", "NodeDown")?.labels).toEqual({
      severity: "critical",
      host: "kali",
      team: "security",
    });
  });

  it("leave Sentry alerts out", () => {
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert))).not.toContain("SlowPageLoad");
  });

  it("fire with the registry's labels and annotations under promtool test rules", async () => {
    const promtool = binary("promtool");
    await withTempDir(async (dir) => {
      await writeFile(join(dir, RULES_FILE), files[RULES_FILE] ?? "");
      const tests = {
        rule_files: [RULES_FILE],
        evaluation_interval: "15s",
        tests: [
          {
            interval: "15s",
            input_series: [
              { series: 'pg_up{job="postgres-exporter", instance="pg:9187"}', values: "0x8" },
              { series: 'up{job="node-exporter", instance="192.168.0.121:9100"}', values: "0x8" },
            ],
            alert_rule_test: [
              {
                eval_time: "1m",
                alertname: "PostgreSQLDown",
                exp_alerts: [
                  {
                    exp_labels: {
                      severity: "critical",
                      service: "postgresql",
                      team: "data",
                      job: "postgres-exporter",
                      instance: "pg:9187",
                    },
                    exp_annotations: {
                      summary: "PostgreSQL is down",
                      description: "PostgreSQL is down",
                      runbook_url: "https://runbooks.awoooi.internal/postgresql/PostgreSQLDown",
                      auto_repair: "RESTART_CONTAINER",
                    },
                  },
                ],
              },
              {
                eval_time: "2m",
                alertname: "NodeDown",
                exp_alerts: [
                  {
                    exp_labels: {
                      severity: "critical",
                      host: "mon1",
                      team: "sre",
                      job: "node-exporter",
                      instance: "192.168.0.121:9100",
                    },
                    exp_annotations: {
                      summary: "Host mon1 (192.168.0.121) is down",
                      description: "node-exporter on mon1 has not answered for a minute. A human must look.",
                      runbook_url: "https://runbooks.awoooi.internal/hosts/NodeDown",
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      await writeFile(join(dir, "tests.yml"), stringify(tests));
      const result = await run(promtool, ["test", "rules", join(dir, "tests.yml")]);
      expect(result.stdout + result.stderr).toContain("SUCCESS");
      expect(result.code).toBe(0);
    });
  });

  it("are really checked: promtool rejects the seed's `< 1 in 24h`", async () => {
    const promtool = binary("promtool");
    const source = (await readFile(fixture("minimal.yaml"), "utf8")).replace(
      'redis_up{job="cache"} == 0',
      "velero_backup_success_total < 1 in 24h",
    );
    const parsed = parseRegistry(source, "minimal.yaml");
    if (!parsed.ok) throw new Error("the fixture should load");
    await withTempDir(async (dir) => {
      await writeFile(join(dir, RULES_FILE), generateFiles(parsed.registry)[RULES_FILE]);
      const result = await run(promtool, ["check", "rules", join(dir, RULES_FILE)]);
      expect(result.code).not.toBe(0);
      expect(result.stderr + result.stdout).toContain('"CacheDown": could not parse expression');
    });
  });
});

describe("generated Alertmanager config", () => {
  it("passes amtool check-config", async () => {
    const amtool = binary("amtool");
    await withTempDir(async (dir) => {
      await writeFile(join(dir, ALERTMANAGER_FILE), files[ALERTMANAGER_FILE] ?? "");
      const result = await run(amtool, ["check-config", join(dir, ALERTMANAGER_FILE)]);
      expect(result.stdout + result.stderr).toContain("SUCCESS");
      expect(result.code).toBe(0);
    });
  });

  it("sends every alert to the bot's webhook with basic auth and resolved notifications", () => {
    const config = parse(files[ALERTMANAGER_FILE] ?? "") as {
      route: { receiver: string; group_by: string[] };
      receivers: { name: string; webhook_configs: Record<string, unknown>[] }[];
    };
    expect(config.route.receiver).toBe("awoooi-api");
    expect(config.route.group_by).toEqual(["alertname", "service"]);
    expect(config.receivers).toEqual([
      {
        name: "awoooi-api",
        webhook_configs: [
          {
            url: "http://192.168.0.125:32334/api/v1/webhooks/alertmanager",
            send_resolved: true,
            max_alerts: 0,
            http_config: {
              basic_auth: {
                username: "alertmanager",
                password_file: "/etc/alertmanager/secrets/webhook-password",
              },
            },
          },
        ],
      },
    ]);
  });

  it.each([
    ["critical", "10s", "1h"],
    ["high", "30s", "4h"],
    ["medium", "2m", "12h"],
  ])(
    "routes severity %s through its own sub-route (group_wait %s, repeat %s)",
    async (severity, wait, repeat) => {
      const amtool = binary("amtool");
      await withTempDir(async (dir) => {
        const path = join(dir, ALERTMANAGER_FILE);
        await writeFile(path, files[ALERTMANAGER_FILE] ?? "");
        const result = await run(amtool, [
          "config",
          "routes",
          "test",
          `--config.file=${path}`,
          "--tree",
          "--verify.receivers=awoooi-api",
          `severity=${severity}`,
          "service=awoooi-api",
        ]);
        expect(result.stdout).toContain(`{severity="${severity}"}  receiver: awoooi-api`);
        expect(result.code).toBe(0);
      });
      const routes = (
        parse(files[ALERTMANAGER_FILE] ?? "") as { route: { routes: Record<string, unknown>[] } }
      ).route.routes;
      expect(routes).toContainEqual(
        expect.objectContaining({
          matchers: [`severity="${severity}"`],
          group_wait: wait,
          repeat_interval: repeat,
        }),
      );
    },
  );

  // kube-prometheus' Watchdog fires all the time with severity "none"; under the root route it would
  // arrive every 4 h, and the bot's dead-man's switch (15 min by default) would page between two.
  it("sends the heartbeat (Watchdog) every minute through its own route, ahead of the severities", async () => {
    const amtool = binary("amtool");
    await withTempDir(async (dir) => {
      const path = join(dir, ALERTMANAGER_FILE);
      await writeFile(path, files[ALERTMANAGER_FILE] ?? "");
      const result = await run(amtool, [
        "config",
        "routes",
        "test",
        `--config.file=${path}`,
        "--tree",
        "--verify.receivers=awoooi-api",
        "alertname=Watchdog",
        "severity=none",
      ]);
      expect(result.stdout).toContain('{alertname="Watchdog"}  receiver: awoooi-api');
      expect(result.code).toBe(0);
    });
    const routes = (parse(files[ALERTMANAGER_FILE] ?? "") as { route: { routes: Record<string, unknown>[] } })
      .route.routes;
    expect(routes[0]).toEqual({
      receiver: "awoooi-api",
      matchers: ['alertname="Watchdog"'],
      group_wait: "0s",
      group_interval: "1m",
      repeat_interval: "1m",
    });
  });

  it("routes several heartbeats with one matcher, and none when the registry lists none", async () => {
    const source = await readFile(fixture("minimal.yaml"), "utf8");
    const routesOf = (heartbeats: string) => {
      const parsed = parseRegistry(
        source.replace("alertmanager:\n", `alertmanager:\n  heartbeats: ${heartbeats}\n`),
        "minimal.yaml",
      );
      if (!parsed.ok) throw new Error("the fixture should load");
      const config = parse(generateFiles(parsed.registry)[ALERTMANAGER_FILE]) as {
        route: { routes: { matchers: string[] }[] };
      };
      return config.route.routes.map((route) => route.matchers[0]);
    };
    expect(routesOf("[Watchdog, DeadMansSwitch]")[0]).toBe('alertname=~"Watchdog|DeadMansSwitch"');
    expect(routesOf("[]")).toEqual(['severity="critical"', 'severity="high"', 'severity="medium"']);
  });
});

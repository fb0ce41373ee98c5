import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  formatIssue,
  loadRegistryFile,
  parseRegistry,
  readRegistry,
  RegistryError,
} from "../../registry/loader.js";
import type { AlertRule, Registry } from "../../registry/model.js";
import { fixture, SAMPLE_REGISTRY } from "./helpers.js";

async function issuesOf(name: string): Promise<string[]> {
  const result = parseRegistry(await readFile(fixture(name), "utf8"), `test/fixtures/registry/${name}`);
  if (result.ok) throw new Error(`${name} was expected to be rejected`);
  return result.issues.map(formatIssue);
}

async function minimalWith(replace: string, by: string): Promise<string[]> {
  const source = await readFile(fixture("minimal.yaml"), "utf8");
  expect(source).toContain(replace);
  const result = parseRegistry(source.replace(replace, by), "minimal.yaml");
  return result.ok ? [] : result.issues.map(formatIssue);
}

function findRule(registry: Registry, group: string, name: string): AlertRule | undefined {
  const rules = [...registry.services.flatMap((s) => s.rules), ...registry.hosts.flatMap((h) => h.rules)];
  return rules.find((rule) => rule.group === group && rule.name === name);
}

describe("the sample registry", () => {
  it("validates and holds the seed's whole service matrix", async () => {
    const registry = await loadRegistryFile(SAMPLE_REGISTRY);
    const services = registry.services;
    const names = (pick: (s: (typeof services)[number]) => string[]) => services.flatMap(pick);

    expect(registry.hosts.map((h) => `${h.name}=${h.address}`)).toEqual([
      "mon=192.168.0.120",
      "mon1=192.168.0.121",
      "harbor=192.168.0.110",
      "pg=192.168.0.188",
      "kali=192.168.0.112",
    ]);
    expect(names((s) => s.k8s.map((w) => `${w.namespace}/${w.name}:${w.replicas ?? "-"}`))).toEqual([
      "awoooi-prod/awoooi-api:2",
      "awoooi-prod/awoooi-web:2",
      "awoooi-prod/awoooi-worker:1",
      "argocd/argocd-server:1",
      "monitoring/prometheus-server:1",
      "monitoring/alertmanager:1",
      "velero/velero:1",
    ]);
    expect(names((s) => s.docker.map((c) => c.name))).toEqual(
      expect.arrayContaining([
        "ollama",
        "openclaw",
        "signoz-collector",
        "signoz-ui",
        "redis-stack",
        "postgres",
        "harbor-core",
        "sentry-web",
        "langfuse",
        "actions-runner",
      ]),
    );
    expect(names((s) => s.endpoints.map((e) => `${e.method} ${e.path} ${e.slo_percent}`))).toEqual([
      "GET /api/v1/health 99.9",
      "GET /api/v1/approvals/pending 99",
      "GET /api/v1/incidents 99",
      "POST /api/v1/analyze 95",
      "POST /api/v1/execute 99",
    ]);
    expect(names((s) => s.pages.map((p) => `${p.metric} ${p.threshold}`))).toEqual(
      expect.arrayContaining([
        "page_load_time > 3s",
        "js_error_rate > 0.1%",
        "api_call_failure_rate > 1%",
        "lcp > 2.5s",
      ]),
    );
    const byLayer = (layer: string) => services.filter((s) => s.layer === layer).map((s) => s.name);
    expect(byLayer("data")).toEqual(["postgresql", "redis", "clickhouse"]);
    expect(byLayer("ai")).toEqual(["ollama", "openclaw", "gemini-api", "claude-api", "langfuse"]);
    expect(byLayer("cicd")).toEqual(["argocd", "github-actions", "harbor"]);
  });

  // Seed section 2: name, severity, `for`, and the service (or host group) it is attached to.
  it.each([
    ["host:mon", "NodeDown", "critical", "1m", "none"],
    ["k3s-control-plane", "K3sAPIServerDown", "critical", "1m", "none"],
    ["postgresql", "PostgreSQLDown", "critical", "30s", "RESTART_CONTAINER"],
    ["redis", "RedisDown", "critical", "30s", "RESTART_CONTAINER"],
    ["awoooi-api", "AWOOOIAPIDown", "critical", "1m", "RESTART_POD"],
    ["openclaw", "OpenClawDown", "critical", "2m", "RESTART_CONTAINER"],
    ["awoooi-api", "PodCrashLoopBackOff", "critical", "2m", "ROLLBACK"],
    ["github-actions", "GitHubRunnerOffline", "critical", "5m", "none"],
    ["host:pg", "HighCPUUsage", "high", "5m", "none"],
    ["host:pg", "HighMemoryUsage", "high", "5m", "none"],
    ["awoooi-api", "APIHighLatency", "high", "5m", "none"],
    ["awoooi-api", "HighErrorRate", "high", "5m", "RESTART_POD"],
    ["ollama", "OllamaSlowInference", "high", "3m", "SWITCH_MODEL"],
    ["host:harbor", "DiskSpaceLow", "high", "10m", "CLEANUP_LOGS"],
    ["postgresql", "PostgreSQLConnectionPoolHigh", "high", "5m", "none"],
    ["tls-certificates", "CertificateExpiringSoon", "medium", undefined, "RENEW_CERT"],
    ["velero", "BackupNotSuccessful", "medium", undefined, "none"],
    ["langfuse", "LangfuseTraceLoss", "medium", undefined, "none"],
  ])("attaches %s %s (%s, for %s, repair %s)", async (group, name, severity, duration, repair) => {
    const rule = findRule(await loadRegistryFile(SAMPLE_REGISTRY), group, name);
    expect(rule).toBeDefined();
    expect(rule?.severity).toBe(severity);
    expect(rule?.for).toBe(duration);
    expect(rule?.auto_repair).toBe(repair);
  });

  it("only lets a template propose a repair the owner allows on that kind of workload", async () => {
    const registry = await loadRegistryFile(SAMPLE_REGISTRY);
    const crashLoop = (service: string) => findRule(registry, service, "PodCrashLoopBackOff")?.auto_repair;
    expect(crashLoop("awoooi-api")).toBe("ROLLBACK");
    expect(crashLoop("alertmanager")).toBe("none"); // a StatefulSet cannot roll back
    expect(crashLoop("argocd")).toBe("none"); // outside the guardrails' namespaces: no repairs allowed
  });
});

describe("schema errors", () => {
  it("names file, line, column and path of every problem at once", async () => {
    expect(await issuesOf("broken-schema.yaml")).toEqual([
      'test/fixtures/registry/broken-schema.yaml:21:15: services[0].k8s[0].kind: expected one of Deployment, StatefulSet, DaemonSet, got "Deploymnet"',
      'test/fixtures/registry/broken-schema.yaml:23:19: services[0].k8s[0].replicas: expected a number, got "two"',
      "test/fixtures/registry/broken-schema.yaml:24:31: services[0].k8s[0].health_check.type: expected type http, tcp, grpc or exec",
      'test/fixtures/registry/broken-schema.yaml:28:19: services[0].alerts[0].severity: expected one of critical, high, medium, got "urgent"',
      "test/fixtures/registry/broken-schema.yaml:30:14: services[0].alerts[0].for: must be a Prometheus duration such as 30s, 5m or 1h",
      "test/fixtures/registry/broken-schema.yaml:33:38: services[0].auto_repair.allowed_actions[1]: DROP_DATABASE is never allowed (guardrails forbid DROP_DATABASE, DELETE_NAMESPACE, FORCE_DELETE_PVC, DELETE_SECRET)",
      "test/fixtures/registry/broken-schema.yaml:34:5: services[1].owner_team: is required",
      "test/fixtures/registry/broken-schema.yaml:37:5: services[1].replica: unknown key",
      "test/fixtures/registry/broken-schema.yaml:39:25: services[1].auto_repair.allowed_actions[0]: DELETE_SECRET is never allowed (guardrails forbid DROP_DATABASE, DELETE_NAMESPACE, FORCE_DELETE_PVC, DELETE_SECRET)",
    ]);
  });

  it.each(["DROP_DATABASE", "DELETE_NAMESPACE", "FORCE_DELETE_PVC", "DELETE_SECRET"])(
    "refuses %s as an allowed action and as an alert's repair",
    async (action) => {
      const allowed = await minimalWith(
        "allowed_actions: [RESTART_CONTAINER]",
        `allowed_actions: [${action}]`,
      );
      expect(allowed).toEqual([
        expect.stringMatching(
          new RegExp(
            `^minimal\\.yaml:\\d+:\\d+: services\\[1\\]\\.auto_repair\\.allowed_actions\\[0\\]: ${action} is never allowed`,
          ),
        ),
      ]);
      const repair = await minimalWith("auto_repair: RESTART_POD", `auto_repair: ${action}`);
      expect(repair).toEqual([
        expect.stringContaining(`services[0].alerts[0].auto_repair: ${action} is never allowed`),
      ]);
    },
  );

  it("requires replicas of a Deployment and refuses them on a DaemonSet", async () => {
    expect(await minimalWith("        replicas: 2\n", "")).toEqual([
      expect.stringMatching(
        /^minimal\.yaml:\d+:\d+: services\[0\]\.k8s\[0\]\.replicas: is required for a Deployment$/,
      ),
    ]);
    expect(await minimalWith("kind: StatefulSet", "kind: DaemonSet")).toEqual([
      expect.stringContaining(
        "services[0].k8s[2].replicas: a DaemonSet runs one pod per node; remove replicas",
      ),
    ]);
  });

  it("asks prometheus alerts for expr and sentry alerts for their condition", async () => {
    expect(await minimalWith('        expr: redis_up{job="cache"} == 0\n', "")).toEqual([
      expect.stringContaining("services[1].alerts[0].expr: is required"),
    ]);
    expect(await minimalWith("        condition: Checkout page load p75 above 2.5s\n", "")).toEqual([
      expect.stringContaining("services[0].alerts[1].condition: is required for sentry alerts"),
    ]);
  });

  it("reports YAML errors with their position", () => {
    const result = parseRegistry("version: 1\nservices: []\nversion: 2\n", "bad.yaml");
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      "bad.yaml:3:1: Map keys must be unique",
    ]);
  });

  it("names a file it cannot read", async () => {
    const result = await readRegistry("/nonexistent/services.yaml");
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      expect.stringMatching(/^\/nonexistent\/services\.yaml: cannot read the registry \(ENOENT/),
    ]);
  });

  it("throws one RegistryError listing every problem, one per line", async () => {
    const error = await loadRegistryFile(fixture("broken-schema.yaml")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).issues).toHaveLength(9);
    expect((error as Error).message.split("\n")).toHaveLength(9);
  });
});

describe("semantic errors", () => {
  it("reports duplicates, unknown names and actions with nothing to act on", async () => {
    expect(await issuesOf("semantic-errors.yaml")).toEqual([
      'test/fixtures/registry/semantic-errors.yaml:6:14: defaults.hosts.alerts[0]: unknown alert "NodeGone"; define it under alert_templates (scope host)',
      "test/fixtures/registry/semantic-errors.yaml:24:11: alert_templates[0].expr: unknown placeholder ${adress} in a host template (known: host, address, team)",
      'test/fixtures/registry/semantic-errors.yaml:36:31: services[0].k8s[0].alerts[1]: unknown alert "ShopApiGone"; define it under services[0].alerts',
      "test/fixtures/registry/semantic-errors.yaml:42:22: services[0].alerts[0].auto_repair: SCALE_UP is not in auto_repair.allowed_actions of service shop-api",
      'test/fixtures/registry/semantic-errors.yaml:43:15: services[0].alerts[1].name: alert "ShopApiDown" is defined twice in service shop-api',
      "test/fixtures/registry/semantic-errors.yaml:48:25: services[0].auto_repair.allowed_actions[0]: unknown action RESTART_PODS (did you mean RESTART_POD?)",
      'test/fixtures/registry/semantic-errors.yaml:49:11: services[1].name: duplicate service "shop-api" (also services[0])',
      "test/fixtures/registry/semantic-errors.yaml:54:9: services[1].k8s[0]: workload Deployment shop/shop-api is already listed at services[0].k8s[0]",
      'test/fixtures/registry/semantic-errors.yaml:69:18: services[2].k8s[0].alerts[0]: "NodeDown" is a host template and cannot be used for k8s entries',
      'test/fixtures/registry/semantic-errors.yaml:71:15: services[2].docker[0].host: unknown host "node9" (define it under hosts)',
      "test/fixtures/registry/semantic-errors.yaml:75:25: services[2].auto_repair.allowed_actions[0]: ROLLBACK has nothing to act on: service queue has no Deployment",
    ]);
  });

  it("refuses an alias that repeats an alert name of the same service", async () => {
    expect(
      await minimalWith("        source: sentry\n", "        aliases: [ShopDown]\n        source: sentry\n"),
    ).toEqual([
      expect.stringContaining(
        'services[0].alerts[1].aliases[0]: alert "ShopDown" is defined twice in service shop-api',
      ),
    ]);
  });

  it("refuses a container listed by two services and a scrape job claimed twice", async () => {
    const copy = [
      "  - name: cache-copy",
      "    layer: data",
      "    owner_team: data",
      "    tier: P2",
      "    prometheus_jobs: [shop-api]",
      "    docker:",
      "      - { host: node1, name: cache-redis, alerts: [ContainerNotRunning] }",
      "    auto_repair: { allowed_actions: [] }",
      "",
    ].join("\n");
    const result = parseRegistry((await readFile(fixture("minimal.yaml"), "utf8")) + copy, "twice.yaml");
    expect(result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      "services[2].prometheus_jobs[0]: prometheus job shop-api is already listed at services[0].prometheus_jobs[0]",
      "services[2].docker[0]: container cache-redis on node1 is already listed at services[1].docker[0]",
    ]);
  });

  it("refuses an endpoint that names a template instead of an alert of its service", async () => {
    expect(
      await minimalWith(
        "latency_target: 500ms\n        alerts: [ShopApiDown]",
        "alerts: [PodCrashLoopBackOff]",
      ),
    ).toEqual([
      expect.stringContaining(
        'services[0].endpoints[0].alerts[0]: "PodCrashLoopBackOff" is a template; endpoints and pages name alerts of their service',
      ),
    ]);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { RegistryError } from "../../registry/loader.js";
import { loadRegistry, parseThreshold, type ServiceRegistry } from "../../registry/services.js";
import { fixture, SAMPLE_REGISTRY } from "./helpers.js";

let sample: ServiceRegistry;
let minimal: ServiceRegistry;

beforeAll(async () => {
  [sample, minimal] = await Promise.all([
    loadRegistry(SAMPLE_REGISTRY),
    loadRegistry(fixture("minimal.yaml")),
  ]);
});

describe("serviceFor", () => {
  it.each([
    ["its service label", { service: "redis", alertname: "RedisDown" }, "redis"],
    ["namespace and deployment", { namespace: "awoooi-prod", deployment: "awoooi-web" }, "awoooi-web"],
    ["namespace and statefulset", { namespace: "monitoring", statefulset: "alertmanager" }, "alertmanager"],
    [
      "namespace and pod (seed card example)",
      { namespace: "awoooi-prod", pod: "awoooi-api-7d4b8c9f5-abc12" },
      "awoooi-api",
    ],
    ["a Docker container", { container: "ollama", instance: "192.168.0.188:8080" }, "ollama"],
    ["the scrape job", { job: "kubernetes-apiservers" }, "k3s-control-plane"],
    ["a workload label of a generated rule", { namespace: "argocd", workload: "argocd-server" }, "argocd"],
  ])("finds the service by %s", (_how, labels, expected) => {
    expect(sample.serviceFor(labels)?.name).toBe(expected);
  });

  it("finds nothing for labels no service claims", () => {
    expect(sample.serviceFor({ job: "unknown-exporter" })).toBeUndefined();
    expect(sample.serviceFor({ service: "nope" })).toBeUndefined();
    // A `container` label with a namespace is a container inside a pod, not a Docker container.
    expect(sample.serviceFor({ namespace: "awoooi-prod", container: "ollama" })).toBeUndefined();
  });
});

describe("lookups for a service", () => {
  it("gives the allowed actions, deny-all for an unknown service", () => {
    expect(sample.allowedActions("redis")).toEqual(["RESTART_CONTAINER", "CLEAR_CACHE"]);
    const api = sample.service("awoooi-api");
    expect(api).toBeDefined();
    if (api !== undefined) expect(sample.allowedActions(api)).toContain("ROLLBACK");
    expect(sample.allowedActions("argocd")).toEqual([]);
    expect(sample.allowedActions("no-such-service")).toEqual([]);
  });

  it("gives owner team, links and default severity", () => {
    expect(sample.ownerTeam("awoooi-web")).toBe("frontend");
    expect(sample.ownerTeam("no-such-service")).toBeUndefined();
    expect(sample.links("awoooi-api")).toMatchObject({
      sentry_project: "awoooi-api",
      signoz_service: "awoooi-api",
    });
    expect(sample.links("awoooi-api")?.dashboards[0]?.url).toMatch(/^http:\/\/.+\/services\/awoooi-api$/);
    expect(sample.defaultSeverity("openclaw")).toBe("critical");
    expect(sample.defaultSeverity("langfuse")).toBe("medium");
  });

  it("gives SLO targets of the service, its endpoints and its pages", () => {
    const api = sample.sloTargets("awoooi-api");
    expect(api?.service).toEqual({ availability_percent: 99.9, latency_p95: "2s", error_rate_percent: 1 });
    expect(api?.endpoints).toContainEqual({
      method: "POST",
      path: "/api/v1/analyze",
      expected_status: [200, 202],
      slo_percent: 95,
      latency_target: "30s",
    });
    expect(sample.sloTargets("awoooi-web")?.pages).toContainEqual({
      page: "*",
      metric: "fid",
      threshold: { op: ">", value: 100, unit: "ms" },
    });
    expect(sample.sloTargets("no-such-service")).toBeUndefined();
  });

  it("parses thresholds", () => {
    expect(parseThreshold("<= 0.1%")).toEqual({ op: "<=", value: 0.1, unit: "%" });
    expect(parseThreshold("> 0.1")).toEqual({ op: ">", value: 0.1, unit: "" });
  });
});

describe("ruleFor and hostFor", () => {
  it("finds a rule by an alias the seed uses elsewhere", () => {
    const rule = sample.ruleFor({ alertname: "PostgresDown", service: "postgresql" });
    expect(rule?.name).toBe("PostgreSQLDown");
    expect(rule?.auto_repair).toBe("RESTART_CONTAINER");
  });

  it("picks the template instance of the alert's own workload", () => {
    const deployment = minimal.ruleFor({
      alertname: "PodCrashLoopBackOff",
      service: "shop-api",
      workload: "shop-api",
    });
    const statefulSet = minimal.ruleFor({
      alertname: "PodCrashLoopBackOff",
      service: "shop-api",
      workload: "shop-db",
    });
    expect(deployment?.labels.workload).toBe("shop-api");
    expect(deployment?.auto_repair).toBe("ROLLBACK");
    expect(statefulSet?.labels.workload).toBe("shop-db");
    expect(statefulSet?.auto_repair).toBe("none");
  });

  it("finds the host by name or by the address in instance", () => {
    expect(sample.hostFor({ instance: "192.168.0.188:9100" })?.name).toBe("pg");
    expect(sample.hostFor({ host: "kali" })?.owner_team).toBe("security");
    expect(sample.hostFor({ instance: "10.9.9.9:9100" })).toBeUndefined();
    expect(sample.ruleFor({ alertname: "NodeDown", host: "mon1" })?.labels).toEqual({
      severity: "critical",
      host: "mon1",
      team: "sre",
    });
  });
});

describe("loadRegistry", () => {
  it("returns a frozen registry", () => {
    expect(Object.isFrozen(sample.services)).toBe(true);
    expect(Object.isFrozen(sample.service("redis")?.allowed_actions)).toBe(true);
  });

  it("throws a RegistryError naming file and line", async () => {
    const error = await loadRegistry(fixture("semantic-errors.yaml")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(
      /semantic-errors\.yaml:6:14: defaults\.hosts\.alerts\[0\]: unknown alert "NodeGone"/,
    );
  });
});

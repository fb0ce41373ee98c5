// The subject precedence (domain/subject.ts) on the label shapes of the real corpus, and its three
// users: the registry lookup, the card's target (the normalizer) and the set of resources a model
// may act on: a proposal that targets the exporter of an alert about something else is refused.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Analysis } from "../../domain/analysis.js";
import { decide, type DecisionInput } from "../../domain/decide.js";
import type { Incident } from "../../domain/incident.js";
import { scopeFromContext, targetProblem } from "../../domain/scope.js";
import { ownerOfJob, ownerOfPod, subjectLabels, subjectOf } from "../../domain/subject.js";
import { serviceFactsFrom } from "../../registry/lookups.js";
import { createServiceRegistry } from "../../registry/services.js";
import { parseRegistry } from "../../registry/loader.js";

const labelsOf = (file: string, index = 0): Record<string, string> => {
  const fixture = JSON.parse(
    readFileSync(new URL(`../fixtures/real/alertmanager/${file}`, import.meta.url), "utf8"),
  ) as { body: { alerts: { labels: Record<string, string> }[] } };
  const alert = fixture.body.alerts[index];
  if (alert === undefined) throw new Error(`${file} has no alert ${index}`);
  return alert.labels;
};

describe("subjectOf", () => {
  it.each([
    [
      "kube-deployment-replicas-mismatch.json",
      { kind: "Deployment", name: "fints-importer", namespace: "firefly-iii" },
      "fints-importer",
    ],
    [
      "kube-statefulset-replicas-mismatch.json",
      { kind: "StatefulSet", name: "netbox-valkey-primary", namespace: "netbox" },
      "netbox-valkey-primary",
    ],
    [
      "kube-job-failed.json",
      { kind: "Job", name: "cronjob-account-02-29177885", namespace: "firefly-iii" },
      "cronjob-account-02",
    ],
    [
      "kube-job-completion.json",
      { kind: "Job", name: "email-tracking-perform-initialization-1.0.50", namespace: "default" },
      "email-tracking-perform-initialization",
    ],
    ["kube-node-not-ready.json", { kind: "Node", name: "hive-04" }, undefined],
    [
      "kube-pod-crash-looping.json",
      { kind: "Pod", name: "umami-76c68cfb84-ljgtd", namespace: "umami" },
      "umami",
    ],
    [
      "kube-persistent-volume-filling-up.json",
      { kind: "PersistentVolumeClaim", name: "homeassistant", namespace: "homeassistant" },
      "homeassistant",
    ],
    ["node-memory-high-utilization.json", { kind: "Host", name: "10.0.0.34" }, undefined],
    ["blackbox-probe-failed-http.json", { kind: "URL", name: "https://prometheus.io" }, undefined],
    ["blackbox-icmp-probe-failed.json", { kind: "Host", name: "172.29.254.30" }, undefined],
    [
      "resolved-deployment.json",
      { kind: "Deployment", name: "eric-log-transformer", namespace: "eric-eo-cm-ci406" },
      "eric-log-transformer",
    ],
  ])("%s is about %o, service %s", (file, target, service) => {
    expect(subjectOf(labelsOf(file))).toEqual({ target, ...(service === undefined ? {} : { service }) });
  });

  it("never names the exporter: no service, pod, container or job of kube-state-metrics survives", () => {
    const own = subjectLabels(labelsOf("kube-node-not-ready.json"));
    expect(Object.values(own).join(" ")).not.toMatch(/kube-state-metrics/);
    // the exporter's namespace is not the node's
    expect(own.namespace).toBeUndefined();
  });

  it("keeps the labels of an alert that is not from an exporter (the bot's own shape)", () => {
    const labels = {
      alertname: "PostgreSQLDown",
      service: "postgres",
      container: "postgres",
      instance: "pg:9187",
      job: "postgres",
    };
    expect(subjectOf(labels)).toEqual({
      target: { kind: "Container", name: "postgres" },
      service: "postgres",
    });
    expect(subjectLabels(labels)).toEqual(labels);
  });

  it("takes the exporter itself when nothing else is named (TargetDown)", () => {
    // kubernetes-mixin's TargetDown aggregates `up` by (cluster, job, namespace, service)
    const labels = {
      alertname: "TargetDown",
      job: "kube-state-metrics",
      namespace: "monitoring",
      service: "kube-prometheus-stack-kube-state-metrics",
      severity: "warning",
    };
    expect(subjectOf(labels)).toEqual({ service: "kube-prometheus-stack-kube-state-metrics" });
  });

  it("finds the owner of a pod and a Job by their names", () => {
    expect(ownerOfPod("awoooi-api-7d9f8b6c5-x2k4q")).toBe("awoooi-api");
    expect(ownerOfPod("create-repo-lx6jl")).toBe("create-repo");
    expect(ownerOfPod("postgres-0")).toBe("postgres");
    expect(ownerOfJob("backup-29177885")).toBe("backup");
    expect(ownerOfJob("migrate")).toBe("migrate");
  });
});

describe("the set a model may act on", () => {
  const labels = labelsOf("kube-deployment-replicas-mismatch.json");
  const scope = scopeFromContext({
    source: "alertmanager",
    title: "KubeDeploymentReplicasMismatch",
    labels,
    annotations: {},
  } as Parameters<typeof scopeFromContext>[0]);

  it("holds the deployment the alert is about", () => {
    expect(
      targetProblem({ kind: "Deployment", name: "fints-importer", namespace: "firefly-iii" }, scope),
    ).toBeUndefined();
  });

  it("refuses the exporter that scraped it", () => {
    for (const name of ["kube-prometheus-stack-kube-state-metrics", "kube-state-metrics"])
      expect(targetProblem({ kind: "Deployment", name, namespace: "firefly-iii" }, scope)).toMatch(
        /not part of the incident/,
      );
    expect(
      targetProblem({ kind: "Pod", name: labels.pod ?? "", namespace: "firefly-iii" }, scope),
    ).toBeDefined();
  });

  it("decide() refuses a proposal to restart the exporter", () => {
    const analysis: Analysis = {
      suggested_action: "RESTART_POD",
      target: {
        kind: "Deployment",
        namespace: "firefly-iii",
        name: "kube-prometheus-stack-kube-state-metrics",
      },
      confidence: 0.95,
      risk_level: "LOW",
      blast_radius: { affected_pods: 1, estimated_downtime_seconds: 0 },
      owner_team: "platform",
      cause: "replicas mismatch",
      reasoning: "restart",
      provider: "ollama",
      model: "qwen2.5:7b",
      tokens: { input: 1, output: 1 },
      cost_usd: 0,
      engine: "llm",
    };
    const input: DecisionInput = {
      analysis,
      incident: { source: "alertmanager", title: "KubeDeploymentReplicasMismatch", labels, annotations: {} },
      policy: {
        enabled: true,
        maxPerHour: 5,
        maxPerResourcePerHour: 3,
        minConfidence: 0.85,
        maxAffectedPods: 3,
        minHealthyReplicas: 1,
        allowedNamespaces: ["firefly-iii"],
        autoMaxRisk: "LOW",
      },
      counters: { lastHour: 0, resourceLastHour: 0, cooldownSeconds: 0 },
      registryAllows: ["RESTART_POD"],
    };
    const decision = decide(input);
    expect(decision.mode).toBe("refused");
    expect(decision.verdicts.find((verdict) => verdict.rule === "target_in_incident")?.ok).toBe(false);
  });
});

describe("the registry lookup", () => {
  it("finds the service the alert is about, not the registered exporter", () => {
    // the test registry, plus the monitoring exporter registered as a service of its own
    const source = `${readFileSync(new URL("../fixtures/registry/minimal.yaml", import.meta.url), "utf8")}
  - name: kube-prometheus-stack-kube-state-metrics
    layer: infrastructure
    owner_team: sre
    tier: P2
    k8s:
      - namespace: monitoring
        kind: Deployment
        name: kube-prometheus-stack-kube-state-metrics
        replicas: 1
    auto_repair:
      allowed_actions: [RESTART_POD]
`;
    const parsed = parseRegistry(source, "minimal+exporter.yaml");
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const registry = createServiceRegistry(parsed.registry);
    expect(registry.service("kube-prometheus-stack-kube-state-metrics")).toBeDefined();
    // KubeDeploymentReplicasMismatch about shop-api, scraped by kube-state-metrics
    const labels = {
      ...labelsOf("kube-deployment-replicas-mismatch.json"),
      deployment: "shop-api",
      namespace: "shop",
    };
    const incident = { labels, service: "shop-api" } as unknown as Incident;
    expect(serviceFactsFrom(registry)(incident)?.ownerTeam).toBe("backend");
  });
});

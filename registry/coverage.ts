// Coverage: how much of what runs is registered, and how much of what is registered is watched by
// an alert (loaded in Prometheus, when a rule source is given).
import type { AlertRule, Registry } from "./model.js";
import { describeThing, KUBERNETES_SOURCE, type LoadedRule, type RunningThing } from "./sources/types.js";

export type UnitKind = "service" | "host" | "workload" | "container" | "endpoint" | "page";
export type UnitStatus = "covered" | "no-alert" | "alert-not-loaded";

export interface CoverageUnit {
  kind: UnitKind;
  /** e.g. `Deployment awoooi-prod/awoooi-api`, `GET /api/v1/health`. */
  id: string;
  service?: string;
  alerts: string[];
  status: UnitStatus;
  /** Prometheus alerts of the unit that no rule source has loaded. */
  notLoaded: string[];
}

export interface CoverageReport {
  registry: string;
  generatedAt: string;
  sources: string[];
  minCoverage: number;
  /** covered / total × 100, where total counts the registry's entries and what runs unregistered. */
  percent: number;
  covered: number;
  total: number;
  passed: boolean;
  units: CoverageUnit[];
  unregistered: (RunningThing & { description: string })[];
  ignored: (RunningThing & { description: string })[];
  /** Registered workloads the Kubernetes API does not list (informational). */
  notRunning: string[];
  /** Alerting rules loaded in Prometheus that the registry does not define (informational). */
  unregisteredRules: LoadedRule[];
}

export interface CoverageInput {
  /** Names of the sources consulted. */
  sources: readonly string[];
  running: readonly RunningThing[];
  /** Alerting rules loaded; undefined when no rule source was given. */
  loadedRules?: readonly LoadedRule[];
}

export function computeCoverage(
  registry: Registry,
  input: CoverageInput,
  minCoverage: number,
  now = new Date(),
): CoverageReport {
  const units = registryUnits(registry, input.loadedRules);
  const unregistered: CoverageReport["unregistered"] = [];
  const ignored: CoverageReport["ignored"] = [];
  for (const thing of input.running) {
    const described = { ...thing, description: describeThing(thing) };
    if (isIgnored(registry, thing)) ignored.push(described);
    else if (!isRegistered(registry, thing)) unregistered.push(described);
  }
  const covered = units.filter((unit) => unit.status === "covered").length;
  const total = units.length + unregistered.length;
  const percent = total === 0 ? 100 : (covered / total) * 100;
  return {
    registry: registry.file,
    generatedAt: now.toISOString(),
    sources: [...input.sources],
    minCoverage,
    percent,
    covered,
    total,
    passed: percent >= minCoverage,
    units,
    unregistered,
    ignored,
    notRunning: input.sources.includes(KUBERNETES_SOURCE) ? notRunning(registry, input.running) : [],
    unregisteredRules: input.loadedRules === undefined ? [] : unknownRules(registry, input.loadedRules),
  };
}

function registryUnits(registry: Registry, loaded: readonly LoadedRule[] | undefined): CoverageUnit[] {
  const unit = (kind: UnitKind, id: string, rules: readonly AlertRule[], service?: string): CoverageUnit => {
    const notLoaded =
      loaded === undefined
        ? []
        : rules
            .filter((rule) => rule.source === "prometheus" && !isLoaded(rule, loaded))
            .map((rule) => rule.name);
    const status: UnitStatus =
      rules.length === 0 ? "no-alert" : notLoaded.length > 0 ? "alert-not-loaded" : "covered";
    return {
      kind,
      id,
      ...(service === undefined ? {} : { service }),
      alerts: unique(rules),
      status,
      notLoaded,
    };
  };
  return [
    ...registry.hosts.map((host) => unit("host", `host ${host.name} (${host.address})`, host.rules)),
    ...registry.services.flatMap((service) => [
      unit("service", `service ${service.name}`, service.rules, service.name),
      ...service.k8s.map((w) =>
        unit("workload", `${w.kind} ${w.namespace}/${w.name}`, w.rules, service.name),
      ),
      ...service.docker.map((c) =>
        unit("container", `container ${c.name} on ${c.host}`, c.rules, service.name),
      ),
      ...service.endpoints.map((e) => unit("endpoint", `${e.method} ${e.path}`, e.rules, service.name)),
      ...service.pages.map((p) => unit("page", `${p.metric} of page ${p.page}`, p.rules, service.name)),
    ]),
  ];
}

function unique(rules: readonly AlertRule[]): string[] {
  return [...new Set(rules.map((rule) => rule.name))];
}

/** Loaded under the same name, for the same service or host when the loaded rule says which. */
function isLoaded(rule: AlertRule, loaded: readonly LoadedRule[]): boolean {
  return loaded.some((candidate) => sameRule(rule, candidate));
}

function sameRule(rule: AlertRule, candidate: LoadedRule): boolean {
  if (candidate.name !== rule.name) return false;
  return ["service", "host"].every(
    (key) => candidate.labels[key] === undefined || candidate.labels[key] === rule.labels[key],
  );
}

function unknownRules(registry: Registry, loaded: readonly LoadedRule[]): LoadedRule[] {
  const rules = [...registry.services.flatMap((s) => s.rules), ...registry.hosts.flatMap((h) => h.rules)];
  return loaded.filter((candidate) => !rules.some((rule) => sameRule(rule, candidate)));
}

function isIgnored(registry: Registry, thing: RunningThing): boolean {
  const { ignore_namespaces, ignore_containers, ignore_jobs } = registry.coverage;
  switch (thing.kind) {
    case "Container":
      return ignore_containers.some((pattern) => glob(pattern).test(thing.name));
    case "ScrapeTarget":
      return ignore_jobs.includes(thing.name);
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
      return thing.namespace !== undefined && ignore_namespaces.includes(thing.namespace);
  }
}

function isRegistered(registry: Registry, thing: RunningThing): boolean {
  const services = registry.services;
  switch (thing.kind) {
    case "Container":
      return services.some((service) => service.docker.some((container) => container.name === thing.name));
    case "ScrapeTarget": {
      if (services.some((service) => service.prometheus_jobs.includes(thing.name))) return true;
      const address = (thing.instance ?? "").replace(/:\d+$/, "");
      return registry.hosts.some((host) => host.address === address || host.name === address);
    }
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
      return services.some((service) =>
        service.k8s.some(
          (w) => w.kind === thing.kind && w.namespace === thing.namespace && w.name === thing.name,
        ),
      );
  }
}

function notRunning(registry: Registry, running: readonly RunningThing[]): string[] {
  return registry.services.flatMap((service) =>
    service.k8s
      .filter(
        (w) => !running.some((t) => t.kind === w.kind && t.namespace === w.namespace && t.name === w.name),
      )
      .map((w) => `${w.kind} ${w.namespace}/${w.name} (service ${service.name})`),
  );
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** The percentage as shown: rounded down, so a failing run never reads 100.0%. */
export function formatPercent(percent: number): string {
  return `${(Math.floor(percent * 10) / 10).toFixed(1)}%`;
}

export function renderMarkdown(report: CoverageReport): string {
  const lines = [
    "# Monitoring coverage",
    "",
    `**${formatPercent(report.percent)}** covered (${report.covered} of ${report.total}), minimum ${report.minCoverage}%: ` +
      (report.passed ? "**passed**" : "**FAILED**"),
    "",
    `Registry \`${report.registry}\`; sources: ${report.sources.length === 0 ? "none (registry only)" : report.sources.join(", ")}; ${report.generatedAt}.`,
    "",
  ];
  const section = (title: string, header: string[], rows: string[][]) => {
    if (rows.length === 0) return;
    lines.push(`## ${title} (${rows.length})`, "", table(header, rows), "");
  };
  section(
    "Running but not registered",
    ["what", "seen by"],
    report.unregistered.map((thing) => [thing.description, thing.source]),
  );
  const byStatus = (status: UnitStatus) => report.units.filter((unit) => unit.status === status);
  section(
    "Registered without an alert",
    ["entry", "service"],
    byStatus("no-alert").map((unit) => [unit.id, unit.service ?? ""]),
  );
  section(
    "Alerts not loaded in Prometheus",
    ["entry", "missing alerts"],
    byStatus("alert-not-loaded").map((unit) => [unit.id, unit.notLoaded.join(", ")]),
  );
  section(
    "Registered but not running (informational)",
    ["workload"],
    report.notRunning.map((id) => [id]),
  );
  section(
    "Loaded alert rules the registry does not define (informational)",
    ["alert", "labels", "from"],
    report.unregisteredRules.map((rule) => [rule.name, formatLabels(rule.labels), rule.origin]),
  );
  section(
    "Ignored (coverage.ignore_*)",
    ["what", "seen by"],
    report.ignored.map((thing) => [thing.description, thing.source]),
  );
  section(
    "All registered entries",
    ["entry", "service", "alerts", "status"],
    report.units.map((unit) => [unit.id, unit.service ?? "", unit.alerts.join(", "), unit.status]),
  );
  return lines.join("\n");
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}

function table(header: string[], rows: string[][]): string {
  const cell = (value: string) => value.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [header, header.map(() => "---"), ...rows]
    .map((row) => `| ${row.map(cell).join(" | ")} |`)
    .join("\n");
}

// What the bot asks the registry: which service an alert is about, who owns it, where its
// dashboards are, what its SLOs are and which repairs it allows.
import type { RemediationAction } from "./actions.js";
import { loadRegistryFile } from "./loader.js";
import type { AlertRule, Host, Registry, Service } from "./model.js";
import {
  THRESHOLD,
  type Endpoint,
  type Links,
  type SeverityLabel,
  type SloTargets,
  type Tier,
} from "./schema.js";

export type { AlertRule, Host, Registry, Service } from "./model.js";

/** A service, or its name. */
export type ServiceRef = Service | string;

export type AlertLabels = Readonly<Record<string, string | undefined>>;

export interface Threshold {
  op: "<" | "<=" | ">" | ">=";
  value: number;
  unit: "ms" | "s" | "%" | "";
}

export interface Slos {
  service: SloTargets;
  endpoints: readonly Pick<
    Endpoint,
    "method" | "path" | "expected_status" | "slo_percent" | "latency_target"
  >[];
  pages: readonly { page: string; metric: string; threshold: Threshold }[];
}

export interface ServiceRegistry {
  readonly registry: Registry;
  readonly services: readonly Service[];
  readonly hosts: readonly Host[];
  service(name: string): Service | undefined;
  /** The service an alert is about, from its `service`, workload, pod, `container` or `job` labels. */
  serviceFor(labels: AlertLabels): Service | undefined;
  /** The host an alert is about, from its `host` label or the address in `instance`. */
  hostFor(labels: AlertLabels): Host | undefined;
  /** The registry rule an alert comes from (by `alertname` and service or host). */
  ruleFor(labels: AlertLabels): AlertRule | undefined;
  /** Repairs the owner allows; none for an unknown service. */
  allowedActions(service: ServiceRef): readonly RemediationAction[];
  ownerTeam(service: ServiceRef): string | undefined;
  links(service: ServiceRef): Links | undefined;
  sloTargets(service: ServiceRef): Slos | undefined;
  /** Severity for incidents whose source gives none (Sentry, SigNoz), from the service tier. */
  defaultSeverity(service: ServiceRef): SeverityLabel | undefined;
}

const TIER_SEVERITY: Record<Tier, SeverityLabel> = { P0: "critical", P1: "high", P2: "medium" };
const WORKLOAD_LABELS = {
  deployment: "Deployment",
  statefulset: "StatefulSet",
  daemonset: "DaemonSet",
} as const;

/** Loads, checks and indexes the registry; throws a `RegistryError` naming every problem. */
export async function loadRegistry(path: string): Promise<ServiceRegistry> {
  return createServiceRegistry(await loadRegistryFile(path));
}

export function createServiceRegistry(registry: Registry): ServiceRegistry {
  const frozen = deepFreeze(registry);
  const byName = new Map(frozen.services.map((service) => [service.name, service]));
  const resolve = (ref: ServiceRef) => (typeof ref === "string" ? byName.get(ref) : ref);

  const serviceFor = (labels: AlertLabels): Service | undefined => {
    const named = labels.service === undefined ? undefined : byName.get(labels.service);
    if (named !== undefined) return named;
    const namespace = labels.namespace;
    if (namespace !== undefined) {
      for (const [label, kind] of Object.entries(WORKLOAD_LABELS)) {
        const name = labels[label];
        if (name === undefined) continue;
        const found = frozen.services.find((s) =>
          s.k8s.some((w) => w.namespace === namespace && w.kind === kind && w.name === name),
        );
        if (found !== undefined) return found;
      }
      const workload = labels.workload;
      if (workload !== undefined) {
        const found = frozen.services.find((s) =>
          s.k8s.some((w) => w.namespace === namespace && w.name === workload),
        );
        if (found !== undefined) return found;
      }
      if (labels.pod !== undefined) {
        const found = ownerOfPod(frozen.services, namespace, labels.pod);
        if (found !== undefined) return found;
      }
    } else if (labels.container !== undefined) {
      const found = frozen.services.find((s) => s.docker.some((c) => c.name === labels.container));
      if (found !== undefined) return found;
    }
    const job = labels.job;
    return job === undefined ? undefined : frozen.services.find((s) => s.prometheus_jobs.includes(job));
  };

  const hostFor = (labels: AlertLabels): Host | undefined => {
    if (labels.host !== undefined) {
      const named = frozen.hosts.find((host) => host.name === labels.host);
      if (named !== undefined) return named;
    }
    const address = labels.instance?.replace(/:\d+$/, "");
    return address === undefined
      ? undefined
      : frozen.hosts.find((h) => h.address === address || h.name === address);
  };

  return {
    registry: frozen,
    services: frozen.services,
    hosts: frozen.hosts,
    service: (name) => byName.get(name),
    serviceFor,
    hostFor,
    ruleFor(labels) {
      const name = labels.alertname;
      if (name === undefined) return undefined;
      const service = serviceFor(labels);
      const rules = service?.rules ?? hostFor(labels)?.rules ?? [];
      const matching = rules.filter((rule) => rule.name === name || rule.aliases.includes(name));
      // Template instances share a name; the one for the alert's own resource wins.
      return (
        matching.find((rule) =>
          ["workload", "container", "host"].every(
            (key) => rule.labels[key] === undefined || rule.labels[key] === labels[key],
          ),
        ) ?? matching[0]
      );
    },
    allowedActions: (ref) => resolve(ref)?.allowed_actions ?? [],
    ownerTeam: (ref) => resolve(ref)?.owner_team,
    links: (ref) => resolve(ref)?.links,
    sloTargets(ref) {
      const service = resolve(ref);
      if (service === undefined) return undefined;
      return {
        service: service.slo,
        endpoints: service.endpoints.map(
          ({ method, path, expected_status, slo_percent, latency_target }) => ({
            method,
            path,
            expected_status,
            slo_percent,
            ...(latency_target === undefined ? {} : { latency_target }),
          }),
        ),
        pages: service.pages.map((page) => ({
          page: page.page,
          metric: page.metric,
          threshold: parseThreshold(page.threshold),
        })),
      };
    },
    defaultSeverity: (ref) => {
      const service = resolve(ref);
      return service === undefined ? undefined : TIER_SEVERITY[service.tier];
    },
  };
}

/** Pods are named `<workload>-…`; the longest matching workload name wins (api vs api-canary). */
function ownerOfPod(services: readonly Service[], namespace: string, pod: string): Service | undefined {
  let best: { service: Service; length: number } | undefined;
  for (const service of services) {
    for (const workload of service.k8s) {
      if (workload.namespace !== namespace || !pod.startsWith(`${workload.name}-`)) continue;
      if (best === undefined || workload.name.length > best.length)
        best = { service, length: workload.name.length };
    }
  }
  return best?.service;
}

/** Parses a page threshold such as `> 3s`; the schema has already checked its form. */
export function parseThreshold(text: string): Threshold {
  const match = THRESHOLD.exec(text);
  const op = (match?.[1] ?? ">") as Threshold["op"];
  return { op, value: Number(match?.[2] ?? 0), unit: (match?.[3] ?? "") as Threshold["unit"] };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

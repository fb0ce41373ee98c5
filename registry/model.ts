// The registry after loading: every alert a resource names is resolved to a concrete rule, and
// templates are instantiated once per host, workload or container that uses them.
import type { RemediationAction } from "./actions.js";
import type {
  AlertSource,
  AlertmanagerSettings,
  DockerContainer,
  Endpoint,
  Host as HostEntry,
  K8sWorkload,
  PageSlo,
  RegistryFile,
  ServiceEntry,
  SeverityLabel,
} from "./schema.js";

export interface AlertRule {
  name: string;
  aliases: readonly string[];
  severity: SeverityLabel;
  source: AlertSource;
  /** PromQL, for `prometheus` alerts. */
  expr?: string;
  /** Text of the Sentry or SigNoz rule, for the other sources. */
  condition?: string;
  for?: string;
  summary: string;
  description?: string;
  /** The repair to propose; `none` when a human must act (or the owner does not allow it). */
  auto_repair: RemediationAction | "none";
  runbook_url: string;
  /** Every label of the generated rule: severity, team, service or host, and the resource. */
  labels: Readonly<Record<string, string>>;
  /** The Prometheus rule group it is generated in: the service name, or `host:<name>`. */
  group: string;
  /** The template it was made from, if any. */
  template?: string;
}

/** A resource as written in the file, plus the rules its `alerts` resolve to. */
export type WithRules<T> = T & { readonly rules: readonly AlertRule[] };

export type Workload = WithRules<K8sWorkload>;
export type Container = WithRules<DockerContainer>;
export type ApiEndpoint = WithRules<Endpoint>;
export type PageTarget = WithRules<PageSlo>;

export interface Service extends Omit<
  ServiceEntry,
  "alerts" | "auto_repair" | "k8s" | "docker" | "endpoints" | "pages"
> {
  k8s: readonly Workload[];
  docker: readonly Container[];
  endpoints: readonly ApiEndpoint[];
  pages: readonly PageTarget[];
  /** Every rule the service owns: its own alerts, then template instances of its resources. */
  rules: readonly AlertRule[];
  allowed_actions: readonly RemediationAction[];
}

export interface Host extends Omit<HostEntry, "owner_team" | "auto_repair" | "alerts"> {
  owner_team: string;
  /** The host's own alerts plus `defaults.hosts.alerts`. */
  alerts: readonly string[];
  /** What those names resolve to: host template instances and rules of services. */
  rules: readonly AlertRule[];
  allowed_actions: readonly RemediationAction[];
}

export interface Registry {
  /** The file it was loaded from, as given. */
  file: string;
  runbookBaseUrl: string;
  alertmanager: AlertmanagerSettings;
  coverage: RegistryFile["coverage"];
  hosts: readonly Host[];
  services: readonly Service[];
}

export function hostGroup(host: string): string {
  return `host:${host}`;
}

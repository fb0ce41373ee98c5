// What coverage compares the registry with: things that really run, and alert rules that are
// really loaded. Each outside system is one small source behind these interfaces.

/** Name of the Kubernetes source; coverage lists registered workloads it does not see. */
export const KUBERNETES_SOURCE = "kubernetes";

export type RunningKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Container" | "ScrapeTarget";

export interface RunningThing {
  /** The source that saw it, e.g. `kubernetes`. */
  source: string;
  kind: RunningKind;
  /** Workload or container name; the job of a scrape target. */
  name: string;
  namespace?: string;
  /** The `instance` of a scrape target. */
  instance?: string;
}

export interface WorkloadSource {
  readonly name: string;
  list(): Promise<RunningThing[]>;
}

export interface LoadedRule {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Where it was found: a rule file, or the Prometheus rule group. */
  origin: string;
}

export interface RuleSource {
  readonly name: string;
  alertRules(): Promise<LoadedRule[]>;
}

/** A source failed; the message names the source and what it tried. */
export class SourceError extends Error {
  override readonly name = "SourceError";
}

export function describeThing(thing: RunningThing): string {
  switch (thing.kind) {
    case "Container":
      return `container ${thing.name}`;
    case "ScrapeTarget":
      return `scrape target job=${thing.name} instance=${thing.instance ?? "?"}`;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
      return `${thing.kind} ${thing.namespace ?? "?"}/${thing.name}`;
  }
}

// Turns a checked registry file into the model: each alert name a resource lists becomes a rule,
// templates are filled in per resource. Runs only after semantic.ts found nothing wrong, so every
// name it looks up exists.
import { canActOn, isRemediationAction, type RemediationAction, type ResourceKind } from "./actions.js";
import { hostGroup, type AlertRule, type Host, type Registry, type Service } from "./model.js";
import type {
  Alert,
  AlertTemplate,
  Host as HostEntry,
  RegistryFile,
  ServiceEntry,
  TemplateScope,
} from "./schema.js";

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Names of the `${…}` placeholders in `text`. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? "");
}

function fill(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => vars[name] ?? whole);
}

export function resolveRegistry(file: RegistryFile, path: string): Registry {
  const runbookBaseUrl = file.defaults.runbook_base_url.replace(/\/+$/, "");
  const templates = new Map(file.alert_templates.map((template) => [template.name, template]));
  const services = file.services.map((entry) => resolveService(entry, templates, runbookBaseUrl));
  const hosts = file.hosts.map((entry) =>
    resolveHost(entry, file.defaults.hosts, templates, services, runbookBaseUrl),
  );
  return {
    file: path,
    runbookBaseUrl,
    alertmanager: file.alertmanager,
    coverage: file.coverage,
    hosts,
    services,
  };
}

/** One resource a template is filled in for. */
interface Instance {
  scope: TemplateScope;
  kind: ResourceKind;
  vars: Record<string, string>;
  labels: Record<string, string>;
  group: string;
  /** Where the default runbook URL points: the service, or `hosts`. */
  runbookDir: string;
}

function resolveService(
  entry: ServiceEntry,
  templates: ReadonlyMap<string, AlertTemplate>,
  runbookBaseUrl: string,
): Service {
  const { alerts, auto_repair, k8s, docker, endpoints, pages, ...rest } = entry;
  const allowed = auto_repair.allowed_actions.filter(isRemediationAction);
  const team = entry.owner_team;
  const namespaces = [...new Set(k8s.map((workload) => workload.namespace))];
  const serviceLabels = {
    service: entry.name,
    team,
    ...(namespaces.length === 1 && namespaces[0] !== undefined ? { namespace: namespaces[0] } : {}),
  };
  const own = alerts.map((alert) => ruleFromAlert(alert, serviceLabels, entry.name, runbookBaseUrl));
  const byName = indexByName(own);
  const instances: AlertRule[] = [];

  const resolve = (refs: readonly string[], instance?: Instance): AlertRule[] =>
    refs.flatMap((ref) => {
      const rule = byName.get(ref);
      if (rule !== undefined) return [rule];
      const template = templates.get(ref);
      if (template === undefined || instance === undefined || template.scope !== instance.scope) return [];
      const made = instantiate(template, instance, allowed, runbookBaseUrl);
      instances.push(made);
      return [made];
    });

  const base = { service: entry.name, team };
  const place = { group: entry.name, runbookDir: entry.name };
  return {
    ...rest,
    allowed_actions: allowed,
    k8s: k8s.map((workload) => ({
      ...workload,
      rules: resolve(workload.alerts, {
        scope: "k8s",
        kind: workload.kind,
        vars: { ...base, namespace: workload.namespace, kind: workload.kind, workload: workload.name },
        labels: { ...base, namespace: workload.namespace, workload: workload.name },
        ...place,
      }),
    })),
    docker: docker.map((container) => ({
      ...container,
      rules: resolve(container.alerts, {
        scope: "docker",
        kind: "Container",
        vars: { ...base, host: container.host, container: container.name },
        labels: { ...base, host: container.host, container: container.name },
        ...place,
      }),
    })),
    endpoints: endpoints.map((endpoint) => ({ ...endpoint, rules: resolve(endpoint.alerts) })),
    pages: pages.map((page) => ({ ...page, rules: resolve(page.alerts) })),
    rules: [...own, ...instances],
  };
}

function resolveHost(
  entry: HostEntry,
  defaults: RegistryFile["defaults"]["hosts"],
  templates: ReadonlyMap<string, AlertTemplate>,
  services: readonly Service[],
  runbookBaseUrl: string,
): Host {
  const { owner_team, auto_repair, alerts, ...rest } = entry;
  const team = owner_team ?? defaults.owner_team;
  const allowed = (auto_repair ?? defaults.auto_repair).allowed_actions.filter(isRemediationAction);
  const names = [...new Set([...defaults.alerts, ...alerts])];
  const serviceRules = indexByName(services.flatMap((service) => service.rules));
  const instance: Instance = {
    scope: "host",
    kind: "Host",
    vars: { host: entry.name, address: entry.address, team },
    labels: { host: entry.name, team },
    group: hostGroup(entry.name),
    runbookDir: "hosts",
  };
  const rules = names.flatMap((name) => {
    const template = templates.get(name);
    if (template?.scope === "host") return [instantiate(template, instance, allowed, runbookBaseUrl)];
    const rule = serviceRules.get(name);
    return rule === undefined ? [] : [rule];
  });
  return { ...rest, owner_team: team, allowed_actions: allowed, alerts: names, rules };
}

/** Rules by name and by alias; the first rule wins, as in the file. */
export function indexByName(rules: readonly AlertRule[]): Map<string, AlertRule> {
  const index = new Map<string, AlertRule>();
  for (const rule of rules) {
    for (const name of [rule.name, ...rule.aliases]) if (!index.has(name)) index.set(name, rule);
  }
  return index;
}

function ruleFromAlert(
  alert: Alert,
  labels: Record<string, string>,
  service: string,
  runbookBaseUrl: string,
): AlertRule {
  return {
    name: alert.name,
    aliases: alert.aliases,
    severity: alert.severity,
    source: alert.source,
    ...(alert.expr === undefined ? {} : { expr: alert.expr }),
    ...(alert.condition === undefined ? {} : { condition: alert.condition }),
    ...(alert.for === undefined ? {} : { for: alert.for }),
    summary: alert.summary,
    ...(alert.description === undefined ? {} : { description: alert.description }),
    auto_repair: isRemediationAction(alert.auto_repair) ? alert.auto_repair : "none",
    runbook_url: alert.runbook_url ?? `${runbookBaseUrl}/${service}/${alert.name}`,
    labels: { severity: alert.severity, ...labels, ...alert.labels },
    group: service,
  };
}

function instantiate(
  template: AlertTemplate,
  instance: Instance,
  allowed: readonly RemediationAction[],
  runbookBaseUrl: string,
): AlertRule {
  const { vars } = instance;
  const description = template.description === undefined ? undefined : fill(template.description, vars);
  return {
    name: template.name,
    aliases: [],
    severity: template.severity,
    source: "prometheus",
    expr: fill(template.expr, vars),
    ...(template.for === undefined ? {} : { for: template.for }),
    summary: fill(template.summary, vars),
    ...(description === undefined ? {} : { description }),
    auto_repair: repairFor(template.auto_repair, allowed, instance.kind),
    runbook_url:
      template.runbook_url === undefined
        ? `${runbookBaseUrl}/${instance.runbookDir}/${template.name}`
        : fill(template.runbook_url, vars),
    labels: { severity: template.severity, ...instance.labels, ...template.labels },
    group: instance.group,
    template: template.name,
  };
}

/**
 * A template proposes its repair only where the owner allows it and it can act on the resource:
 * the same CrashLoop template may roll back a Deployment but only alert for a StatefulSet.
 */
function repairFor(
  action: string,
  allowed: readonly RemediationAction[],
  kind: ResourceKind,
): RemediationAction | "none" {
  if (!isRemediationAction(action) || !allowed.includes(action)) return "none";
  return canActOn(action, new Set([kind])) ? action : "none";
}

// Checks that need the whole registry: names that must be unique, alert names that must resolve,
// actions that must exist and have something to act on. Each issue carries the path of the
// offending value, so the loader can point at its line.
import {
  canActOn,
  isRemediationAction,
  REMEDIATION_ACTIONS,
  resourceKinds,
  type RemediationAction,
  type ResourceKind,
} from "./actions.js";
import { formatPath, type Path } from "./positions.js";
import { placeholders } from "./resolve.js";
import { SCOPE_PLACEHOLDERS, type AlertTemplate, type RegistryFile, type ServiceEntry } from "./schema.js";

export interface SemanticIssue {
  path: Path;
  message: string;
}

type Report = (path: Path, message: string) => void;

export function checkRegistry(file: RegistryFile): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const report: Report = (path, message) => issues.push({ path, message });
  const templates = new Map<string, AlertTemplate>();
  for (const template of file.alert_templates)
    if (!templates.has(template.name)) templates.set(template.name, template);
  const serviceAlerts = new Set(
    file.services.flatMap((service) => service.alerts.flatMap((a) => [a.name, ...a.aliases])),
  );

  checkTemplates(file, report);
  checkHosts(file, templates, serviceAlerts, report);
  unique(
    file.services.map((service) => service.name),
    (i, first, name) =>
      report(["services", i, "name"], `duplicate service "${name}" (also services[${first}])`),
  );
  file.services.forEach((service, i) => checkService(service, ["services", i], file, templates, report));
  checkListedOnce(file, report);
  return issues;
}

function checkTemplates(file: RegistryFile, report: Report): void {
  unique(
    file.alert_templates.map((template) => template.name),
    (i, first, name) =>
      report(["alert_templates", i, "name"], `duplicate template "${name}" (also alert_templates[${first}])`),
  );
  file.alert_templates.forEach((template, i) => {
    const allowed = SCOPE_PLACEHOLDERS[template.scope];
    for (const field of ["expr", "summary", "description", "runbook_url"] as const) {
      for (const name of placeholders(template[field] ?? "")) {
        if (!allowed.includes(name)) {
          report(
            ["alert_templates", i, field],
            `unknown placeholder \${${name}} in a ${template.scope} template (known: ${allowed.join(", ")})`,
          );
        }
      }
    }
    checkRepairName(template.auto_repair, ["alert_templates", i, "auto_repair"], report);
  });
  file.services.forEach((service, i) =>
    service.alerts.forEach((alert, j) =>
      [alert.name, ...alert.aliases].forEach((name, k) => {
        if (file.alert_templates.some((template) => template.name === name)) {
          const path =
            k === 0 ? ["services", i, "alerts", j, "name"] : ["services", i, "alerts", j, "aliases", k - 1];
          report(path, `alert "${name}" has the name of a template; rename one`);
        }
      }),
    ),
  );
}

function checkHosts(
  file: RegistryFile,
  templates: ReadonlyMap<string, AlertTemplate>,
  serviceAlerts: ReadonlySet<string>,
  report: Report,
): void {
  unique(
    file.hosts.map((host) => host.name),
    (i, first, name) => report(["hosts", i, "name"], `duplicate host "${name}" (also hosts[${first}])`),
  );
  unique(
    file.hosts.map((host) => host.address),
    (i, first, address) => report(["hosts", i, "address"], `address ${address} is also hosts[${first}]`),
  );
  const checkRef = (name: string, path: Path) => {
    const template = templates.get(name);
    if (template !== undefined && template.scope !== "host") {
      report(
        path,
        `"${name}" is a ${template.scope} template; a host can use host templates or service alerts`,
      );
    } else if (template === undefined && !serviceAlerts.has(name)) {
      report(
        path,
        unknownAlert(name, [...templates.keys(), ...serviceAlerts], "alert_templates (scope host)"),
      );
    }
  };
  file.defaults.hosts.alerts.forEach((name, i) => checkRef(name, ["defaults", "hosts", "alerts", i]));
  checkActions(
    file.defaults.hosts.auto_repair.allowed_actions,
    ["defaults", "hosts", "auto_repair", "allowed_actions"],
    new Set(["Host"]),
    "a host",
    report,
  );
  file.hosts.forEach((host, i) => {
    host.alerts.forEach((name, j) => checkRef(name, ["hosts", i, "alerts", j]));
    if (host.auto_repair !== undefined) {
      const path = ["hosts", i, "auto_repair", "allowed_actions"];
      checkActions(host.auto_repair.allowed_actions, path, new Set(["Host"]), `host ${host.name}`, report);
    }
  });
}

function checkService(
  service: ServiceEntry,
  at: Path,
  file: RegistryFile,
  templates: ReadonlyMap<string, AlertTemplate>,
  report: Report,
): void {
  const available = new Set<ResourceKind>(service.k8s.map((workload) => workload.kind));
  if (service.docker.length > 0) available.add("Container").add("Host");
  const allowed = service.auto_repair.allowed_actions;
  checkActions(
    allowed,
    [...at, "auto_repair", "allowed_actions"],
    available,
    `service ${service.name}`,
    report,
  );

  const names = service.alerts.flatMap((alert, j) => [
    { name: alert.name, path: [...at, "alerts", j, "name"] },
    ...alert.aliases.map((alias, k) => ({ name: alias, path: [...at, "alerts", j, "aliases", k] })),
  ]);
  unique(
    names.map((entry) => entry.name),
    (i, _first, name) =>
      report(names[i]?.path ?? at, `alert "${name}" is defined twice in service ${service.name}`),
  );
  service.alerts.forEach((alert, j) => {
    const path = [...at, "alerts", j, "auto_repair"];
    if (!checkRepairName(alert.auto_repair, path, report)) return;
    if (alert.auto_repair !== "none" && !allowed.includes(alert.auto_repair)) {
      report(path, `${alert.auto_repair} is not in auto_repair.allowed_actions of service ${service.name}`);
    }
  });

  const own = new Set(names.map((entry) => entry.name));
  const checkRefs = (refs: readonly string[], path: Path, scope: "k8s" | "docker" | undefined) =>
    refs.forEach((name, k) => {
      if (own.has(name)) return;
      const template = templates.get(name);
      if (template === undefined) {
        report([...path, k], unknownAlert(name, [...own, ...templates.keys()], `${formatPath(at)}.alerts`));
      } else if (scope === undefined) {
        report([...path, k], `"${name}" is a template; endpoints and pages name alerts of their service`);
      } else if (template.scope !== scope) {
        report(
          [...path, k],
          `"${name}" is a ${template.scope} template and cannot be used for ${scope} entries`,
        );
      }
    });
  service.k8s.forEach((workload, j) => checkRefs(workload.alerts, [...at, "k8s", j, "alerts"], "k8s"));
  service.docker.forEach((container, j) => {
    checkRefs(container.alerts, [...at, "docker", j, "alerts"], "docker");
    if (!file.hosts.some((host) => host.name === container.host)) {
      report([...at, "docker", j, "host"], `unknown host "${container.host}" (define it under hosts)`);
    }
  });
  service.endpoints.forEach((endpoint, j) =>
    checkRefs(endpoint.alerts, [...at, "endpoints", j, "alerts"], undefined),
  );
  service.pages.forEach((page, j) => checkRefs(page.alerts, [...at, "pages", j, "alerts"], undefined));
  unique(
    service.endpoints.map((endpoint) => `${endpoint.method} ${endpoint.path}`),
    (j, first, key) =>
      report([...at, "endpoints", j], `endpoint ${key} is listed twice (also endpoints[${first}])`),
  );
  unique(
    service.pages.map((page) => `${page.metric} of ${page.page}`),
    (j, first, key) => report([...at, "pages", j], `page SLO ${key} is listed twice (also pages[${first}])`),
  );
}

/** A workload, container or scrape job belongs to one service only. */
function checkListedOnce(file: RegistryFile, report: Report): void {
  const entries = (pick: (service: ServiceEntry, i: number) => { key: string; path: Path }[]) =>
    file.services.flatMap(pick);
  const once = (items: { key: string; path: Path }[], what: string) =>
    unique(
      items.map((item) => item.key),
      (i, first, key) =>
        report(
          items[i]?.path ?? [],
          `${what} ${key} is already listed at ${formatPath(items[first]?.path ?? [])}`,
        ),
    );
  once(
    entries((service, i) =>
      service.k8s.map((w, j) => ({
        key: `${w.kind} ${w.namespace}/${w.name}`,
        path: ["services", i, "k8s", j],
      })),
    ),
    "workload",
  );
  once(
    entries((service, i) =>
      service.docker.map((c, j) => ({ key: `${c.name} on ${c.host}`, path: ["services", i, "docker", j] })),
    ),
    "container",
  );
  once(
    entries((service, i) =>
      service.prometheus_jobs.map((job, j) => ({ key: job, path: ["services", i, "prometheus_jobs", j] })),
    ),
    "prometheus job",
  );
}

function checkActions(
  actions: readonly string[],
  at: Path,
  available: ReadonlySet<ResourceKind>,
  owner: string,
  report: Report,
): void {
  unique(actions, (j, first, action) => report([...at, j], `${action} is listed twice (also [${first}])`));
  actions.forEach((action, j) => {
    if (!checkRepairName(action, [...at, j], report) || !isRemediationAction(action)) return;
    if (!canActOn(action, available)) {
      report([...at, j], `${action} has nothing to act on: ${owner} has no ${describeKinds(action)}`);
    }
  });
}

/** Reports an unknown action name; true when the name is known (or `none`). */
function checkRepairName(action: string, path: Path, report: Report): boolean {
  if (action === "none" || isRemediationAction(action)) return true;
  const hint = closest(action, REMEDIATION_ACTIONS);
  report(
    path,
    `unknown action ${action} (${hint === undefined ? `known: ${REMEDIATION_ACTIONS.join(", ")}` : `did you mean ${hint}?`})`,
  );
  return false;
}

const KIND_NAMES: Record<ResourceKind, string> = {
  Deployment: "Deployment",
  StatefulSet: "StatefulSet",
  DaemonSet: "DaemonSet",
  Container: "Docker container",
  Host: "host",
};

function describeKinds(action: RemediationAction): string {
  const names = [...(resourceKinds(action) ?? [])].map((kind) => KIND_NAMES[kind]);
  return names.length <= 1
    ? (names[0] ?? "target")
    : `${names.slice(0, -1).join(", ")} or ${names.at(-1) ?? ""}`;
}

function unknownAlert(name: string, known: readonly string[], where: string): string {
  const hint = closest(name, known);
  return `unknown alert "${name}"${hint === undefined ? "" : ` (did you mean ${hint}?)`}; define it under ${where}`;
}

/** Calls `onDuplicate(index, firstIndex, key)` for every repeat of a key. */
function unique(
  keys: readonly string[],
  onDuplicate: (index: number, first: number, key: string) => void,
): void {
  const seen = new Map<string, number>();
  keys.forEach((key, i) => {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else onDuplicate(i, first, key);
  });
}

/** The candidate within two edits of `name`, for "did you mean". */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// What the bot asks the service registry about an incident: the owning team, the SLO in words,
// the service's dashboards and runbooks (for cards), and the repairs it allows (for guardrails).
import { type Incident, type Severity } from "../domain/incident.js";
import { type ServiceFacts } from "../domain/card.js";
import { subjectLabels } from "../domain/subject.js";
import type { ServiceRegistry } from "./services.js";

export function sloText(targets: {
  availability_percent?: number | undefined;
  latency_p95?: string | undefined;
  error_rate_percent?: number | undefined;
}): string | undefined {
  const parts = [
    targets.availability_percent === undefined ? undefined : `${targets.availability_percent}% available`,
    targets.latency_p95 === undefined ? undefined : `p95 ≤ ${targets.latency_p95}`,
    targets.error_rate_percent === undefined ? undefined : `errors < ${targets.error_rate_percent}%`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? undefined : parts.join(", ");
}

/** Looks the incident's service up by its labels (then by name); undefined when unregistered. */
export function serviceFactsFrom(
  registry: ServiceRegistry,
): (incident: Incident) => ServiceFacts | undefined {
  return (incident) => {
    const service = serviceOf(registry, incident);
    if (service === undefined) return undefined;
    const owner = registry.ownerTeam(service);
    const slo = sloText(service.slo);
    const links = registry.links(service);
    return {
      links: [
        ...(links?.dashboards ?? []).map((link) => ({ label: link.title, url: link.url })),
        ...(links?.runbooks ?? []).map((link) => ({ label: link.title, url: link.url })),
      ],
      ...(owner === undefined ? {} : { ownerTeam: owner }),
      ...(slo === undefined ? {} : { slo }),
    };
  };
}

function serviceOf(registry: ServiceRegistry, incident: Incident) {
  return (
    // the subject's labels only: an alert about a deployment, scraped by kube-state-metrics, is
    // never looked up as kube-state-metrics (domain/subject.ts)
    registry.serviceFor(subjectLabels(incident.labels)) ??
    (incident.service === null ? undefined : registry.service(incident.service))
  );
}

/** The repairs the registry allows for the incident's service; undefined when it is unregistered. */
export function allowedActionsFrom(
  registry: ServiceRegistry,
): (incident: Incident) => readonly string[] | undefined {
  return (incident) => {
    const service = serviceOf(registry, incident);
    return service === undefined ? undefined : registry.allowedActions(service);
  };
}

/**
 * The severity the registry gives a Sentry project's issues: the tier of the service whose
 * `links.sentry_project` is that slug. Undefined for a project the registry does not map, whose
 * issues keep the severity of their level.
 */
export function sentrySeverityFrom(registry: ServiceRegistry): (project: string) => Severity | undefined {
  return (project) => registry.services.find((service) => service.links?.sentry_project === project)?.tier;
}

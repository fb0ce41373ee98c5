// The HTTP probe that confirms a repair, where the service registry defines one: the `http`
// health check of the incident's Docker container, on its host's address. One GET with a short
// timeout; 2xx–3xx is healthy. A Kubernetes workload's health check is its pods' readiness probe,
// which the rollout verification already waits for (and its in-cluster address may not resolve
// where the bot runs), so it is not probed again from here.
import { type Incident } from "../domain/incident.js";
import { messagesFor, type VerifySaying } from "../domain/i18n/index.js";
import type { ServiceRegistry } from "../registry/services.js";

export interface ProbeResult {
  ok: boolean;
  url: string;
  /** One line for the timeline, in English: "GET http://…/health → 200". */
  detail: string;
  /** The same line as data, for the card to say in BOT_LANGUAGE (domain/i18n `verifyDetail`). */
  said: VerifySaying & { code: "probe_answered" | "probe_failed" | "probe_silent" };
}

/** The probe's result with its English line from the catalogue. */
function probed(ok: boolean, url: string, said: ProbeResult["said"]): ProbeResult {
  const words = messagesFor("en").verifyDetail;
  const detail =
    said.code === "probe_answered"
      ? words.probe_answered(said)
      : said.code === "probe_failed"
        ? words.probe_failed(said)
        : words.probe_silent(said);
  return { ok, url, detail, said };
}

type HttpCheck = {
  type: "http";
  path: string;
  port?: number | undefined;
  scheme?: "http" | "https" | undefined;
};

function isHttp(check: { type: string } | undefined): check is HttpCheck {
  return check?.type === "http";
}

/** The URL to probe for the incident, or undefined when the registry defines no HTTP check for it. */
export function probeUrlFrom(registry: ServiceRegistry): (incident: Incident) => string | undefined {
  return (incident) => {
    const labels = incident.labels;
    const service =
      registry.serviceFor(labels) ??
      (incident.service === null ? undefined : registry.service(incident.service));
    if (service === undefined) return undefined;
    const named =
      labels.container ??
      (incident.target?.kind.toLowerCase() === "container" ? incident.target.name : undefined);
    const containers = service.docker.filter((c) => isHttp(c.health_check));
    const container =
      containers.find((c) => c.name === named) ?? (named === undefined ? containers[0] : undefined);
    if (container !== undefined && isHttp(container.health_check)) {
      const host = registry.hosts.find((candidate) => candidate.name === container.host);
      const check = container.health_check;
      const port = check.port ?? container.ports[0];
      if (host !== undefined) return url(check, host.address, port);
    }
    return undefined;
  };
}

function url(check: HttpCheck, host: string, port: number | undefined): string {
  const scheme = check.scheme ?? "http";
  return `${scheme}://${host}${port === undefined ? "" : `:${port}`}${check.path}`;
}

/** One GET; healthy on 2xx/3xx within `timeoutMs`. Never throws. */
export async function httpProbe(target: string, timeoutMs = 3_000): Promise<ProbeResult> {
  try {
    const response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 400;
    return probed(ok, target, { code: "probe_answered", url: target, status: response.status });
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError") {
      return probed(false, target, { code: "probe_silent", url: target, ms: timeoutMs });
    }
    const message = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    return probed(false, target, { code: "probe_failed", url: target, error: message });
  }
}

/** The probe the verifier calls: undefined when the registry defines none for the incident. */
export function registryProbe(
  registry: ServiceRegistry,
  timeoutMs = 3_000,
): (incident: Incident) => Promise<ProbeResult | undefined> {
  const urlOf = probeUrlFrom(registry);
  return async (incident) => {
    const target = urlOf(incident);
    return target === undefined ? undefined : httpProbe(target, timeoutMs);
  };
}

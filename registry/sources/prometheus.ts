// Scrape targets and loaded alerting rules, read through Prometheus' HTTP API.
import { z } from "zod";
import {
  SourceError,
  type LoadedRule,
  type RuleSource,
  type RunningThing,
  type WorkloadSource,
} from "./types.js";

export const PROMETHEUS_SOURCE = "prometheus";

const Labels = z.record(z.string(), z.string());

const TargetsResponse = z.object({
  status: z.literal("success"),
  data: z.object({ activeTargets: z.array(z.object({ labels: Labels })) }),
});

const RulesResponse = z.object({
  status: z.literal("success"),
  data: z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        rules: z.array(z.object({ type: z.string(), name: z.string(), labels: Labels.optional() })),
      }),
    ),
  }),
});

export class PrometheusSource implements WorkloadSource, RuleSource {
  readonly name = PROMETHEUS_SOURCE;
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** Active scrape targets, one per job and instance. */
  async list(): Promise<RunningThing[]> {
    const body = await this.get("/api/v1/targets?state=active", TargetsResponse);
    const seen = new Map<string, RunningThing>();
    for (const { labels } of body.data.activeTargets) {
      const job = labels.job ?? "";
      const instance = labels.instance ?? "";
      seen.set(`${job}\u0000${instance}`, {
        source: PROMETHEUS_SOURCE,
        kind: "ScrapeTarget",
        name: job,
        instance,
      });
    }
    return [...seen.values()];
  }

  async alertRules(): Promise<LoadedRule[]> {
    const body = await this.get("/api/v1/rules?type=alert", RulesResponse);
    return body.data.groups.flatMap((group) =>
      group.rules
        .filter((rule) => rule.type === "alerting")
        .map((rule) => ({
          name: rule.name,
          labels: rule.labels ?? {},
          origin: `prometheus group ${group.name}`,
        })),
    );
  }

  private async get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new SourceError(`prometheus: GET ${url} failed: ${(error as Error).message}`);
    }
    if (!response.ok) throw new SourceError(`prometheus: GET ${url} answered HTTP ${response.status}`);
    const parsed = schema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success)
      throw new SourceError(`prometheus: GET ${url} did not return a Prometheus API answer`);
    return parsed.data;
  }
}

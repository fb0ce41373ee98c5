// The probes behind `/status`, over the runtime's own clients. Cheap reads only: a ping of each
// database, job counts, Ollama's model list, a Docker ping, a one-item Kubernetes list, SigNoz's
// ClickHouse column list. For each LLM provider, the start-up check of its configured model
// (ai/model-check.ts: exists, structured output, window), made once and shared with the chain;
// none of them spends tokens.
import { access, constants } from "node:fs/promises";
import type { ChainSettingsSource } from "../kv/chain-settings.js";
import type { TargetDeps } from "../executors/target-deps.js";
import type { Redis } from "ioredis";
import { countOpenBySeverity } from "../db/incidents.js";
import { pingDatabase, type Pool } from "../db/pool.js";
import type { ClusterKubeGateway } from "../gateways/kube-gateway.js";
import type { RepairCountersStore } from "../kv/repair-counters.js";
import type { StatusDeps, Target } from "../handlers/status-report.js";
import type { Queues } from "../jobs/queues.js";
import type { Config } from "../registry/config.js";
import { redisPersistence } from "../kv/persistence.js";
import { pingRedis } from "../kv/ping.js";
import { probeOllama } from "../ai/providers/ollama.js";
import type { ModelChecks } from "../ai/model-check.js";
import type { ProviderName } from "../domain/llm.js";
import { messagesFor, type Messages, type StatusSaying } from "../domain/i18n/index.js";
import { pingCacheTarget } from "../executors/clear-cache.js";
import { pingVacuumTarget } from "../executors/vacuum-db.js";
import { DockerodeGateway } from "../gateways/docker-gateway.js";
import { readTelegramProblems } from "../handlers/telegram-health.js";
import type { TelegramHealthStore } from "../kv/telegram-health.js";

/** Every probe gets this long; `/status` answers within about this time. */
export const STATUS_TIMEOUT_MS = 2_500;

/** The model check as a probe: its detail when usable, why not otherwise; a failed check is down. */
function modelProbe(
  checks: ModelChecks,
  provider: ProviderName,
): (
  signal: AbortSignal,
) => Promise<{ note: string; said?: StatusSaying[] } | { unusable: string; said?: StatusSaying[] }> {
  const said = (words: StatusSaying | undefined) => (words === undefined ? {} : { said: [words] });
  return async () => {
    const check = await checks.of(provider);
    if (check === undefined) return { note: "configured", said: [{ code: "configured" }] };
    if (check.kind === "ok") return { note: check.detail ?? check.model, ...said(check.said) };
    if (check.kind === "unusable") return { unusable: check.reason, ...said(check.said) };
    throw new Error(`model check failed: ${check.reason}`);
  };
}

function llmTargets(config: Readonly<Config>, checks: ModelChecks): Target[] {
  return config.llm.chain.map((provider): Target => {
    switch (provider) {
      case "ollama": {
        const host = config.llm.ollama.host;
        return {
          name: "Ollama",
          configured: host !== undefined,
          probe: async (signal) => {
            await probeOllama(host ?? "", signal);
            return modelProbe(checks, "ollama")(signal);
          },
        };
      }
      case "gemini":
        return {
          name: "Gemini",
          configured: config.llm.gemini.apiKey !== undefined,
          probe: modelProbe(checks, "gemini"),
        };
      case "claude":
        return {
          name: "Claude",
          configured: config.llm.claude.apiKey !== undefined,
          probe: modelProbe(checks, "claude"),
        };
    }
  });
}

/**
 * The targets-file executors' targets: caches and databases pinged, directories and commands looked
 * at; named in the chat's language (`t`), since only `/status` shows them.
 */
function configuredTargets(targets: TargetDeps["deps"], t: Messages): Target[] {
  const named = t.status.target;
  const caches = Object.keys(targets.CLEAR_CACHE.targets).map((name): Target => ({
    name: named.redisCache({ name }),
    configured: true,
    probe: () => pingCacheTarget(targets.CLEAR_CACHE, name),
  }));
  const databases = Object.keys(targets.VACUUM_DB.targets).map((name): Target => ({
    name: named.postgres({ name }),
    configured: true,
    probe: () => pingVacuumTarget(targets.VACUUM_DB, name),
  }));
  const directories = (targets.CLEANUP_LOGS.config?.directories ?? []).map((directory): Target => ({
    name: named.logDirectory({ directory }),
    configured: true,
    probe: () => access(directory, constants.R_OK | constants.W_OK),
  }));
  const certificates = Object.entries(targets.RENEW_CERT.certificates).map(([name, certificate]): Target => ({
    name: named.certificate({ name }),
    configured: true,
    // the renewal itself is not run: only whether its program is there to run
    probe: () => access(certificate.command[0] ?? "", constants.X_OK),
  }));
  return [...caches, ...databases, ...directories, ...certificates];
}

function executorTargets(config: Readonly<Config>, kube: ClusterKubeGateway | undefined): Target[] {
  const dockerHost = config.dockerHost;
  const docker = dockerHost === undefined ? undefined : DockerodeGateway.fromHost(dockerHost);
  const namespace = config.autoRepair.allowedNamespaces[0] ?? "default";
  return [
    {
      name: "Docker",
      configured: docker !== undefined,
      probe: async () => {
        await docker?.ping();
      },
    },
    {
      name: "Kubernetes",
      configured: kube !== undefined,
      probe: async () => {
        await kube?.reachable(namespace);
      },
    },
  ];
}

export function statusProbes(deps: {
  config: Readonly<Config>;
  pool: Pool;
  redis: Redis;
  queues: Queues;
  counters: Pick<RepairCountersStore, "read">;
  kube: ClusterKubeGateway | undefined;
  repairTargets: TargetDeps["deps"];
  chainSettings: ChainSettingsSource;
  modelChecks: ModelChecks;
  /** Every process's Telegram report, as health reads it. */
  telegramHealth: Pick<TelegramHealthStore, "readAll" | "remove">;
  timeoutMs?: number;
}): StatusDeps {
  const { config, pool, redis, queues } = deps;
  const clickhouseUrl = config.signoz.clickhouseUrl;
  const named = [queues.ingest, queues.notify, queues.analyze, queues.execute, queues.escalate];
  return {
    timeoutMs: deps.timeoutMs ?? STATUS_TIMEOUT_MS,
    redis: async () => {
      await pingRedis(redis);
      const persistence = await redisPersistence(redis);
      // what a /status reader must know: whether a 2xx to a sender survives a Redis restart
      if (persistence.mode === "aof") return undefined;
      const said: StatusSaying =
        persistence.mode === "rdb"
          ? { code: "redis_rdb", snapshots: persistence.snapshots }
          : { code: `redis_${persistence.mode}` };
      return { note: persistence.detail, said: [said] };
    },
    postgres: () => pingDatabase(pool),
    queues: named.map((queue) => ({
      name: queue.name,
      depth: async () => {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed");
        return {
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        };
      },
    })),
    llm: llmTargets(config, deps.modelChecks),
    executors: [
      ...executorTargets(config, deps.kube),
      ...configuredTargets(deps.repairTargets, messagesFor(config.language)),
    ],
    chainOverrides: () => deps.chainSettings.get(),
    openIncidents: () => countOpenBySeverity(pool),
    // The hourly counter is shared by every resource; any resource key reads it.
    repairsLastHour: async () => (await deps.counters.read("-")).lastHour,
    maxRepairsPerHour: config.autoRepair.maxPerHour,
    telegram: () => readTelegramProblems(deps.telegramHealth),
    // the same look for SigNoz's trace table the poller takes, from this process
    ...(clickhouseUrl === undefined
      ? {}
      : {
          // the ClickHouse client is loaded only where SigNoz is configured
          signozTraces: async (signal) => {
            const { probeSignozTraces } = await import("../gateways/signoz-spans.js");
            return probeSignozTraces(clickhouseUrl, config.signoz.tracesTable, signal);
          },
        }),
  };
}

// Wires /status, /incidents, /rollback and the drill-down to their use cases: the runtime hands
// in the pool, Redis, the queues and the configuration; the Kubernetes gateway exists only with
// KUBECONFIG, and the guardrails are the same policy the workers decide with.
import { audit } from "../db/actions.js";
import { actorOf } from "../handlers/decision-guard.js";
import type { Redis } from "ioredis";
import type { BotOptions } from "../bot/index.js";
import { openIncidentsPage } from "../db/incidents.js";
import type { Pool } from "../db/pool.js";
import type { ClusterKubeGateway } from "../gateways/kube-gateway.js";
import type { GuardrailPolicy } from "../domain/decide.js";
import { RepairCountersStore } from "../kv/repair-counters.js";
import { incidentDrillDown } from "../handlers/incident-drill-down.js";
import { previewRollback, requestRollback, type RollbackDeps } from "../handlers/request-rollback.js";
import { statusReport } from "../handlers/status-report.js";
import { enqueueCard, type Queues } from "../jobs/queues.js";
import type { Config } from "../registry/config.js";
import { allowedActionsFrom } from "../registry/lookups.js";
import type { ServiceRegistry } from "../registry/services.js";
import type { ChainSettingsSource } from "../kv/chain-settings.js";
import type { TargetDeps } from "../executors/target-deps.js";
import type { ModelChecks } from "../ai/model-check.js";
import { statusProbes } from "./status-probes.js";
import { telegramHealthStore } from "./infrastructure.js";

export type RepairTargetDeps = TargetDeps["deps"];

export interface CommandOptions {
  /** Per-probe timeout of /status (default 2.5 s). */
  statusTimeoutMs?: number;
}

/** The guardrail policy from the configuration (the guardrails, domain/decide.ts). */
export function guardrailPolicy(config: Readonly<Config>): GuardrailPolicy {
  return {
    enabled: config.autoRepair.enabled,
    maxPerHour: config.autoRepair.maxPerHour,
    maxPerResourcePerHour: config.autoRepair.maxPerResourcePerHour,
    minConfidence: config.autoRepair.minConfidence,
    maxAffectedPods: config.autoRepair.maxAffectedPods,
    minHealthyReplicas: config.autoRepair.minHealthyReplicas,
    allowedNamespaces: config.autoRepair.allowedNamespaces,
    autoMaxRisk: "LOW",
  };
}

export function commandDeps(
  deps: {
    config: Readonly<Config>;
    pool: Pool;
    redis: Redis;
    queues: Queues;
    registry: ServiceRegistry;
    /** The cluster, when KUBECONFIG is set. */
    kube: ClusterKubeGateway | undefined;
    /** The executors' configured targets, for /status to check. */
    repairTargets: RepairTargetDeps;
    chainSettings: ChainSettingsSource;
    /** The models' start-up checks, shared with the chain when the workers run here. */
    modelChecks: ModelChecks;
  },
  options: CommandOptions = {},
): { commands: NonNullable<BotOptions["commands"]> } {
  const { config, pool, redis, queues, registry, kube } = deps;
  const counters = new RepairCountersStore(redis, config.redis.prefix);
  const rollbackDeps: RollbackDeps = {
    db: pool,
    approverIds: config.telegram.approverIds,
    kube,
    guardrails: { policy: guardrailPolicy(config), counters, registryAllows: allowedActionsFrom(registry) },
    enqueueCard: (incidentId) => enqueueCard(queues.notify, incidentId),
    language: config.language,
  };
  const probes = statusProbes({
    config,
    pool,
    redis,
    queues,
    counters,
    kube,
    repairTargets: deps.repairTargets,
    chainSettings: deps.chainSettings,
    modelChecks: deps.modelChecks,
    telegramHealth: telegramHealthStore(config, { redis }),
    ...(options.statusTimeoutMs === undefined ? {} : { timeoutMs: options.statusTimeoutMs }),
  });
  return {
    commands: {
      status: { report: () => statusReport(probes), timeZone: config.timeZone },
      incidents: {
        page: (page, filter, asker) =>
          openIncidentsPage(pool, page, {
            ...(filter.kind === "severity" ? { severity: filter.severity } : {}),
            ...(filter.kind === "service" ? { service: filter.service } : {}),
            // the names a taker is recorded by (handlers/decision-guard.ts actorOf); nobody asking, nobody's
            ...(filter.kind === "mine"
              ? { takenBy: asker === undefined ? [] : [actorOf(asker), `tg:${asker.userId}`] }
              : {}),
          }),
      },
      drillDown: {
        load: (input) =>
          incidentDrillDown({ db: pool, kube, escalateAfterSeconds: config.escalation.afterSeconds }, input),
        timeZone: config.timeZone,
        language: config.language,
      },
      rollback: {
        approverIds: config.telegram.approverIds,
        kubeConfigured: kube !== undefined,
        language: config.language,
        preview: (target) => previewRollback(rollbackDeps, target),
        request: (input) => requestRollback(rollbackDeps, input),
        refused: (input) =>
          audit(pool, { incidentId: null, actor: actorOf(input), what: input.text, outcome: "not_allowed" }),
      },
    },
  };
}

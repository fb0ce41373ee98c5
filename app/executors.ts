// The executors bound to the outside clients configured here: Docker with DOCKER_HOST, the
// Kubernetes ones with KUBECONFIG, the targets-file ones (AUTO_REPAIR_CONFIG) and the chain's
// own settings always. An action missing from the map cannot run here: the decision sends it to
// a human, and an approval of it fails saying so.
import type { RemediationAction } from "../domain/actions.js";
import { bindExecutor, bindExecutors, type BoundExecutor } from "../executors/executor.js";
import { bindKubernetesExecutors } from "../executors/kubernetes.js";
import { cleanupLogs } from "../executors/cleanup-logs.js";
import { clearCache } from "../executors/clear-cache.js";
import { fallbackAi } from "../executors/fallback-ai.js";
import { renewCert } from "../executors/renew-cert.js";
import { restartContainer } from "../executors/restart-container.js";
import { switchModel } from "../executors/switch-model.js";
import { createTargetDeps, type TargetDeps } from "../executors/target-deps.js";
import { loadTargets, NO_TARGETS } from "../executors/targets.js";
import { createProviders } from "../ai/providers/index.js";
import { RedisChainSettings, type ChainSettingsStore } from "../kv/chain-settings.js";
import type { Redis } from "ioredis";
import type { Infrastructure, Shutdown } from "./infrastructure.js";
import type { Logger } from "pino";
import { logModelChecks, ModelChecks } from "../ai/model-check.js";
import { loadRegistry } from "../registry/services.js";
import { vacuumDb } from "../executors/vacuum-db.js";
import { DockerodeGateway } from "../gateways/docker-gateway.js";
import type { ClusterKubeGateway, KubeGateway } from "../gateways/kube-gateway.js";
import type { Config } from "../registry/config.js";
import type { WorkloadState } from "../handlers/analyze-incident.js";
import { messagesFor, type Language, type Messages } from "../domain/i18n/index.js";

/**
 * The cluster's gateway: through KUBECONFIG when it is set, else inside a pod through the mounted
 * service account (KUBERNETES_SERVICE_HOST/PORT and the token file). @kubernetes/client-node costs
 * about 80 MB of memory, so it is loaded only here: never by intake, nor without a cluster.
 */
export async function clusterGateway(config: Readonly<Config>): Promise<ClusterKubeGateway | undefined> {
  if (config.kubeconfig === undefined && config.kubeInCluster === undefined) return undefined;
  const { ClusterKubeGateway } = await import("../gateways/kube-gateway.js");
  if (config.kubeconfig !== undefined) return ClusterKubeGateway.fromKubeconfig(config.kubeconfig);
  return config.kubeInCluster === undefined ? undefined : ClusterKubeGateway.inCluster(config.kubeInCluster);
}

/**
 * A Deployment now: its replicas (what a rollout restart or undo really affects), its strategy and
 * progress deadline, the autoscaler that owns its count ("unknown" when that read fails), and
 * whether the pod an action would remove is ready.
 */
export function deploymentReplicas(kube: KubeGateway) {
  return async (namespace: string, deployment: string, pod?: string): Promise<WorkloadState> => {
    const state = await kube.getDeployment(namespace, deployment);
    const target =
      pod === undefined
        ? undefined
        : (await kube.listPods(namespace, {}).catch(() => [])).find((candidate) => candidate.name === pod);
    const autoscaler = await kube.autoscalerOf(namespace, deployment).then(
      (hpa) => hpa ?? ("none" as const),
      () => "unknown" as const,
    );
    return {
      replicas: state.replicas,
      readyReplicas: state.readyReplicas,
      rollout: {
        strategy: state.strategy,
        progressDeadlineSeconds: state.progressDeadlineSeconds,
        progressDeadlineExceeded: state.progressDeadlineExceeded,
        autoscaler,
      },
      ...(target === undefined ? {} : { podReady: target.ready && !target.terminating }),
    };
  };
}

export function boundExecutors(
  config: Readonly<Config>,
  clients: { kube: KubeGateway | undefined; targets: TargetDeps["deps"] },
): ReadonlyMap<RemediationAction, BoundExecutor> {
  const { kube, targets } = clients;
  const kubeDeps =
    kube === undefined
      ? undefined
      : {
          kube,
          minHealthyReplicas: config.autoRepair.minHealthyReplicas,
          maxReplicas: config.autoRepair.maxReplicas,
        };
  return bindExecutors([
    ...(config.dockerHost === undefined
      ? []
      : [bindExecutor(restartContainer, { docker: DockerodeGateway.fromHost(config.dockerHost) })]),
    ...(kubeDeps === undefined ? [] : bindKubernetesExecutors(kubeDeps)),
    bindExecutor(clearCache, targets.CLEAR_CACHE),
    bindExecutor(vacuumDb, targets.VACUUM_DB),
    bindExecutor(renewCert, targets.RENEW_CERT),
    bindExecutor(cleanupLogs, targets.CLEANUP_LOGS),
    bindExecutor(switchModel, targets.SWITCH_MODEL),
    bindExecutor(fallbackAi, targets.FALLBACK_AI),
  ]);
}

/**
 * The clients the executors and /status act through: the cluster (KUBECONFIG), the targets of
 * the targets file (connecting on first use) and the chain's run-time settings in Redis. Only the
 * roles that act (bot, worker) open them; `shutdown` closes them.
 */
export async function openRepairClients(
  config: Readonly<Config>,
  redis: Redis,
  acting: boolean,
  shutdown: Shutdown,
): Promise<{
  kube: ClusterKubeGateway | undefined;
  targets: TargetDeps["deps"];
  chainSettings: ChainSettingsStore;
}> {
  const kube = acting ? await clusterGateway(config) : undefined;
  const targets =
    acting && config.autoRepair.configPath !== undefined
      ? await loadTargets(config.autoRepair.configPath)
      : NO_TARGETS;
  // SWITCH_MODEL and FALLBACK_AI write these; the chain reads them before every analysis.
  const chainSettings = new RedisChainSettings(redis, config.redis.prefix);
  const targetDeps = createTargetDeps({
    targets,
    settings: chainSettings,
    ollama: config.llm.ollama,
    chain: config.llm.chain,
    configuredProviders: createProviders(config.llm)
      .filter((slot) => slot.provider !== undefined)
      .map((slot) => slot.name),
  });
  shutdown.add("repair target clients", () => targetDeps.close());
  return { kube, targets: targetDeps.deps, chainSettings };
}

/** What each executor's client needs; an action whose executor is not bound says which setting. */
const MISSING: Partial<Record<RemediationAction, keyof Messages["cannotRun"]>> = {
  RESTART_CONTAINER: "docker",
  RESTART_POD: "kubernetes",
  DELETE_POD: "kubernetes",
  SCALE_UP: "kubernetes",
  SCALE_DOWN: "kubernetes",
  ROLLBACK: "kubernetes",
};

/**
 * Why `action` cannot run in this installation (in BOT_LANGUAGE: the card and the answers show
 * it), or undefined when its executor is bound.
 */
export function cannotRunWith(
  executors: ReadonlyMap<RemediationAction, BoundExecutor>,
  language?: Language,
): (action: string) => string | undefined {
  const words = messagesFor(language).cannotRun;
  return (action) =>
    executors.has(action as RemediationAction)
      ? undefined
      : words[MISSING[action as RemediationAction] ?? "noExecutor"];
}

/**
 * What the roles beyond intake need: the registry (owners, SLOs, links, allowed repairs), the
 * executors' clients bound to what is configured, and the LLM providers with their model checks
 * (each configured model checked once per process, shared by the chain and /status). Intake
 * alone loads none of it; in webhook mode the http role answers commands, so it does. A broken
 * registry or targets file stops start-up here.
 */
export async function openRoleClients(
  config: Readonly<Config>,
  roles: ReadonlySet<string>,
  infra: Pick<Infrastructure, "redis">,
  shutdown: Shutdown,
  logger: Logger,
) {
  const handlesUpdates = roles.has("bot") || (roles.has("http") && config.telegram.webhook !== undefined);
  const needsRegistry = roles.has("worker") || handlesUpdates;
  const registry = needsRegistry ? await loadRegistry(config.registryPath) : undefined;
  const { kube, targets, chainSettings } = await openRepairClients(
    config,
    infra.redis,
    needsRegistry,
    shutdown,
  );
  // bound for every role: the bot's cards and Approve must know what can run, too
  const executors = boundExecutors(config, { kube, targets });
  const llmSlots = createProviders(config.llm);
  const modelChecks = new ModelChecks(llmSlots);
  if (roles.has("worker") || roles.has("bot")) void logModelChecks(modelChecks, logger);
  return {
    registry,
    kube,
    targets,
    chainSettings,
    executors,
    cannotRun: cannotRunWith(executors, config.language),
    llmSlots,
    modelChecks,
  };
}

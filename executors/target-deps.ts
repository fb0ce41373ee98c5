// The deps of the executors that act on configured targets (the targets file) and on the chain's
// own settings, built once at start-up. Clients to the targets connect on first use and are
// closed by `close()`.
import type { ChainSettingsStore } from "../kv/chain-settings.js";
import { type ProviderName } from "../domain/llm.js";
import type { CleanupLogsDeps } from "./cleanup-logs.js";
import { redisTargetClients, type ClearCacheDeps } from "./clear-cache.js";
import type { FallbackAiDeps } from "./fallback-ai.js";
import type { RenewCertDeps } from "./renew-cert.js";
import type { SwitchModelDeps } from "./switch-model.js";
import type { RepairTargets } from "./targets.js";
import { postgresTargetClients, type VacuumDbDeps } from "./vacuum-db.js";

export interface TargetDepsInput {
  targets: RepairTargets;
  settings: ChainSettingsStore;
  ollama: SwitchModelDeps["ollama"];
  /** `config.llm.chain`. */
  chain: readonly ProviderName[];
  /** The providers of the chain that have their settings (FALLBACK_AI never skips to an unconfigured one). */
  configuredProviders: readonly ProviderName[];
  overrideTtlSeconds?: number;
}

export interface TargetDeps {
  deps: {
    CLEAR_CACHE: ClearCacheDeps;
    VACUUM_DB: VacuumDbDeps;
    RENEW_CERT: RenewCertDeps;
    CLEANUP_LOGS: CleanupLogsDeps;
    SWITCH_MODEL: SwitchModelDeps;
    FALLBACK_AI: FallbackAiDeps;
  };
  close(): Promise<void>;
}

export function createTargetDeps(input: TargetDepsInput): TargetDeps {
  const redis = redisTargetClients(input.targets.clear_cache);
  const postgres = postgresTargetClients(input.targets.vacuum_db);
  const ttl = input.overrideTtlSeconds === undefined ? {} : { ttlSeconds: input.overrideTtlSeconds };
  return {
    deps: {
      CLEAR_CACHE: { targets: input.targets.clear_cache, client: redis.client },
      VACUUM_DB: { targets: input.targets.vacuum_db, client: postgres.client },
      RENEW_CERT: { certificates: input.targets.renew_cert },
      CLEANUP_LOGS: { config: input.targets.cleanup_logs },
      SWITCH_MODEL: { settings: input.settings, ollama: input.ollama, chain: input.chain, ...ttl },
      FALLBACK_AI: {
        settings: input.settings,
        chain: input.chain.filter((provider) => input.configuredProviders.includes(provider)),
        ...ttl,
      },
    },
    close: async () => {
      await Promise.all([redis.close(), postgres.close()]);
    },
  };
}

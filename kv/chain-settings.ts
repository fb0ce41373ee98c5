// The chain's own settings that SWITCH_MODEL and FALLBACK_AI change at run time: a different
// Ollama model, and providers to skip. They live in Redis so every workers' process or thread sees them,
// and each expires on its own, so an override lasts a while and then the configuration rules again.
import type { Redis } from "ioredis";
import { PROVIDER_NAMES, type ProviderName } from "../domain/llm.js";

/** How long an override lasts unless the caller says otherwise. */
export const DEFAULT_OVERRIDE_TTL_SECONDS = 3600;

export interface ChainOverrides {
  /** The model Ollama is asked for instead of the configured one. */
  ollamaModel?: { model: string; expiresAt: string };
  /** Providers the chain passes over, each until its own time. */
  skipped: { provider: ProviderName; expiresAt: string }[];
}

/** What the chain reads before every analysis. */
export interface ChainSettingsSource {
  get(): Promise<ChainOverrides>;
}

export interface ChainSettingsStore extends ChainSettingsSource {
  setOllamaModel(model: string, ttlSeconds: number): Promise<void>;
  skipProvider(provider: ProviderName, ttlSeconds: number): Promise<void>;
  /** Back to the configuration: every override removed. */
  clear(): Promise<void>;
}

export class RedisChainSettings implements ChainSettingsStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private get modelKey(): string {
    return `${this.prefix}:ai:settings:ollama-model`;
  }

  private skipKey(provider: ProviderName): string {
    return `${this.prefix}:ai:settings:skip:${provider}`;
  }

  async get(): Promise<ChainOverrides> {
    const keys = [this.modelKey, ...PROVIDER_NAMES.map((p) => this.skipKey(p))];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.get(key).pttl(key);
    const replies = await pipeline.exec();
    if (replies === null) throw new Error("reading the chain settings was aborted");
    const failed = replies.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    const at = (index: number): { value: string; expiresAt: string } | undefined => {
      const value = replies[index * 2]?.[1];
      const ttl = Number(replies[index * 2 + 1]?.[1] ?? -2);
      if (typeof value !== "string" || ttl < 0) return undefined;
      return { value, expiresAt: new Date(this.now() + ttl).toISOString() };
    };
    const model = at(0);
    const skipped = PROVIDER_NAMES.flatMap((provider, i) => {
      const entry = at(i + 1);
      return entry === undefined ? [] : [{ provider, expiresAt: entry.expiresAt }];
    });
    return {
      ...(model === undefined ? {} : { ollamaModel: { model: model.value, expiresAt: model.expiresAt } }),
      skipped,
    };
  }

  async setOllamaModel(model: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.modelKey, model, "EX", positive(ttlSeconds));
  }

  async skipProvider(provider: ProviderName, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.skipKey(provider), "1", "EX", positive(ttlSeconds));
  }

  async clear(): Promise<void> {
    await this.redis.del(this.modelKey, ...PROVIDER_NAMES.map((p) => this.skipKey(p)));
  }
}

function positive(ttlSeconds: number): number {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new Error(`TTL must be whole seconds > 0, not ${ttlSeconds}`);
  return ttlSeconds;
}

// Daily token and cost spend per provider, kept in Redis so every worker shares one budget.
// Keys live two days, so yesterday's figures stay readable across midnight and then vanish.
import type { Redis } from "ioredis";
import { type ProviderName } from "../domain/llm.js";

export interface BudgetUsage {
  tokens: number;
  cost: number;
}

export interface BudgetStore {
  /** Adds to the day's spend and returns the new totals. */
  add(provider: ProviderName, day: string, tokens: number, cost: number): Promise<BudgetUsage>;
  get(provider: ProviderName, day: string): Promise<BudgetUsage>;
}

const TTL_SECONDS = 2 * 24 * 3600;

/** The budget day of `at`, in UTC: `2026-03-29`. */
export function budgetDay(at: number | Date): string {
  return new Date(at).toISOString().slice(0, 10);
}

export class RedisBudgetStore implements BudgetStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keys(provider: ProviderName, day: string): { tokens: string; cost: string } {
    const base = `${this.prefix}:ai:budget:${provider}:${day}`;
    return { tokens: `${base}:tokens`, cost: `${base}:cost` };
  }

  async add(provider: ProviderName, day: string, tokens: number, cost: number): Promise<BudgetUsage> {
    const keys = this.keys(provider, day);
    const results = await this.redis
      .multi()
      .incrby(keys.tokens, Math.max(0, Math.round(tokens)))
      .incrbyfloat(keys.cost, Math.max(0, cost))
      .expire(keys.tokens, TTL_SECONDS)
      .expire(keys.cost, TTL_SECONDS)
      .exec();
    if (results === null) throw new Error("budget update was aborted (MULTI/EXEC returned null)");
    const failed = results.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    return { tokens: Number(results[0]?.[1] ?? 0), cost: Number(results[1]?.[1] ?? 0) };
  }

  async get(provider: ProviderName, day: string): Promise<BudgetUsage> {
    const keys = this.keys(provider, day);
    const [tokens, cost] = await this.redis.mget(keys.tokens, keys.cost);
    return { tokens: Number(tokens ?? 0), cost: Number(cost ?? 0) };
  }
}

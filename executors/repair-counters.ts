// Automatic-repair counters shared by every process: a sliding one-hour window in Redis sorted
// sets, and a cool-off key per resource after a failed repair. Reserving a slot is one Lua
// script, so two processes can never both take the last one.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { RepairCounters } from "../domain/decide.js";

const HOUR_MS = 3_600_000;

// KEYS: all, resource, cooldown. ARGV: now, window, maxAll, maxResource, member.
// Returns {reserved (1/0), countAll, countResource, cooldownMs}.
const RESERVE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now - window)
local all = redis.call("ZCARD", KEYS[1])
local resource = redis.call("ZCARD", KEYS[2])
local cooldown = redis.call("PTTL", KEYS[3])
if cooldown < 0 then cooldown = 0 end
if cooldown > 0 or all >= tonumber(ARGV[3]) or resource >= tonumber(ARGV[4]) then
  return {0, all, resource, cooldown}
end
redis.call("ZADD", KEYS[1], now, ARGV[5])
redis.call("ZADD", KEYS[2], now, ARGV[5])
redis.call("PEXPIRE", KEYS[1], window)
redis.call("PEXPIRE", KEYS[2], window)
return {1, all + 1, resource + 1, 0}
`;

const READ = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local all = redis.call("ZCOUNT", KEYS[1], now - window, "+inf")
local resource = redis.call("ZCOUNT", KEYS[2], now - window, "+inf")
local cooldown = redis.call("PTTL", KEYS[3])
if cooldown < 0 then cooldown = 0 end
return {all, resource, cooldown}
`;

export interface Reservation {
  reserved: boolean;
  /** Counts after the attempt. */
  counters: RepairCounters;
  /** Gives the slot back (the repair did not run after all). */
  release(): Promise<void>;
}

export class RepairCountersStore {
  constructor(
    private readonly redis: Pick<Redis, "eval" | "zrem" | "set">,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(resource: string): [string, string, string] {
    const base = `${this.prefix}:repairs`;
    return [`${base}:all`, `${base}:resource:${resource}`, `${base}:cooldown:${resource}`];
  }

  async read(resource: string): Promise<RepairCounters> {
    const [all, one, cooldown] = (await this.redis.eval(
      READ,
      3,
      ...this.keys(resource),
      this.now(),
      HOUR_MS,
    )) as number[];
    return {
      lastHour: all ?? 0,
      resourceLastHour: one ?? 0,
      cooldownSeconds: Math.ceil((cooldown ?? 0) / 1000),
    };
  }

  /** Takes one automatic-repair slot if the hourly budgets and the cool-off allow it. */
  async reserve(
    resource: string,
    limits: { maxPerHour: number; maxPerResourcePerHour: number },
  ): Promise<Reservation> {
    const keys = this.keys(resource);
    const member = `${this.now()}:${randomUUID()}`;
    const [reserved, all, one, cooldown] = (await this.redis.eval(
      RESERVE,
      3,
      ...keys,
      this.now(),
      HOUR_MS,
      limits.maxPerHour,
      limits.maxPerResourcePerHour,
      member,
    )) as number[];
    return {
      reserved: reserved === 1,
      counters: {
        lastHour: all ?? 0,
        resourceLastHour: one ?? 0,
        cooldownSeconds: Math.ceil((cooldown ?? 0) / 1000),
      },
      release: async () => {
        if (reserved !== 1) return;
        await this.redis.zrem(keys[0], member);
        await this.redis.zrem(keys[1], member);
      },
    };
  }

  /** After a failed repair: no automatic repair of this resource for `seconds`. */
  async startCooldown(resource: string, seconds: number): Promise<void> {
    if (seconds <= 0) return;
    await this.redis.set(this.keys(resource)[2], String(this.now()), "EX", seconds);
  }
}

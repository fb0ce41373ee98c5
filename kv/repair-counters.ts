// Automatic-repair counters shared by every process: a sliding one-hour window in Redis sorted
// sets, and a cool-off key per resource after a failed repair. Reserving a slot is one Lua
// script, so two processes can never both take the last one.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";
import type { RepairCounters } from "../domain/decide.js";

const HOUR_MS = 3_600_000;

export interface Reservation {
  reserved: boolean;
  /** Counts after the attempt. */
  counters: RepairCounters;
  /** Gives the slot back (the repair did not run after all). */
  release(): Promise<void>;
}

export class RepairCountersStore {
  constructor(
    private readonly redis: ScriptRedis & Pick<Redis, "zrem" | "set">,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(resource: string): [string, string, string] {
    const base = `${this.prefix}:repairs`;
    return [`${base}:all`, `${base}:resource:${resource}`, `${base}:cooldown:${resource}`];
  }

  async read(resource: string): Promise<RepairCounters> {
    const [all, one, cooldown] = (await runScript(this.redis, SCRIPTS.repairRead, this.keys(resource), [
      this.now(),
      HOUR_MS,
    ])) as number[];
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
    const [reserved, all, one, cooldown] = (await runScript(this.redis, SCRIPTS.repairReserve, keys, [
      this.now(),
      HOUR_MS,
      limits.maxPerHour,
      limits.maxPerResourcePerHour,
      member,
    ])) as number[];
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

// Brakes on guessing: failed authentications per source address in a sliding window shared by
// every HTTP process. Past the limit the address is refused for the rest of the window (429 with
// Retry-After) before any credential is even looked at.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

export interface AuthBrakeLimits {
  /** Failed attempts an address may make per window. */
  failures: number;
  windowMs: number;
}

export const AUTH_BRAKE: AuthBrakeLimits = { failures: 20, windowMs: 60_000 };

export class AuthBrake {
  constructor(
    private readonly redis: ScriptRedis & Pick<Redis, "set">,
    private readonly prefix: string,
    readonly limits: AuthBrakeLimits = AUTH_BRAKE,
  ) {}

  private key(address: string): string {
    return `${this.prefix}:auth-failures:${address}`;
  }

  /** 0 when `address` may try, else the milliseconds until it may try again. */
  async waitFor(address: string): Promise<number> {
    const count = Number(
      await runScript(this.redis, SCRIPTS.windowCount, [this.key(address)], [this.limits.windowMs]),
    );
    return count < this.limits.failures ? 0 : this.limits.windowMs;
  }

  /** Counts a failed attempt of `address`. */
  async failed(address: string): Promise<void> {
    await runScript(
      this.redis,
      SCRIPTS.windowTake,
      [this.key(address)],
      [this.limits.windowMs, this.limits.failures, randomUUID()],
    );
  }

  /** True once per burst (per window) of refusals of `address`: the one worth a log line. */
  async firstRefusal(address: string): Promise<boolean> {
    const set = await this.redis.set(`${this.key(address)}:told`, "1", "PX", this.limits.windowMs, "NX");
    return set !== null;
  }
}

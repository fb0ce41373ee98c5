// Brakes on guessing: failed authentications per source address in a sliding window shared by
// every HTTP process. Past the limit the address is refused for the rest of the window (429 with
// Retry-After) before any credential is even looked at.
//
// Every request asks whether its address is braked, and nearly every answer is "no": an address
// found clear is remembered as clear for CLEAR_FOR_MS, so a sender that authenticates well costs
// no Redis round trip per delivery. A failure counted by this process forgets the address at once
// (its next request asks Redis again); one counted by another HTTP process is seen here within
// CLEAR_FOR_MS.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

export interface AuthBrakeLimits {
  /** Failed attempts an address may make per window. */
  failures: number;
  windowMs: number;
}

export const AUTH_BRAKE: AuthBrakeLimits = { failures: 20, windowMs: 60_000 };

/** How long an address found clear is taken as clear without asking Redis again. */
export const CLEAR_FOR_MS = 1_000;
/** Addresses remembered as clear at most; past it the memory starts over (a flood of addresses). */
const MAX_REMEMBERED = 10_000;

export class AuthBrake {
  /** Address → until when it counts as clear (ms since epoch). */
  private readonly clearUntil = new Map<string, number>();
  /** Failures counted by this process so far: an answer older than one of them is not remembered. */
  private failures = 0;

  constructor(
    private readonly redis: ScriptRedis & Pick<Redis, "set">,
    private readonly prefix: string,
    readonly limits: AuthBrakeLimits = AUTH_BRAKE,
  ) {}

  private key(address: string): string {
    return `${this.prefix}:auth-failures:${address}`;
  }

  /** True when `address` was found clear within CLEAR_FOR_MS: it may try, no need to ask Redis. */
  knownClear(address: string): boolean {
    return (this.clearUntil.get(address) ?? 0) > Date.now();
  }

  /** 0 when `address` may try, else the milliseconds until it may try again. */
  async waitFor(address: string): Promise<number> {
    if (this.knownClear(address)) return 0;
    const now = Date.now();
    const failuresBefore = this.failures;
    const count = Number(
      await runScript(this.redis, SCRIPTS.windowCount, [this.key(address)], [this.limits.windowMs]),
    );
    if (count >= this.limits.failures) {
      this.clearUntil.delete(address);
      return this.limits.windowMs;
    }
    // a failure counted while Redis answered may have come from this address: ask again next time
    if (failuresBefore !== this.failures) return 0;
    if (this.clearUntil.size >= MAX_REMEMBERED) this.clearUntil.clear();
    this.clearUntil.set(address, now + CLEAR_FOR_MS);
    return 0;
  }

  /** Counts a failed attempt of `address`. */
  async failed(address: string): Promise<void> {
    this.failures += 1;
    this.clearUntil.delete(address);
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

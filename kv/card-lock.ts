// Cards of one incident are synced one at a time across every process: a lock per incident (and
// per storm summary card, named `storm-<id>`), held by a random token and released only by its holder. The lock lives briefly and its holder renews
// it while the sync runs (a Telegram flood wait can last minutes), so a holder that dies (SIGKILL,
// a lost node) leaves it behind for seconds, not for as long as the longest sync could take. When
// the chat's flood budget is spent, one delayed retry per incident waits (however many changes
// arrive meanwhile): the "deferred" claim.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

export class CardLocks {
  constructor(
    private readonly redis: ScriptRedis & Pick<Redis, "set">,
    private readonly prefix: string,
  ) {}

  private lockKey(incidentId: string): string {
    return `${this.prefix}:lock:card:${incidentId}`;
  }

  private deferredKey(incidentId: string): string {
    return `${this.prefix}:deferred:card:${incidentId}`;
  }

  /** The holder's token when this call took the incident's lock for `ms`; undefined when another holds it. */
  async acquire(incidentId: string, ms: number): Promise<string | undefined> {
    const token = randomUUID();
    const taken = await this.redis.set(this.lockKey(incidentId), token, "PX", ms, "NX");
    return taken === null ? undefined : token;
  }

  /** True when `token` still held the lock and now holds it for another `ms`. */
  async renew(incidentId: string, token: string, ms: number): Promise<boolean> {
    return (await runScript(this.redis, SCRIPTS.extendLease, [this.lockKey(incidentId)], [token, ms])) === 1;
  }

  /** Releases the lock if `token` still holds it (an expired lock may be another's by now). */
  async release(incidentId: string, token: string): Promise<void> {
    await runScript(this.redis, SCRIPTS.releaseLock, [this.lockKey(incidentId)], [token]);
  }

  /**
   * The id of the deferred retry the card job `claimant` is to queue for the incident (due within
   * `ms`): `retryId` when this call took the incident's one claim; the id an earlier attempt of the
   * same job claimed with, when that attempt holds it (its add may have failed, or its answer been
   * lost: adding a job id BullMQ already has changes nothing); undefined when another job holds it.
   */
  async claimDeferred(
    incidentId: string,
    claimant: string,
    retryId: string,
    ms: number,
  ): Promise<string | undefined> {
    const held = await runScript(
      this.redis,
      SCRIPTS.claimOnce,
      [this.deferredKey(incidentId)],
      [`${claimant}\n${retryId}`, ms],
    );
    if (typeof held !== "string") return retryId;
    const newline = held.indexOf("\n");
    return held.slice(0, newline) === claimant ? held.slice(newline + 1) : undefined;
  }

  /**
   * The deferred retry is running: the next change that finds the budget spent queues a new one.
   * A claim `running` took itself (an earlier attempt of it, deferred again) stays, so that this
   * attempt queues that same retry rather than a second one.
   */
  async clearDeferred(incidentId: string, running: string): Promise<void> {
    await runScript(this.redis, SCRIPTS.clearClaim, [this.deferredKey(incidentId)], [running]);
  }
}

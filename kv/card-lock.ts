// Cards of one incident are synced one at a time across every process: a lock per incident (and
// per storm summary card, named `storm-<id>`), held by a random token and released only by its holder. The lock lives briefly and its holder renews
// it while the sync runs (a Telegram flood wait can last minutes), so a holder that dies (SIGKILL,
// a lost node) leaves it behind for seconds, not for as long as the longest sync could take. When
// the chat's flood budget is spent, one delayed retry per incident waits (however many changes
// arrive meanwhile): the "deferred" claim. And while an incident's card job is still waiting in the
// queue, the ingest asks for no second one of the same rank and kind: the "pending" claim.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

/**
 * A card asked for: the incident, the rank (BullMQ priority, 0 for none) its job has in the queue,
 * and whether it is a repeat's, shown a little later (jobs/ingest.processor.ts).
 */
export interface PendingCard {
  incidentId: string;
  rank: number;
  later: boolean;
}

export class CardLocks {
  constructor(
    private readonly redis: ScriptRedis & Pick<Redis, "set" | "del" | "pipeline">,
    private readonly prefix: string,
  ) {}

  private lockKey(incidentId: string): string {
    return `${this.prefix}:lock:card:${incidentId}`;
  }

  private deferredKey(incidentId: string): string {
    return `${this.prefix}:deferred:card:${incidentId}`;
  }

  private pendingKey({ incidentId, rank, later }: PendingCard): string {
    return `${this.prefix}:pending:card:${incidentId}:${rank}${later ? ":later" : ""}`;
  }

  /**
   * For each request, whether this call claimed it: true when no card job of that incident, rank
   * and kind was marked still waiting, so the caller queues one (and marks it, for `ms`); false when one
   * waits already, which shows the incident as it is when it starts, this change included. One
   * round trip however many incidents.
   */
  async claimPending(requests: readonly PendingCard[], ms: number): Promise<boolean[]> {
    if (requests.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const card of requests) pipeline.set(this.pendingKey(card), "1", "PX", ms, "NX");
    const replies = (await pipeline.exec()) ?? [];
    return requests.map((_, index) => {
      const [error, reply] = replies[index] ?? [new Error("no reply")];
      if (error !== null && error !== undefined) throw error;
      return reply !== null;
    });
  }

  /**
   * The card job is starting (before it reads the incident): a change from now on queues a new
   * one. Also what a caller does with the claims of jobs it then failed to queue.
   */
  async clearPending(card: PendingCard): Promise<void> {
    await this.redis.del(this.pendingKey(card));
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

  /** True when this call is the one to queue the incident's deferred retry (due within `ms`). */
  async claimDeferred(incidentId: string, token: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.deferredKey(incidentId), token, "PX", ms, "NX")) !== null;
  }

  /** The deferred retry is running: the next change that finds the budget spent queues a new one. */
  async clearDeferred(incidentId: string): Promise<void> {
    await this.redis.del(this.deferredKey(incidentId));
  }
}

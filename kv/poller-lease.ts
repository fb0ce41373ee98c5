// Who long-polls Telegram. Telegram allows one getUpdates consumer per bot token: a second one ends
// the first with 409 and they take turns failing. So the bot processes in polling mode share one
// lease in Redis: the holder polls, the others are hot standbys that try to take it every few
// moments. The holder renews it well before it lapses; a holder that dies (SIGKILL, a lost node)
// stops renewing, the lease lapses after its time to live and a standby takes over. Keyed by the
// bot's id (the token's numeric prefix), so two bots sharing a Redis and a prefix never block each other.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

export class PollerLease {
  /** This process's token: the value of the key while it holds the lease. */
  readonly holder = randomUUID();
  private readonly key: string;

  constructor(
    private readonly redis: ScriptRedis & Pick<Redis, "set">,
    prefix: string,
    botId: number,
  ) {
    this.key = `${prefix}:lease:telegram-poller:${botId}`;
  }

  /** True when this process holds the lease now (taken, or already its own), for `ms`. */
  async acquire(ms: number): Promise<boolean> {
    if ((await this.redis.set(this.key, this.holder, "PX", ms, "NX")) !== null) return true;
    return this.renew(ms);
  }

  /** True when this process still held the lease and now holds it for another `ms`. */
  async renew(ms: number): Promise<boolean> {
    return (await runScript(this.redis, SCRIPTS.extendLease, [this.key], [this.holder, ms])) === 1;
  }

  /** Gives the lease up if this process holds it, so a standby need not wait for it to lapse. */
  async release(): Promise<void> {
    await runScript(this.redis, SCRIPTS.releaseLock, [this.key], [this.holder]);
  }
}

// The dead-man's switch's memory: when each heartbeat alert (Watchdog) last arrived, and whether
// the "alerting pipeline silent" incident is raised for it. Shared by every process; the check
// job (jobs/heartbeat.processor.ts) reads it, the ingest processor writes it.
import type { Redis } from "ioredis";

export interface HeartbeatState {
  name: string;
  lastSeenAt: Date;
  /** Set while the pipeline counts as silent (the P0 is raised). */
  silentSince?: Date;
}

export class HeartbeatStore {
  constructor(
    private readonly redis: Pick<Redis, "hset" | "hgetall" | "hdel" | "hsetnx">,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:heartbeats`;
  }

  /**
   * Records an arrival; answers since when the pipeline had been declared silent, if it was. The
   * mark stays until `clearSilent`, called once the incident is resolved, so a job that stops in
   * between resolves it when it runs again.
   */
  async beat(name: string, at: Date): Promise<{ silentSince?: Date }> {
    await this.redis.hset(this.key, `last:${name}`, String(at.getTime()));
    const silent = (await this.redis.hgetall(this.key))[`silent:${name}`];
    return silent === undefined ? {} : { silentSince: new Date(Number(silent)) };
  }

  /** The pipeline is heard again and its incident resolved. */
  async clearSilent(name: string): Promise<void> {
    await this.redis.hdel(this.key, `silent:${name}`);
  }

  /** Marks `name` silent since `since`; false when another process did so first. */
  async markSilent(name: string, since: Date): Promise<boolean> {
    return (await this.redis.hsetnx(this.key, `silent:${name}`, String(since.getTime()))) === 1;
  }

  async read(): Promise<HeartbeatState[]> {
    const all = await this.redis.hgetall(this.key);
    const states: HeartbeatState[] = [];
    for (const [field, value] of Object.entries(all)) {
      if (!field.startsWith("last:")) continue;
      const name = field.slice(5);
      const silent = all[`silent:${name}`];
      states.push({
        name,
        lastSeenAt: new Date(Number(value)),
        ...(silent === undefined ? {} : { silentSince: new Date(Number(silent)) }),
      });
    }
    return states;
  }
}

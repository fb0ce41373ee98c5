// The dedup window (10 minutes per fingerprint by default): which incident an alert identity opened or
// repeated lately, shared by every process. A sliding window: each firing renews it, so the
// identity stays "just seen" while repeats keep arriving.
import type { Redis } from "ioredis";
import type { AlertSource } from "../domain/incident.js";

export class DedupWindow {
  constructor(
    private readonly redis: Pick<Redis, "get" | "set">,
    private readonly prefix: string,
    /** How long a fingerprint counts as "just seen", per source (seconds). */
    private readonly ttlSeconds: Readonly<Record<AlertSource, number>>,
  ) {}

  private key(source: AlertSource, fingerprint: string): string {
    return `${this.prefix}:dedup:${source}:${fingerprint}`;
  }

  /** The incident this identity fired for within the window, if any. */
  async recent(source: AlertSource, fingerprint: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(source, fingerprint))) ?? undefined;
  }

  /** Starts (or renews) the window of this identity for `incidentId`. */
  async seen(source: AlertSource, fingerprint: string, incidentId: string): Promise<void> {
    await this.redis.set(this.key(source, fingerprint), incidentId, "EX", this.ttlSeconds[source]);
  }
}

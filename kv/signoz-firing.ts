// What the SigNoz poller found firing after its last poll, shared by every process, so the next
// poll (on whichever worker) can resolve what is healthy again. Stored as JSON; the poller
// validates what it reads (another version of the bot may have written it).
import type { Redis } from "ioredis";

export class SignozFiringSet {
  constructor(
    private readonly redis: Pick<Redis, "get" | "set">,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:signoz:firing`;
  }

  /** The entries written after the last poll; undefined before the first, or when unreadable. */
  async read(): Promise<unknown> {
    const stored = await this.redis.get(this.key);
    if (stored === null) return undefined;
    try {
      return JSON.parse(stored) as unknown;
    } catch {
      return undefined;
    }
  }

  async write(entries: readonly unknown[]): Promise<void> {
    await this.redis.set(this.key, JSON.stringify(entries));
  }
}

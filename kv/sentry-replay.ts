// The Sentry replay window: the Request-ID of every accepted Sentry delivery, kept as long as a
// delivery's timestamp counts as fresh, so the same signed body sent again is refused instead of
// counted twice. One SET NX per delivery, shared by every process.
import type { Redis } from "ioredis";

export class SentryReplayGuard {
  constructor(
    private readonly redis: Pick<Redis, "set" | "del">,
    private readonly prefix: string,
    /** How long a Request-ID is remembered (seconds): at least the timestamp window, both ways. */
    private readonly rememberSeconds: number,
  ) {}

  private key(requestId: string): string {
    return `${this.prefix}:sentry-request:${requestId}`;
  }

  /** "first" when this Request-ID was not seen in the window (and is now recorded), else "seen". */
  async claim(requestId: string): Promise<"first" | "seen"> {
    const set = await this.redis.set(this.key(requestId), "1", "EX", this.rememberSeconds, "NX");
    return set === "OK" ? "first" : "seen";
  }

  /** Forgets a claim whose delivery was not accepted after all (the queue refused it), so a retry is taken. */
  async release(requestId: string): Promise<void> {
    await this.redis.del(this.key(requestId));
  }
}

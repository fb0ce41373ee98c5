// "Say it once a day": true the first time a key is asked within its window, false after, shared
// by every bot process. The bot's refusal to a stranger is said once, not to each message.
import type { Redis } from "ioredis";

export class SaidOnce {
  constructor(
    private readonly redis: Pick<Redis, "set">,
    private readonly prefix: string,
    private readonly windowSeconds = 24 * 3600,
  ) {}

  async first(what: string): Promise<boolean> {
    return (
      (await this.redis.set(`${this.prefix}:said:${what}`, "1", "EX", this.windowSeconds, "NX")) === "OK"
    );
  }
}

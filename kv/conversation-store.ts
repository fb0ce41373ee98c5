// Where dialogues wait between messages: Redis, so a dialogue started on one bot process can be
// answered on another and survives a restart. Each state is one JSON value under its own key; an
// abandoned one expires.
import type { Redis } from "ioredis";

/** A dialogue nobody answers for a day is forgotten. */
const TTL_SECONDS = 24 * 3600;

export class ConversationStore<State> {
  constructor(
    private readonly redis: Pick<Redis, "get" | "set" | "del">,
    private readonly prefix: string,
  ) {}

  private key(storageKey: string): string {
    return `${this.prefix}:conversation:${storageKey}`;
  }

  async read(storageKey: string): Promise<State | undefined> {
    const raw = await this.redis.get(this.key(storageKey));
    return raw === null ? undefined : (JSON.parse(raw) as State);
  }

  async write(storageKey: string, state: State): Promise<void> {
    await this.redis.set(this.key(storageKey), JSON.stringify(state), "EX", TTL_SECONDS);
  }

  async delete(storageKey: string): Promise<void> {
    await this.redis.del(this.key(storageKey));
  }
}

// Which other database lives have left queues under this REDIS_PREFIX (jobs/queues.ts keeps the
// queues that name rows under `<prefix>:<installation id>`). They are never read by this
// installation; start-up says once that they are there, so an operator who rebuilt the database
// knows why Redis still holds jobs, and can delete them.
import type { Redis } from "ioredis";

/** The installation ids, other than `own`, with a `<prefix>:<id>:<queue>:meta` key in Redis. */
export async function otherInstallations(
  redis: Redis,
  prefix: string,
  own: string,
  queue: string,
): Promise<string[]> {
  const found = new Set<string>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*:${queue}:meta`, "COUNT", 1000);
    cursor = next;
    for (const key of keys) {
      const id = key.slice(prefix.length + 1, key.length - `:${queue}:meta`.length);
      if (id !== own && /^[0-9a-f]{12}$/.test(id)) found.add(id);
    }
  } while (cursor !== "0");
  return [...found].sort();
}

// Whether Redis answers: one PING, for health checks and /status.
import type { Redis } from "ioredis";

export async function pingRedis(redis: Pick<Redis, "ping">): Promise<void> {
  await redis.ping();
}

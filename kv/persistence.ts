// Whether Redis keeps what the bot hands it: a webhook answers 2xx once its job is in Redis, so a
// Redis that keeps nothing on disk loses every accepted alert it still holds when it restarts.
// Read with CONFIG GET where allowed, else from INFO (managed Redis often forbids CONFIG).
import type { Redis } from "ioredis";

export type RedisPersistence =
  /** appendonly yes: every write is logged (fsync per second by default). */
  | { mode: "aof"; detail: string }
  /** Snapshots only: writes since the last one are lost on a crash. */
  | { mode: "rdb"; detail: string; snapshots: string }
  | { mode: "none"; detail: string }
  /** CONFIG is not allowed and INFO does not say enough. */
  | { mode: "unknown"; detail: string };

export async function redisPersistence(redis: Pick<Redis, "config" | "info">): Promise<RedisPersistence> {
  try {
    const [, appendonly] = (await redis.config("GET", "appendonly")) as string[];
    const [, save] = (await redis.config("GET", "save")) as string[];
    const snapshots = (save ?? "").trim();
    if (appendonly === "yes") return { mode: "aof", detail: "appendonly yes" };
    if (snapshots !== "") return { mode: "rdb", detail: `snapshots only (save ${snapshots})`, snapshots };
    return { mode: "none", detail: "appendonly no and no snapshots: it keeps nothing on disk" };
  } catch {
    const info = await redis.info("persistence");
    if (/^aof_enabled:1/m.test(info)) return { mode: "aof", detail: "appendonly yes (from INFO)" };
    return { mode: "unknown", detail: "CONFIG is not allowed and INFO shows no append-only file" };
  }
}

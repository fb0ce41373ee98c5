// CLEAR_CACHE: FLUSHDB on one Redis database named in the targets file (the action list, domain/actions.ts). An
// analysis only picks a configured name; the URL, and so the database, comes from the file.
import { Redis } from "ioredis";
import { z } from "zod";
import {
  type ExecutionResult,
  type Executor,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";
import { findTarget, TARGET_NAME, type RedisTarget } from "./targets.js";

export interface ClearCacheParams {
  /** A `clear_cache` name of the targets file, or one of its aliases. */
  target: string;
}

export interface ClearCacheDeps {
  targets: Readonly<Record<string, RedisTarget>>;
  /** The client of a configured target (created on first use). */
  client(name: string): Redis;
}

const params = z.strictObject({
  target: z.string().regex(TARGET_NAME, { error: "not a target name" }),
});

const before = z.object({ target: z.string(), dbsize: z.number() });

/** Where the URL points, without its password: for plans and the audit log. */
/** Whether a configured cache answers (for /status): one PING on its own client. */
export async function pingCacheTarget(deps: ClearCacheDeps, name: string): Promise<void> {
  await deps.client(name).ping();
}

export function describeRedisUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}/${parsed.pathname.replace(/^\//, "") || "0"}`;
}

function plan(input: ClearCacheParams, target?: { name: string; url: string }): PlannedCall[] {
  return [
    {
      api: "redis",
      method: "FLUSHDB",
      args: {
        target: target?.name ?? input.target,
        ...(target === undefined ? {} : { database: describeRedisUrl(target.url) }),
      },
    },
  ];
}

function resolve(deps: ClearCacheDeps, input: ClearCacheParams): { name: string; url: string } {
  const found = findTarget(deps.targets, input.target);
  if (found === undefined)
    throw new ExecutionFailure({ code: "no_redis_target", action: "CLEAR_CACHE", name: input.target });
  return { name: found.name, url: found.target.url };
}

export const clearCache: Executor<ClearCacheParams, ClearCacheDeps> = {
  name: "CLEAR_CACHE",
  description: "FLUSHDB on a Redis database listed in the targets file; every cached key is lost.",
  params,

  async guard(deps, input) {
    const found = findTarget(deps.targets, input.target);
    if (found === undefined) {
      return refusal("configured_target", {
        code: "cache_unlisted",
        target: input.target,
        configured: Object.keys(deps.targets).join(", "),
      });
    }
    try {
      await deps.client(found.name).ping();
    } catch (error) {
      return refusal("target_reachable", {
        code: "cache_unreachable",
        target: found.name,
        error: (error as Error).message,
      });
    }
    return { ok: true };
  },

  plan: (input) => plan(input),

  async execute(deps, input, context): Promise<ExecutionResult> {
    const target = resolve(deps, input);
    const calls = plan(input, target);
    const client = deps.client(target.name);
    const recorded = { target: target.name, dbsize: await client.dbsize() };
    if (context.dryRun) return { changed: false, calls, before: recorded };
    context.signal?.throwIfAborted();
    await client.flushdb();
    return { changed: true, calls, before: recorded };
  },

  async verify(deps, input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    const client = deps.client(previous.target);
    // a target that stopped answering fails here; the caller's deadline turns that into "failed"
    const dbsize = await client.dbsize();
    if (dbsize < previous.dbsize || dbsize === 0) {
      return verdict("recovered", {
        code: "cache_flushed",
        target: input.target,
        before: previous.dbsize,
        now: dbsize,
      });
    }
    return verdict("pending", {
      code: "cache_not_fewer",
      target: input.target,
      before: previous.dbsize,
      now: dbsize,
    });
  },
};

/** Lazily connected clients for the configured targets; `close()` quits the ones opened. */
export function redisTargetClients(
  targets: Readonly<Record<string, RedisTarget>>,
): Pick<ClearCacheDeps, "client"> & { close(): Promise<void> } {
  const clients = new Map<string, Redis>();
  return {
    client(name) {
      let client = clients.get(name);
      if (client === undefined) {
        const target = targets[name];
        if (target === undefined) throw new Error(`${name} is not a configured Redis target`);
        client = new Redis(target.url, {
          lazyConnect: true,
          connectTimeout: 5_000,
          maxRetriesPerRequest: 1,
          connectionName: "chatops-bot-clear-cache",
        });
        // errors surface on the commands; the client itself must not crash the process
        client.on("error", () => undefined);
        clients.set(name, client);
      }
      return client;
    },
    async close() {
      await Promise.all(
        [...clients.values()].map((client) => client.quit().catch(() => client.disconnect())),
      );
      clients.clear();
    },
  };
}

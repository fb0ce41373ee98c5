// The Lua scripts of kv/, kept as .lua files beside this module (kv/lua/), read once when the
// module loads, and run by their SHA1 (EVALSHA); a server that has not seen a script yet (a new
// server, a restart, SCRIPT FLUSH) answers NOSCRIPT and gets the source once (EVAL), as ioredis'
// own `defineCommand` does. Each script is atomic on the server: that is why they exist.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

export type ScriptRedis = Pick<Redis, "eval" | "evalsha">;

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function load(name: string): LuaScript {
  const source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8");
  return Object.freeze({ name, source, sha: createHash("sha1").update(source).digest("hex") });
}

export const SCRIPTS = Object.freeze({
  windowTake: load("window-take"),
  windowsTake: load("windows-take"),
  windowCount: load("window-count"),
  stormArrive: load("storm-arrive"),
  repairReserve: load("repair-reserve"),
  repairRead: load("repair-read"),
  releaseLock: load("release-lock"),
  extendLease: load("extend-lease"),
  claimOnce: load("claim-once"),
  clearClaim: load("clear-claim"),
});

/** Runs `script` with `keys` and `args`; the reply as Redis gives it. */
export async function runScript(
  redis: ScriptRedis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script.source, keys.length, ...keys, ...args);
  }
}

// What each process knows of its Telegram side (is it polling, in conflict, is the token refused,
// are calls failing), shared through Redis so that `/api/v1/health` and `/status` in any process
// see it, the http role included when the bot runs elsewhere. One hash per bot (keyed by the
// token's numeric prefix), one field per process, each report stamped with when it was written
// and how often its process writes: a reader tells a live report from the last words of a process
// that died (handlers/telegram-health.ts). A process that stops cleanly removes its field; the
// hash itself lapses a week after the last write, so a bot that is gone for good is forgotten.
import type { Redis } from "ioredis";

/** How a bot process receives updates right now. */
export type PollingState =
  /** getMe not answered yet, or the first poll not yet settled. */
  | "starting"
  | "polling"
  /** Another process of this installation holds the poller lease. */
  | "standby"
  /** Telegram ended this process's getUpdates with 409: someone else polls with this token. */
  | "conflict"
  /** Telegram answered 401: the token is not (or no longer) valid. */
  | "token_rejected"
  /** Polling ended and will not come back by itself. */
  | "stopped"
  /** Updates arrive by webhook; nobody polls. */
  | "webhook";

export interface TelegramProcessReport {
  /** Which process (host, pid and a random part). */
  process: string;
  /** When this report was written (ms since the epoch). */
  at: number;
  /** How often the process writes while it has anything to say (ms): a report older than a few of these is stale. */
  everyMs: number;
  /** Only from a process with the bot role. */
  polling?: { state: PollingState; since: number; detail?: string };
  /** Telegram answered 401 to a call of this process. */
  tokenRejected?: { since: number; method: string; description: string };
  /** Calls of this process that got no answer, or a 5xx, with no answered call since. */
  callsFailing?: { since: number; failures: number; method: string; error: string };
}

/** How long the hash outlives its last write. */
const KEEP_MS = 7 * 24 * 3_600_000;

export class TelegramHealthStore {
  private readonly key: string;

  constructor(
    private readonly redis: Pick<Redis, "multi" | "hdel" | "hgetall">,
    prefix: string,
    botId: number,
  ) {
    this.key = `${prefix}:telegram:health:${botId}`;
  }

  async write(report: TelegramProcessReport): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key, report.process, JSON.stringify(report))
      .pexpire(this.key, KEEP_MS)
      .exec();
  }

  async remove(...processes: string[]): Promise<void> {
    if (processes.length > 0) await this.redis.hdel(this.key, ...processes);
  }

  async readAll(): Promise<TelegramProcessReport[]> {
    const fields = await this.redis.hgetall(this.key);
    return Object.values(fields).flatMap((raw) => {
      try {
        const report = JSON.parse(raw) as TelegramProcessReport;
        return typeof report.process === "string" && typeof report.at === "number" ? [report] : [];
      } catch {
        return [];
      }
    });
  }
}

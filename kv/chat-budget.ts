// The bot's own sends per chat, shared by every process: a sliding 60 s window per chat in a Redis
// sorted set. Telegram allows a group about 20 messages a minute (edits included); a send that
// does not fit waits (its job is delayed and re-reads the incident then, which coalesces edits)
// instead of piling up in the client-side throttler.
import { randomUUID } from "node:crypto";
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

const MINUTE_MS = 60_000;

/** A private chat (a user id) versus a group, supergroup or channel (negative id or @name). */
function isPrivateChat(chatId: string): boolean {
  return /^\d+$/.test(chatId);
}

export interface ChatBudgetLimits {
  /** Sends (posts + edits) per 60 s to a group; Telegram's limit is 20, keep room for replies. */
  groupPerMinute: number;
  /** Sends per 60 s to a private chat; Telegram's limit is about one a second. */
  privatePerMinute: number;
}

export const TELEGRAM_BUDGET: ChatBudgetLimits = { groupPerMinute: 18, privatePerMinute: 60 };

/** Slots per window only urgent sends may take. */
const URGENT_RESERVE = 4;

/** The bot's own sends per chat, shared by every process through Redis. */
export class ChatBudget {
  constructor(
    private readonly redis: ScriptRedis,
    private readonly prefix: string,
    private readonly limits: ChatBudgetLimits = TELEGRAM_BUDGET,
  ) {}

  /**
   * Takes a slot for one send to `chatId`: 0 when taken, else the milliseconds until one frees.
   * "normal" sends (incident cards) leave the last few slots of the window to "urgent" ones (the
   * storm card, escalations), so a storm's own cards and edits cannot starve the summary.
   */
  async take(chatId: string, priority: "normal" | "urgent" = "normal"): Promise<number> {
    const full = isPrivateChat(chatId) ? this.limits.privatePerMinute : this.limits.groupPerMinute;
    const limit = priority === "urgent" ? full : Math.max(1, full - URGENT_RESERVE);
    const wait = await runScript(
      this.redis,
      SCRIPTS.windowTake,
      [`${this.prefix}:budget:${chatId}`],
      [MINUTE_MS, limit, randomUUID()],
    );
    return Number(wait);
  }
}

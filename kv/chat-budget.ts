// The bot's own sends per chat, shared by every process: a sliding 60 s window per chat in a Redis
// sorted set, and a short one that paces each chat. Telegram allows a group about 20 messages a
// minute (edits included), and any one chat about a message a second after a short burst
// (core.telegram.org/bots/faq: "avoid sending more than one message per second"); a send that
// does not fit either waits (its job is delayed and re-reads the incident then, which coalesces edits)
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
  /** At most this many sends to one chat within `paceWindowMs` (default 3 in 3 s: a burst, then 1/s). */
  paceBurst?: number;
  paceWindowMs?: number;
}

export const TELEGRAM_BUDGET: ChatBudgetLimits = {
  groupPerMinute: 18,
  privatePerMinute: 60,
  paceBurst: 3,
  paceWindowMs: 3_000,
};

/**
 * "urgent": the storm card, escalations, a new P0 card and edits of P0 cards; "normal": a new card;
 * "edit": an edit of a card already shown.
 */
export type SendPriority = "urgent" | "normal" | "edit";

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
  async take(chatId: string, priority: SendPriority = "normal"): Promise<number> {
    const full = isPrivateChat(chatId) ? this.limits.privatePerMinute : this.limits.groupPerMinute;
    const limit = priority === "urgent" ? full : Math.max(1, full - URGENT_RESERVE);
    // Urgent sends (the storm card, escalations, a new P0) are not paced here: they are few, the
    // minute's reserve bounds them, and within one process grammY's throttler spaces every send
    // to a chat a second apart. Paced with the card edits, either they would wait behind the
    // edits (a storm card first posted once its storm is over) or starve them.
    // An edit leaves the last slot of each pace window to a new card: edits of cards already shown
    // must not keep a new incident's card out of the chat.
    const burst = this.limits.paceBurst;
    const pace =
      burst === undefined || priority === "urgent"
        ? []
        : [
            {
              key: `${this.prefix}:pace:${chatId}`,
              ms: this.limits.paceWindowMs ?? 3_000,
              slots: priority === "edit" ? Math.max(1, burst - 1) : burst,
            },
          ];
    const windows = [{ key: `${this.prefix}:budget:${chatId}`, ms: MINUTE_MS, slots: limit }, ...pace];
    const wait = await runScript(
      this.redis,
      SCRIPTS.windowsTake,
      windows.map((w) => w.key),
      [randomUUID(), ...windows.flatMap((w) => [w.ms, w.slots])],
    );
    return Number(wait);
  }
}

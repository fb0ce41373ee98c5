// New incidents per chat, shared by every process: beyond the storm threshold per window a new
// incident is folded into the chat's storm summary card instead of getting its own (see
// handlers/storm.ts for what is shown where). A few folded incidents per window may still be
// promoted to their own card.
import { runScript, SCRIPTS, type ScriptRedis } from "./scripts.js";

export interface StormSettings {
  threshold: number;
  windowSeconds: number;
}

/** How many folded incidents per window may still get their own card (P0, awaiting approval). */
export function promotionLimit(threshold: number): number {
  return Math.max(1, Math.ceil(threshold / 2));
}

/** New incidents per chat, shared by every process through Redis. */
export class StormGate {
  constructor(
    private readonly redis: ScriptRedis,
    private readonly prefix: string,
    readonly settings: StormSettings,
  ) {}

  private get windowMs(): number {
    return this.settings.windowSeconds * 1000;
  }

  /** Counts the incident's arrival in the chat (once); true when it gets its own card. */
  async arrive(chatId: string, incidentId: string): Promise<boolean> {
    const others = await runScript(
      this.redis,
      SCRIPTS.stormArrive,
      [`${this.prefix}:storm:arrivals:${chatId}`, `${this.prefix}:storm:card:${chatId}:${incidentId}`],
      [this.windowMs, this.settings.threshold, incidentId, 24 * 3_600_000],
    );
    return Number(others) < this.settings.threshold;
  }

  /** New incidents in the chat during the last window. */
  async arrivals(chatId: string): Promise<number> {
    return Number(
      await runScript(
        this.redis,
        SCRIPTS.windowCount,
        [`${this.prefix}:storm:arrivals:${chatId}`],
        [this.windowMs],
      ),
    );
  }

  /** Takes one of the window's promotions for a folded incident; false when they are used up. */
  async promote(chatId: string, incidentId: string): Promise<boolean> {
    const wait = await runScript(
      this.redis,
      SCRIPTS.windowTake,
      [`${this.prefix}:storm:promoted:${chatId}`],
      [this.windowMs, promotionLimit(this.settings.threshold), incidentId],
    );
    return Number(wait) === 0;
  }
}

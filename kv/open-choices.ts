// Which card messages show Snooze's or Silence's choices instead of the card's own buttons. The
// bot (where the press lands) opens and closes them; the notify workers, maybe another process,
// read them before and after they edit a card, so an edit for another reason (a repeat firing,
// someone taking the incident) keeps the choices a person has just opened. Each record names the
// proposal the card offered when they were opened: a card that now offers another one shows its own
// buttons again, so the new Approve is seen. Choices left open longer than the window are
// forgotten: the next edit shows the card's own buttons.
import type { Redis } from "ioredis";

export type ChoiceVerb = "snooze" | "silence";

export interface OpenChoice {
  verb: ChoiceVerb;
  /** The card's Approve and Reject buttons when the choices were opened (callback data, "" for none). */
  proposal: string;
}

export class OpenChoices {
  constructor(
    private readonly redis: Pick<Redis, "set" | "get" | "del">,
    private readonly prefix: string,
    private readonly windowSeconds = 15 * 60,
  ) {}

  private key(chatId: number | string, messageId: number): string {
    return `${this.prefix}:choices:${chatId}:${messageId}`;
  }

  async open(chatId: number | string, messageId: number, choice: OpenChoice): Promise<void> {
    await this.redis.set(this.key(chatId, messageId), JSON.stringify(choice), "EX", this.windowSeconds);
  }

  async close(chatId: number | string, messageId: number): Promise<void> {
    await this.redis.del(this.key(chatId, messageId));
  }

  async shown(chatId: number | string, messageId: number): Promise<OpenChoice | undefined> {
    const value = await this.redis.get(this.key(chatId, messageId));
    if (value === null) return undefined;
    try {
      const { verb, proposal } = JSON.parse(value) as Partial<OpenChoice>;
      if ((verb === "snooze" || verb === "silence") && typeof proposal === "string")
        return { verb, proposal };
    } catch {
      // not a record this class wrote: nothing is open
    }
    return undefined;
  }
}

// Which card messages show Snooze's or Silence's choices instead of the card's own buttons. The
// bot (where the press lands) opens and closes them; the notify workers, maybe another process,
// read them before they edit a card, so an edit for another reason (the analysis arriving, a repeat
// firing, someone taking the incident) keeps the choices a person has just opened. Choices left
// open longer than the window are forgotten: the next edit shows the card's own buttons again.
import type { Redis } from "ioredis";

export type ChoiceVerb = "snooze" | "silence";

export class OpenChoices {
  constructor(
    private readonly redis: Pick<Redis, "set" | "get" | "del">,
    private readonly prefix: string,
    private readonly windowSeconds = 15 * 60,
  ) {}

  private key(chatId: number | string, messageId: number): string {
    return `${this.prefix}:choices:${chatId}:${messageId}`;
  }

  async open(chatId: number | string, messageId: number, verb: ChoiceVerb): Promise<void> {
    await this.redis.set(this.key(chatId, messageId), verb, "EX", this.windowSeconds);
  }

  async close(chatId: number | string, messageId: number): Promise<void> {
    await this.redis.del(this.key(chatId, messageId));
  }

  async shown(chatId: number | string, messageId: number): Promise<ChoiceVerb | undefined> {
    const verb = await this.redis.get(this.key(chatId, messageId));
    return verb === "snooze" || verb === "silence" ? verb : undefined;
  }
}

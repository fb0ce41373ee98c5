// Telegram's answers that mean "this chat takes no message from the bot", read into the neutral
// ChatRefusal: a group upgraded to a supergroup (400 with parameters.migrate_to_chat_id), a bot
// removed from a group or blocked by a user (403), a chat Telegram does not know (400 "chat not
// found"), a forum topic it does not know, deleted or never there (400 "message thread not found";
// a forum's General topic takes no thread id at all). Wording as the Bot API sends it (core.telegram.org/bots/api#responseparameters, and the
// 403 texts bot libraries match on, e.g. "Forbidden: bot was kicked from the supergroup chat").
import { GrammyError } from "grammy";
import type { ChatRefusal } from "../domain/card.js";

const REMOVED = ["bot was kicked", "bot is not a member", "bot was removed"];
const BLOCKED = ["bot was blocked by the user", "user is deactivated", "bot can't initiate conversation"];

/** The refusal `error` stands for, or undefined when it is some other failure (thrown on). */
export function chatRefusalOf(error: unknown): ChatRefusal | undefined {
  if (!(error instanceof GrammyError)) return undefined;
  const migratedTo = error.parameters.migrate_to_chat_id;
  if (error.error_code === 400 && migratedTo !== undefined) {
    return { kind: "migrated", toChatId: String(migratedTo) };
  }
  const text = error.description;
  if (error.error_code === 403 && REMOVED.some((words) => text.includes(words))) {
    return { kind: "unreachable", reason: "removed", description: text };
  }
  if (error.error_code === 403 && BLOCKED.some((words) => text.includes(words))) {
    return { kind: "unreachable", reason: "blocked", description: text };
  }
  if (error.error_code === 400 && text.includes("chat not found")) {
    return { kind: "unreachable", reason: "not_found", description: text };
  }
  if (error.error_code === 400 && text.includes("message thread not found")) {
    return { kind: "unreachable", reason: "topic_not_found", description: text };
  }
  return undefined;
}

/** Runs a send; a chat refusal comes back as a value, anything else is thrown. */
export async function refusedOr<T>(send: () => Promise<T>): Promise<T | ChatRefusal> {
  try {
    return await send();
  } catch (error) {
    const refusal = chatRefusalOf(error);
    if (refusal === undefined) throw error;
    return refusal;
  }
}

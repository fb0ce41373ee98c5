// Editing a message the bot sent earlier (a card, a keyboard, a drill-down page): the one place
// that knows which Telegram refusals mean "already so" and which mean "the message is gone".
import { GrammyError } from "grammy";

const NOT_MODIFIED = "message is not modified";
const GONE = ["message to edit not found", "message can't be edited", "MESSAGE_ID_INVALID"];

/**
 * Runs an edit: "updated" also when the message already shows this content (a retried job, a
 * double press), "gone" when it no longer exists (someone deleted it); anything else is thrown.
 */
export async function editInPlace(edit: () => Promise<unknown>): Promise<"updated" | "gone"> {
  try {
    await edit();
    return "updated";
  } catch (error) {
    if (error instanceof GrammyError) {
      if (error.description.includes(NOT_MODIFIED)) return "updated";
      if (GONE.some((text) => error.description.includes(text))) return "gone";
    }
    throw error;
  }
}

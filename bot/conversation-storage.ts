// Where the bot's dialogues wait between messages: one key per chat and user, so two people
// talking to the bot in the same group each have their own dialogue. In Redis (kv/) when the
// runtime gives a store, shared by every bot process; in memory otherwise.
import type { ConversationData, ConversationStorage, VersionedState } from "@grammyjs/conversations";
import type { ConversationStore } from "../kv/conversation-store.js";
import type { BotContext } from "./context.js";

export type DialogueState = VersionedState<ConversationData>;

export function conversationKey(ctx: BotContext): string | undefined {
  if (ctx.chatId === undefined || ctx.from === undefined) return undefined;
  return `${ctx.chatId}:${ctx.from.id}`;
}

export function conversationStorage(
  store?: Pick<ConversationStore<DialogueState>, "read" | "write" | "delete">,
): ConversationStorage<BotContext, ConversationData> {
  if (store === undefined) {
    const states = new Map<string, DialogueState>();
    return {
      type: "key",
      getStorageKey: conversationKey,
      adapter: {
        read: (key) => states.get(key),
        write: (key, state) => void states.set(key, state),
        delete: (key) => void states.delete(key),
      },
    };
  }
  return {
    type: "key",
    getStorageKey: conversationKey,
    adapter: {
      read: (key) => store.read(key),
      write: (key, state) => store.write(key, state),
      delete: (key) => store.delete(key),
    },
  };
}

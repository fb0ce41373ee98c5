// Where dialogues wait between messages: Redis, so a dialogue started on one bot process can be
// answered on another and survives a restart. One key per chat and user, so two people talking to
// the bot in the same group each have their own dialogue; an abandoned one expires.
import type { ConversationData, ConversationStorage, VersionedState } from "@grammyjs/conversations";
import type { Redis } from "ioredis";
import type { BotContext } from "./context.js";

/** A dialogue nobody answers for a day is forgotten. */
const TTL_SECONDS = 24 * 3600;

export function conversationKey(ctx: BotContext): string | undefined {
  if (ctx.chatId === undefined || ctx.from === undefined) return undefined;
  return `${ctx.chatId}:${ctx.from.id}`;
}

export function redisConversationStorage(
  redis: Redis,
  prefix: string,
): ConversationStorage<BotContext, ConversationData> {
  const key = (storageKey: string) => `${prefix}:conversation:${storageKey}`;
  return {
    type: "key",
    getStorageKey: conversationKey,
    adapter: {
      async read(storageKey) {
        const raw = await redis.get(key(storageKey));
        return raw === null ? undefined : (JSON.parse(raw) as VersionedState<ConversationData>);
      },
      async write(storageKey, state) {
        await redis.set(key(storageKey), JSON.stringify(state), "EX", TTL_SECONDS);
      },
      async delete(storageKey) {
        await redis.del(key(storageKey));
      },
    },
  };
}

// What Telegram tells the bot about the chats it is in: a group upgraded to a supergroup (the
// service messages migrate_to_chat_id in the old chat and migrate_from_chat_id in the new one),
// and the bot's own membership (my_chat_member: removed, blocked, added back). Each is handed to
// a use case (handlers/chat-delivery.ts); this file only reads the update.
import { Composer } from "grammy";
import type { UnreachableReason } from "../../domain/card.js";
import type { BotContext } from "../context.js";

export interface ChatMembershipDeps {
  migrated: (from: string, to: string) => Promise<unknown>;
  removed: (chatId: string, reason: UnreachableReason, description: string) => Promise<unknown>;
  restored: (chatId: string) => Promise<unknown>;
}

const GONE = new Set(["kicked", "left"]);

export function chatMembership(deps: ChatMembershipDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on("message:migrate_to_chat_id", async (ctx) => {
    await deps.migrated(String(ctx.chat.id), String(ctx.message.migrate_to_chat_id));
  });
  composer.on("message:migrate_from_chat_id", async (ctx) => {
    await deps.migrated(String(ctx.message.migrate_from_chat_id), String(ctx.chat.id));
  });
  composer.on("my_chat_member", async (ctx) => {
    const update = ctx.myChatMember;
    const chatId = String(update.chat.id);
    const status = update.new_chat_member.status;
    if (GONE.has(status)) {
      const privateChat = update.chat.type === "private";
      const by = update.from.username === undefined ? `user ${update.from.id}` : `@${update.from.username}`;
      await deps.removed(
        chatId,
        privateChat ? "blocked" : "removed",
        privateChat
          ? `the user blocked the bot (${by})`
          : `the bot was ${status === "left" ? "removed" : "kicked"} by ${by}`,
      );
    } else {
      // member, administrator, restricted: the bot can be written to there again
      await deps.restored(chatId);
    }
  });
  return composer;
}

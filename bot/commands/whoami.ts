// `/whoami`: the ids a team needs to set the bot up — this chat's id (TELEGRAM_CHAT_ID,
// TELEGRAM_ROUTES) and the user's own (TELEGRAM_APPROVER_IDS, TELEGRAM_VIEWER_IDS) — and what
// the bot makes of them. It answers anyone, anywhere (it says nothing about incidents), so it
// runs before the team check: setting the bot up is exactly when the chat is not configured yet.
// The log says the same when the bot is added to a chat.
import { Composer } from "grammy";
import type { Logger } from "pino";
import type { BotContext } from "../context.js";
import { isTeamChat } from "../features/team-only.js";

export interface WhoamiDeps {
  teamChats: () => Promise<readonly string[]>;
  approverIds: readonly number[];
  viewerIds: readonly number[];
  logger: Logger;
}

export function whoamiCommand(deps: WhoamiDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command("whoami", async (ctx) => {
    const chat = ctx.chat;
    const user = ctx.from;
    const t = ctx.messages.whoami;
    const lines = [t.chat({ id: String(chat.id), type: chat.type })];
    if (chat.type !== "private") {
      const username = "username" in chat ? chat.username : undefined;
      lines.push(
        isTeamChat(await deps.teamChats(), { id: chat.id, ...(username === undefined ? {} : { username }) })
          ? t.configured
          : t.notConfigured,
      );
    }
    if (user !== undefined) {
      const role = deps.approverIds.includes(user.id)
        ? t.approver
        : deps.viewerIds.includes(user.id)
          ? t.viewer
          : t.neither;
      lines.push(t.user({ id: String(user.id), role }));
    }
    await ctx.reply(lines.join("\n"));
  });
  composer.on("my_chat_member", async (ctx, next) => {
    const status = ctx.myChatMember.new_chat_member.status;
    deps.logger.info(
      { chat: ctx.chat.id, chatType: ctx.chat.type, status, by: ctx.myChatMember.from.id },
      `the bot is now ${status} in chat ${ctx.chat.id}`,
    );
    await next();
  });
  return composer;
}

// The bot speaks to its team only. In the team's chats (the default chat and the routes' chats)
// everyone there is the team; in a private chat only the approvers and the viewers
// (TELEGRAM_VIEWER_IDS) are. Anyone else, and any other group the bot was added to, gets one
// polite refusal that says nothing about incidents, and the attempt is audited. Updates that are
// not a person asking something (membership changes, service messages) pass untouched.
import { Composer } from "grammy";
import type { Chat, User } from "grammy/types";
import type { BotContext } from "../context.js";

export interface TeamDeps {
  /** The configured chats (`-100…` ids, or `@channel` usernames) and the supergroups they became. */
  teamChats: () => Promise<readonly string[]>;
  /** Approvers and viewers: who may use the bot in a private chat. */
  members: readonly number[];
  /** Audits a refused attempt (incident-free: nothing about incidents was shown). */
  refused: (input: { user: User | undefined; chat: Chat; what: string }) => Promise<void>;
  /** True the first time in a day a chat is refused: the refusal is said once, not to every message. */
  firstRefusal: (chatId: number) => Promise<boolean>;
}

/** Whether `chat` is one of `teamChats` (by id, or by @username for a channel configured so). */
export function isTeamChat(
  teamChats: readonly string[],
  chat: Pick<Chat, "id"> & { username?: string },
): boolean {
  return teamChats.some((configured) =>
    configured.startsWith("@")
      ? chat.username !== undefined && configured.slice(1).toLowerCase() === chat.username.toLowerCase()
      : configured === String(chat.id),
  );
}

export function teamOnly(deps: TeamDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.use(async (ctx, next) => {
    const chat = ctx.chat;
    const asking = ctx.message ?? ctx.editedMessage ?? ctx.callbackQuery;
    if (chat === undefined || asking === undefined) return next();
    const allowed =
      chat.type === "private"
        ? ctx.from !== undefined && deps.members.includes(ctx.from.id)
        : isTeamChat(await deps.teamChats(), {
            id: chat.id,
            ...("username" in chat && chat.username !== undefined ? { username: chat.username } : {}),
          });
    if (allowed) return next();
    // service messages (someone joined, the title changed, a migration) ask nothing: they go on to
    // the features that keep track of chats, which answer nobody
    const text = ctx.message?.text ?? ctx.editedMessage?.text;
    if (ctx.callbackQuery === undefined && text === undefined) return next();
    const what =
      ctx.callbackQuery !== undefined
        ? `press ${(ctx.callbackQuery.data ?? "").slice(0, 64)}`
        : `message ${(text ?? "").slice(0, 64)}`;
    await deps.refused({ user: ctx.from, chat, what });
    // a button press must be answered (its spinner waits); a message only the first time
    const notForYou = ctx.messages.answers.notForYou;
    if (ctx.callbackQuery !== undefined) await ctx.answerCallbackQuery({ text: notForYou.slice(0, 200) });
    else if (await deps.firstRefusal(chat.id))
      await ctx.reply(
        ctx.from === undefined
          ? `${notForYou}.`
          : `${notForYou}${ctx.messages.answers.yourId({ id: String(ctx.from.id) })}`,
      );
  });
  return composer;
}

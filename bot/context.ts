// The context type every feature of the bot sees: grammY's, plus the conversations plugin's
// controls (`ctx.conversation.enter(...)`).
import type { ConversationFlavor } from "@grammyjs/conversations";
import type { Context } from "grammy";

export type BotContext = ConversationFlavor<Context>;

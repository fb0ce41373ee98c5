// The context type every feature of the bot sees: grammY's, plus the conversations plugin's
// controls (`ctx.conversation.enter(...)`) and the texts of the chat's language (`ctx.messages`,
// BOT_LANGUAGE's catalogue from domain/i18n/, set once per update by bot/index.ts).
import type { ConversationFlavor } from "@grammyjs/conversations";
import type { Context } from "grammy";
import type { Messages } from "../domain/i18n/index.js";

export type BotContext = ConversationFlavor<Context & { messages: Messages }>;

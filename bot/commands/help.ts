// `/help`, and the command lists given to Telegram with setMyCommands at start-up (one list, so the
// menu Telegram shows and the help text never disagree). The words come from the message catalogue
// (domain/i18n/): /help answers in BOT_LANGUAGE, and Telegram gets one menu per language.
import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import { escapeHtml } from "../cards/html.js";
import { DEFAULT_LANGUAGE, messagesFor, type Language, type Messages } from "../../domain/i18n/index.js";

export type CommandName = keyof Messages["commands"];

export interface CommandHelp {
  command: CommandName;
  /** How it is typed; the words in <…> and […] are the language's. */
  usage: (t: Messages) => readonly string[];
  approversOnly: boolean;
}

export const COMMANDS: readonly CommandHelp[] = [
  { command: "status", usage: () => ["/status"], approversOnly: false },
  {
    command: "incidents",
    usage: (t) => ["/incidents", "/incidents P0", `/incidents ${t.help.serviceArg}`, "/incidents mine"],
    approversOnly: false,
  },
  { command: "ack", usage: (t) => [`/ack ${t.help.incidentIdArg}`], approversOnly: false },
  {
    command: "silence",
    usage: (t) => [
      `/silence service=awoooi-api 2h ${t.help.reasonArg}`,
      "/silence list",
      `/silence expire ${t.help.idArg}`,
    ],
    approversOnly: true,
  },
  { command: "rollback", usage: () => ["/rollback <namespace>/<deployment>"], approversOnly: true },
  { command: "whoami", usage: () => ["/whoami"], approversOnly: false },
  { command: "help", usage: () => ["/help"], approversOnly: false },
];

/**
 * The list for setMyCommands in `language` (each description one line of at most 256 characters,
 * Telegram's limit).
 */
export function botCommands(
  language: Language = DEFAULT_LANGUAGE,
): { command: string; description: string }[] {
  const t = messagesFor(language);
  return COMMANDS.map(({ command }) => ({ command, description: t.commands[command] }));
}

export function renderHelp(language: Language = DEFAULT_LANGUAGE): string {
  const t = messagesFor(language);
  const lines = [`<b>${escapeHtml(t.help.title)}</b>`, ""];
  for (const entry of COMMANDS) {
    lines.push(
      `${entry
        .usage(t)
        .map((usage) => `<code>${escapeHtml(usage)}</code>`)
        .join("\n")}`,
      `  ${escapeHtml(t.commands[entry.command])}${entry.approversOnly ? escapeHtml(t.help.approversOnly) : ""}`,
    );
  }
  lines.push(
    "",
    `<b>${escapeHtml(t.help.buttonsTitle)}</b>${escapeHtml(t.help.buttons)}`,
    escapeHtml(t.help.who),
  );
  return lines.join("\n");
}

export function helpCommand(language: Language = DEFAULT_LANGUAGE): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(["help", "start"], (ctx) => ctx.reply(renderHelp(language), { parse_mode: "HTML" }));
  return composer;
}

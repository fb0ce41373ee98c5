// `/help`, and the command list given to Telegram with setMyCommands at start-up (one list, so the
// menu Telegram shows and the help text never disagree).
import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import { escapeHtml } from "../cards/html.js";

export interface CommandHelp {
  command: string;
  /** One line for Telegram's command menu (at most 256 characters). */
  description: string;
  usage: readonly string[];
  approversOnly: boolean;
}

export const COMMANDS: readonly CommandHelp[] = [
  {
    command: "status",
    description: "Health of Redis, PostgreSQL, queues, LLM providers and executors",
    usage: ["/status"],
    approversOnly: false,
  },
  {
    command: "incidents",
    description: "Open incidents, newest first (filter: P0, a service, mine); tap one for its details",
    usage: ["/incidents", "/incidents P0", "/incidents <service>", "/incidents mine"],
    approversOnly: false,
  },
  {
    command: "ack",
    description: "I'm on it: take an incident (stops its SLA escalation); may take one over",
    usage: ["/ack <incident id>"],
    approversOnly: false,
  },
  {
    command: "silence",
    description: "Silence alerts by label for a while; list or expire silences",
    usage: ["/silence service=awoooi-api 2h [reason]", "/silence list", "/silence expire <id>"],
    approversOnly: true,
  },
  {
    command: "rollback",
    description: "Roll a deployment back to its previous revision (needs approval)",
    usage: ["/rollback <namespace>/<deployment>"],
    approversOnly: true,
  },
  {
    command: "whoami",
    description: "This chat's id and your user id, for the bot's settings",
    usage: ["/whoami"],
    approversOnly: false,
  },
  {
    command: "help",
    description: "What the bot can do and who may do it",
    usage: ["/help"],
    approversOnly: false,
  },
];

/** The list for setMyCommands. */
export const BOT_COMMANDS = COMMANDS.map(({ command, description }) => ({ command, description }));

export function renderHelp(): string {
  const lines = ["<b>🤖 ChatOps bot</b>", ""];
  for (const entry of COMMANDS) {
    lines.push(
      `${entry.usage.map((usage) => `<code>${escapeHtml(usage)}</code>`).join("\n")}`,
      `  ${escapeHtml(entry.description)}${entry.approversOnly ? " · 🔐 approvers only" : ""}`,
    );
  }
  lines.push(
    "",
    "<b>Card buttons</b>: ✅ Approve, ❌ Reject, ⏰ Snooze and 🔕 Silence need approver rights; 👀 I'm on it (and /ack) is for responders; 🔎 Details is open to everyone.",
    "Approvers are the Telegram user ids in TELEGRAM_APPROVER_IDS; responders are the approvers and TELEGRAM_RESPONDER_IDS.",
  );
  return lines.join("\n");
}

export function helpCommand(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(["help", "start"], (ctx) => ctx.reply(renderHelp(), { parse_mode: "HTML" }));
  return composer;
}

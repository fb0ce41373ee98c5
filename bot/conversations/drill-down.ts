// The incident drill-down, a conversation: opened from a card's "🔎 Details" button or from
// `/incidents`, it shows one message with a button per section (overview, timeline, analysis,
// logs & events, similar incidents, playbooks) and edits it in place as sections are picked, until
// Done. Reads go through `conversation.external()`; anyone may look, nothing changes.
//
// A section button outlives the conversation (a restart, an expired wait, another user pressing
// it): outside the conversation it simply opens the drill-down again at that section.
import { createConversation, type Conversation } from "@grammyjs/conversations";
import { Composer, InlineKeyboard } from "grammy";
import {
  DRILL_DOWN_SECTIONS,
  type DrillDownResult,
  type DrillDownSection,
} from "../../handlers/incident-drill-down.js";
import { unpackCallbackData } from "../callback-data/callback-data.js";
import type { BotContext } from "../context.js";
import { editInPlace } from "../edit-in-place.js";
import {
  drillDownPresses,
  packDrillDownData,
  unpackDrillDownData,
} from "../callback-data/drill-down-data.js";
import { renderDrillDown } from "../cards/render-drill-down.js";
import { messagesFor, type Language, type Messages } from "../../domain/i18n/index.js";

export const DRILL_DOWN = "drill-down";

export interface DrillDownFeatureDeps {
  load: (input: { incidentId: string; section: DrillDownSection }) => Promise<DrillDownResult>;
  /** BOT_TIMEZONE: the zone the pages show times in (default UTC). */
  timeZone?: string;
  /** BOT_LANGUAGE: the pages' and buttons' language (default English). */
  language?: Language;
}

/** A drill-down nobody touches for this long ends; its buttons still reopen it. */
const IDLE_MS = 30 * 60_000;
/** Presses one conversation serves before it ends (its replay log grows with each). */
const MAX_PRESSES = 40;

// ─── Callback data: `dd:<section|done>:<incident id>` ────────────────────────────────────────

function keyboard(incidentId: string, current: DrillDownSection, t: Messages): InlineKeyboard {
  const keys = new InlineKeyboard();
  DRILL_DOWN_SECTIONS.forEach((section, index) => {
    const name = t.drillDown.sections[section];
    const label = section === current ? `• ${name}` : name;
    keys.text(label, packDrillDownData({ section, incidentId }));
    if (index % 3 === 2) keys.row();
  });
  return keys.text(t.drillDown.done, packDrillDownData({ section: "done", incidentId }));
}

// ─── Rendering (pure; runs inside `external`, where the stored rows still have their Dates) ──

// ─── The conversation ────────────────────────────────────────────────────────────────────────

type DrillDownConversation = Conversation<BotContext, BotContext>;

function drillDownConversation(deps: DrillDownFeatureDeps) {
  return async function drillDown(
    conversation: DrillDownConversation,
    ctx: BotContext,
    incidentId: string,
    section: DrillDownSection,
    /** Entered from a section button: edit that message instead of sending a new one. */
    inPlace: boolean,
  ): Promise<void> {
    const view = (wanted: DrillDownSection) =>
      conversation.external(async () =>
        renderDrillDown(await deps.load({ incidentId, section: wanted }), incidentId, {
          ...(deps.timeZone === undefined ? {} : { timeZone: deps.timeZone }),
          ...(deps.language === undefined ? {} : { language: deps.language }),
        }),
      );

    const first = await view(section);
    const markup = (current: DrillDownSection) => ({
      parse_mode: "HTML" as const,
      reply_markup: keyboard(incidentId, current, messagesFor(deps.language)),
    });
    if (inPlace && ctx.callbackQuery !== undefined) {
      await editInPlace(() => ctx.editMessageText(first, markup(section)));
    } else {
      await ctx.reply(first, markup(section));
    }

    const presses = drillDownPresses(incidentId);
    for (let press = 0; press < MAX_PRESSES; press++) {
      const pressed = await conversation.waitForCallbackQuery(presses, { maxMilliseconds: IDLE_MS });
      const data = unpackDrillDownData(pressed.callbackQuery.data);
      if (data === undefined) continue;
      if (data.section === "done") {
        await pressed.answerCallbackQuery({ text: messagesFor(deps.language).drillDown.closed });
        await pressed.editMessageReplyMarkup();
        return;
      }
      const wanted = data.section;
      const text = await view(wanted);
      await editInPlace(() => pressed.editMessageText(text, markup(wanted)));
      await pressed.answerCallbackQuery();
    }
  };
}

/** Opens (or re-opens) the drill-down of `incidentId` for the user who pressed or asked. */
export async function openDrillDown(
  ctx: BotContext,
  incidentId: string,
  section: DrillDownSection = "overview",
  inPlace = false,
): Promise<void> {
  // One drill-down per user and chat: a new one replaces the old (whose buttons still work).
  await ctx.conversation.exit(DRILL_DOWN);
  await ctx.conversation.enter(DRILL_DOWN, incidentId, section, inPlace);
}

export function drillDown(deps: DrillDownFeatureDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.use(
    createConversation<BotContext, BotContext>(drillDownConversation(deps), {
      id: DRILL_DOWN,
      // Parallel: a drill-down left open never blocks another dialogue (a rejection reason, say).
      parallel: true,
    }),
  );

  // "🔎 Details" on a card: anyone may look.
  composer.on("callback_query:data", async (ctx, next) => {
    const card = unpackCallbackData(ctx.callbackQuery.data);
    if (card?.verb === "details") {
      await ctx.answerCallbackQuery();
      await openDrillDown(ctx, card.id);
      return;
    }
    const data = unpackDrillDownData(ctx.callbackQuery.data);
    if (data === undefined) return next();
    // A section button whose conversation is gone: open it again, in the same message.
    if (data.section === "done") {
      await ctx.answerCallbackQuery({ text: ctx.messages.drillDown.closed });
      await ctx.editMessageReplyMarkup();
      return;
    }
    await ctx.answerCallbackQuery();
    await openDrillDown(ctx, data.incidentId, data.section, true);
  });
  return composer;
}

// `/incidents`: every incident not yet resolved, newest first, eight to a page, with ◀ ▶ to move
// between pages (@grammyjs/menu). Each row opens that incident's drill-down. It reads the
// database, so incidents folded into a storm summary or silenced are listed too.
import { Menu, type MenuFlavor } from "@grammyjs/menu";
import { Composer, GrammyError } from "grammy";
import type { Severity } from "../../domain/incident.js";
import type { BotContext } from "../context.js";
import { openDrillDown } from "../conversations/drill-down.js";
import { cut } from "../cards/html.js";

export const INCIDENTS_PER_PAGE = 8;

export interface IncidentRow {
  id: string;
  severity: Severity;
  status: string;
  title: string;
  service: string | null;
}

export interface IncidentsCommandDeps {
  page: (page: { limit: number; offset: number }) => Promise<{ incidents: IncidentRow[]; total: number }>;
  perPage?: number;
}

type MenuContext = BotContext & MenuFlavor;

const ICONS: Readonly<Record<Severity, string>> = { P0: "🚨", P1: "⚠️", P2: "ℹ️" };

// Menu payloads: "<page>" on the arrows, "<page>.<incident id>" on a row. The page is the one the
// button was drawn on, so a press finds its button again; the row carries its incident, so a
// press never opens a neighbour when the list moved meanwhile.
function pageOf(ctx: BotContext): number {
  const match = typeof ctx.match === "string" ? /^(\d{1,6})(?:\.|$)/.exec(ctx.match.trim()) : null;
  return match === null ? 1 : Math.max(1, Number(match[1]));
}

function rowLabel(row: IncidentRow): string {
  const what = row.service === null ? row.title : `${row.service} · ${row.title}`;
  return cut(`${ICONS[row.severity]} ${row.id.replace(/^INC-/, "")} · ${what}`, 60);
}

function header(page: number, pages: number, total: number): string {
  return total === 0
    ? "✅ No open incidents."
    : `<b>📋 Open incidents: ${total}</b> · page ${page}/${pages}\nNewest first; tap one for its details.`;
}

export function incidentsCommand(deps: IncidentsCommandDeps): Composer<BotContext> {
  const perPage = deps.perPage ?? INCIDENTS_PER_PAGE;
  // One read per render; a render and the press handler that follows share it through the context.
  const loaded = new WeakMap<object, Promise<{ incidents: IncidentRow[]; total: number; page: number }>>();
  const load = (ctx: BotContext) => {
    const cached = loaded.get(ctx);
    if (cached !== undefined) return cached;
    const wanted = pageOf(ctx);
    const result = (async () => {
      let page = wanted;
      let found = await deps.page({ limit: perPage, offset: (page - 1) * perPage });
      const pages = Math.max(1, Math.ceil(found.total / perPage));
      if (page > pages) {
        // the list shrank under the user: show its last page
        page = pages;
        found = await deps.page({ limit: perPage, offset: (page - 1) * perPage });
      }
      return { ...found, page };
    })();
    loaded.set(ctx, result);
    return result;
  };

  const pageCount = (total: number) => Math.max(1, Math.ceil(total / perPage));
  /** Redraws the list at the page in `ctx.match`; the menu plugin attaches the keyboard. */
  const showPage = async (ctx: BotContext) => {
    const { total, page } = await load(ctx);
    await ctx
      .editMessageText(header(page, pageCount(total), total), { parse_mode: "HTML" })
      .catch((error: unknown) => {
        // the same page pressed again with nothing changed
        if (!(error instanceof GrammyError && /not modified/i.test(error.description))) throw error;
      });
  };

  const menu = new Menu<BotContext>("incidents", {
    onMenuOutdated: async (ctx) => {
      await ctx.answerCallbackQuery({ text: "The list changed; here it is again." });
      await showPage(ctx);
    },
  }).dynamic(async (ctx, range) => {
    const { incidents, total, page } = await load(ctx);
    for (const row of incidents) {
      range
        .text({ text: rowLabel(row), payload: `${page}.${row.id}` }, async (pressed) => {
          const id = typeof pressed.match === "string" ? pressed.match.split(".")[1] : undefined;
          if (id !== undefined) await openDrillDown(pressed, id);
        })
        .row();
    }
    const pages = pageCount(total);
    if (pages > 1) {
      const turn = (to: number) => async (pressed: MenuContext) => {
        loaded.delete(pressed);
        pressed.match = String(to);
        await showPage(pressed);
      };
      range
        .text({ text: "◀", payload: String(page) }, turn(page > 1 ? page - 1 : pages))
        .text({ text: `${page}/${pages}`, payload: String(page) }, turn(page))
        .text({ text: "▶", payload: String(page) }, turn(page < pages ? page + 1 : 1));
    }
  });

  const composer = new Composer<BotContext>();
  composer.use(menu);
  composer.command("incidents", async (ctx) => {
    const { total, page } = await load(ctx);
    await ctx.reply(header(page, pageCount(total), total), {
      parse_mode: "HTML",
      ...(total === 0 ? {} : { reply_markup: menu }),
    });
  });
  return composer;
}

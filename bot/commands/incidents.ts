// `/incidents`: every incident not yet resolved, newest first, eight to a page, with ◀ ▶ to move
// between pages (@grammyjs/menu). Each row opens that incident's drill-down. It reads the
// database, so incidents folded into a storm summary or silenced are listed too. A filter narrows
// the list: `/incidents P0` (a severity), `/incidents awoooi-api` (a service), `/incidents mine`
// (the ones the asker took with "👀 I'm on it" or /ack).
import { Menu, type MenuFlavor } from "@grammyjs/menu";
import { Composer, GrammyError } from "grammy";
import type { Severity } from "../../domain/incident.js";
import type { BotContext } from "../context.js";
import { openDrillDown } from "../conversations/drill-down.js";
import { cut, escapeHtml } from "../cards/html.js";
import type { Messages } from "../../domain/i18n/index.js";

export const INCIDENTS_PER_PAGE = 8;

export interface IncidentRow {
  id: string;
  severity: Severity;
  status: string;
  title: string;
  service: string | null;
}

/** What the list shows: every open incident, or those of one severity, one service, or the asker's. */
export type IncidentsFilter =
  | { kind: "all" }
  | { kind: "severity"; severity: Severity }
  | { kind: "service"; service: string }
  | { kind: "mine" };

/** Who asks (for "mine"). */
export interface Asker {
  userId: number;
  username?: string;
}

export interface IncidentsCommandDeps {
  page: (
    page: { limit: number; offset: number },
    filter: IncidentsFilter,
    asker: Asker | undefined,
  ) => Promise<{ incidents: IncidentRow[]; total: number }>;
  perPage?: number;
}

type MenuContext = BotContext & MenuFlavor;

const ICONS: Readonly<Record<Severity, string>> = { P0: "🚨", P1: "⚠️", P2: "ℹ️" };

/**
 * A service name short enough to ride in every button's payload. Callback data is 64 bytes; the
 * menu plugin takes "incidents/<row>/<col>/" (14) and "/h" + a 4-byte hash that may decode to up to
 * 12 bytes, leaving 36 for "<page>.<id without INC->~s:<service>": 16 for the service.
 */
const SERVICE_IN_PAYLOAD = /^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/;

/** The filter a `/incidents` argument names, or undefined when it names none that can be used. */
export function parseIncidentsFilter(argument: string): IncidentsFilter | undefined {
  const word = argument.trim();
  if (word === "") return { kind: "all" };
  if (/^p[012]$/i.test(word)) return { kind: "severity", severity: word.toUpperCase() as Severity };
  if (/^(mine|me)$/i.test(word)) return { kind: "mine" };
  return SERVICE_IN_PAYLOAD.test(word) ? { kind: "service", service: word } : undefined;
}

/** The filter's part of a menu payload ("~P0", "~me", "~s:awoooi-api"; "" for all). */
export function filterCode(filter: IncidentsFilter): string {
  switch (filter.kind) {
    case "all":
      return "";
    case "severity":
      return `~${filter.severity}`;
    case "mine":
      return "~me";
    case "service":
      return `~s:${filter.service}`;
  }
}

function filterFromCode(code: string | undefined): IncidentsFilter {
  if (code === undefined || code === "") return { kind: "all" };
  if (code === "me") return { kind: "mine" };
  if (/^P[012]$/.test(code)) return { kind: "severity", severity: code as Severity };
  const service = code.startsWith("s:") ? code.slice(2) : "";
  return SERVICE_IN_PAYLOAD.test(service) ? { kind: "service", service } : { kind: "all" };
}

// Menu payloads: "<page>" on the arrows, "<page>.<incident id>" on a row, each followed by the
// filter ("~P0"). The page is the one the button was drawn on, so a press finds its button again;
// the row carries its incident, so a press never opens a neighbour when the list moved meanwhile.
const PAYLOAD = /^(\d{1,6})(?:\.([A-Za-z0-9_-]+))?(?:~(\S+))?$/;

interface ListState {
  page: number;
  filter: IncidentsFilter;
}

/** The page and filter: from the pressed button's payload, or from the command's argument. */
function stateOf(ctx: BotContext): ListState | undefined {
  const text = typeof ctx.match === "string" ? ctx.match.trim() : "";
  if (ctx.callbackQuery === undefined) {
    const filter = parseIncidentsFilter(text);
    return filter === undefined ? undefined : { page: 1, filter };
  }
  const match = PAYLOAD.exec(text);
  return match === null
    ? { page: 1, filter: { kind: "all" } }
    : { page: Math.max(1, Number(match[1])), filter: filterFromCode(match[3]) };
}

function askerOf(ctx: BotContext): Asker | undefined {
  const from = ctx.from;
  return from === undefined
    ? undefined
    : { userId: from.id, ...(from.username === undefined ? {} : { username: from.username }) };
}

/** "open P0 incidents", "open incidents of awoooi-api", "open incidents you took" (BOT_LANGUAGE). */
function filterWords(filter: IncidentsFilter, t: Messages): string {
  return t.incidents.what({
    severity: filter.kind === "severity" ? filter.severity : "",
    service: filter.kind === "service" ? filter.service : "",
    mine: filter.kind === "mine",
  });
}

function rowLabel(row: IncidentRow): string {
  const what = row.service === null ? row.title : `${row.service} · ${row.title}`;
  return cut(`${ICONS[row.severity]} ${row.id.replace(/^INC-/, "")} · ${what}`, 60);
}

function header(page: number, pages: number, total: number, filter: IncidentsFilter, t: Messages): string {
  const what = filterWords(filter, t);
  return total === 0
    ? escapeHtml(t.incidents.none({ what }))
    : `<b>${escapeHtml(t.incidents.title({ what, total }))}</b> · ${escapeHtml(t.incidents.page({ page, pages }))}\n${escapeHtml(t.incidents.newestFirst)}`;
}

export function incidentsCommand(deps: IncidentsCommandDeps): Composer<BotContext> {
  const perPage = deps.perPage ?? INCIDENTS_PER_PAGE;
  // One read per render; a render and the press handler that follows share it through the context.
  const loaded = new WeakMap<
    object,
    Promise<{ incidents: IncidentRow[]; total: number; page: number; filter: IncidentsFilter }>
  >();
  const load = (ctx: BotContext) => {
    const cached = loaded.get(ctx);
    if (cached !== undefined) return cached;
    const state = stateOf(ctx) ?? { page: 1, filter: { kind: "all" } };
    const asker = askerOf(ctx);
    const result = (async () => {
      let page = state.page;
      const read = (at: number) =>
        deps.page({ limit: perPage, offset: (at - 1) * perPage }, state.filter, asker);
      let found = await read(page);
      const pages = Math.max(1, Math.ceil(found.total / perPage));
      if (page > pages) {
        // the list shrank under the user: show its last page
        page = pages;
        found = await read(page);
      }
      return { ...found, page, filter: state.filter };
    })();
    loaded.set(ctx, result);
    return result;
  };

  const pageCount = (total: number) => Math.max(1, Math.ceil(total / perPage));
  /** Redraws the list at the page in `ctx.match`; the menu plugin attaches the keyboard. */
  const showPage = async (ctx: BotContext) => {
    const { total, page, filter } = await load(ctx);
    await ctx
      .editMessageText(header(page, pageCount(total), total, filter, ctx.messages), { parse_mode: "HTML" })
      .catch((error: unknown) => {
        // the same page pressed again with nothing changed
        if (!(error instanceof GrammyError && /not modified/i.test(error.description))) throw error;
      });
  };

  const menu = new Menu<BotContext>("incidents", {
    onMenuOutdated: async (ctx) => {
      await ctx.answerCallbackQuery({ text: ctx.messages.incidents.changed });
      await showPage(ctx);
    },
  }).dynamic(async (ctx, range) => {
    const { incidents, total, page, filter } = await load(ctx);
    const code = filterCode(filter);
    for (const row of incidents) {
      range
        .text(
          { text: rowLabel(row), payload: `${page}.${row.id.replace(/^INC-/, "")}${code}` },
          async (pressed) => {
            const short =
              typeof pressed.match === "string" ? PAYLOAD.exec(pressed.match.trim())?.[2] : undefined;
            if (short !== undefined)
              await openDrillDown(pressed, /^\d{8}-\d+$/.test(short) ? `INC-${short}` : short);
          },
        )
        .row();
    }
    const pages = pageCount(total);
    if (pages > 1) {
      const turn = (to: number) => async (pressed: MenuContext) => {
        loaded.delete(pressed);
        pressed.match = `${to}${code}`;
        await showPage(pressed);
      };
      range
        .text({ text: "◀", payload: `${page}${code}` }, turn(page > 1 ? page - 1 : pages))
        .text({ text: `${page}/${pages}`, payload: `${page}${code}` }, turn(page))
        .text({ text: "▶", payload: `${page}${code}` }, turn(page < pages ? page + 1 : 1));
    }
  });

  const composer = new Composer<BotContext>();
  composer.use(menu);
  composer.command("incidents", async (ctx) => {
    if (stateOf(ctx) === undefined) {
      await ctx.reply(ctx.messages.incidents.usage);
      return;
    }
    const { total, page, filter } = await load(ctx);
    await ctx.reply(header(page, pageCount(total), total, filter, ctx.messages), {
      parse_mode: "HTML",
      ...(total === 0 ? {} : { reply_markup: menu }),
    });
  });
  return composer;
}

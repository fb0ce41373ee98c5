import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CallbackDataError } from "../../bot/callback-data/callback-data.js";
import {
  renderTelegramCard,
  type RenderTelegramOptions,
  type RenderedTelegramCard,
} from "../../bot/cards/render-telegram.js";
import { ALERT_SOURCES, INCIDENT_STATUSES, SEVERITIES } from "../../domain/incident.js";
import {
  CARD_VERBS,
  type CardButton,
  type CardHistoryEntry,
  type CardVerb,
  type IncidentCard,
} from "../../domain/card.js";
import { parseTelegramHtml as parseLikeTelegram } from "../../dev/emulators/telegram.js";
import { messagesFor } from "../../domain/i18n/index.js";

// ---------------------------------------------------------------------------------------------
// A strict parser for the subset of HTML Telegram accepts (https://core.telegram.org/bots/api#html-style),
// stricter than Telegram and than the emulator's parser, which the cards must also pass: known tags
// only, properly nested; every "&" starts one of the four named entities or a numeric one; no
// bare "<" or ">"; <a> carries exactly one quoted http(s) href. Returns the text Telegram counts.

const TELEGRAM_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "a",
  "code",
  "pre",
  "tg-spoiler",
  "blockquote",
]);
const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"' };

interface ParsedHtml {
  text: string;
  hrefs: string[];
}

function decodeEntities(html: string): string {
  let decoded = "";
  let index = 0;
  while (index < html.length) {
    const char = html[index] ?? "";
    if (char === "<" || char === ">") throw new Error(`bare "${char}" at ${index}`);
    if (char !== "&") {
      decoded += char;
      index++;
      continue;
    }
    const match = /^&(?:(lt|gt|amp|quot)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/.exec(
      html.slice(index, index + 12),
    );
    if (match === null)
      throw new Error(`bare "&" at ${index}: ${JSON.stringify(html.slice(index, index + 12))}`);
    const [entity, name, decimal, hex] = match;
    decoded +=
      name !== undefined
        ? (NAMED_ENTITIES[name] ?? "")
        : String.fromCodePoint(Number.parseInt(decimal ?? hex ?? "", decimal ? 10 : 16));
    index += entity.length;
  }
  return decoded;
}

function openTag(tag: string, hrefs: string[]): string {
  const match = /^([a-z-]+)((?: [a-z-]+="[^"<>]*")*)$/.exec(tag);
  const name = match?.[1];
  if (name === undefined || !TELEGRAM_TAGS.has(name)) throw new Error(`unknown or malformed tag <${tag}>`);
  const attributes = [...(match?.[2] ?? "").matchAll(/ ([a-z-]+)="([^"]*)"/g)];
  if (name !== "a") {
    if (attributes.length > 0) throw new Error(`attributes on <${name}>`);
    return name;
  }
  const [href] = attributes;
  if (attributes.length !== 1 || href?.[1] !== "href") throw new Error(`<a> needs exactly an href: <${tag}>`);
  const url = decodeEntities(href[2] ?? "");
  if (!/^https?:\/\//.test(url)) throw new Error(`non-http link ${url}`);
  hrefs.push(url);
  return name;
}

function parseTelegramHtml(html: string): ParsedHtml {
  const open: string[] = [];
  const hrefs: string[] = [];
  let text = "";
  let index = 0;
  while (index < html.length) {
    const tagStart = html.indexOf("<", index);
    const textEnd = tagStart === -1 ? html.length : tagStart;
    text += decodeEntities(html.slice(index, textEnd));
    if (tagStart === -1) break;
    const tagEnd = html.indexOf(">", tagStart);
    if (tagEnd === -1) throw new Error(`unterminated tag at ${tagStart}`);
    const tag = html.slice(tagStart + 1, tagEnd);
    if (tag.startsWith("/")) {
      const expected = open.pop();
      if (tag.slice(1) !== expected) throw new Error(`</${tag.slice(1)}> closes <${expected ?? "nothing"}>`);
    } else {
      open.push(openTag(tag, hrefs));
    }
    index = tagEnd + 1;
  }
  if (open.length > 0) throw new Error(`unclosed <${open.join(">, <")}>`);
  return { text, hrefs };
}

const hasLoneSurrogate = (text: string): boolean => /[\uD800-\uDFFF]/u.test(text);

function expectSendable(rendered: RenderedTelegramCard, maxLength = 4096): ParsedHtml {
  expect(rendered.text.length).toBeLessThanOrEqual(maxLength);
  const parsed = parseTelegramHtml(rendered.text);
  expect(parsed.text.length).toBeLessThanOrEqual(maxLength);
  expect(parseLikeTelegram(rendered.text, { strictAmpersand: true }).text).toBe(parsed.text);
  expect(parsed.text.trim()).not.toBe("");
  expect(hasLoneSurrogate(rendered.text)).toBe(false);
  for (const button of rendered.replyMarkup?.inline_keyboard.flat() ?? []) {
    expect(Buffer.byteLength(button.callback_data, "utf8")).toBeLessThanOrEqual(64);
  }
  return parsed;
}

describe("the test's Telegram HTML parser", () => {
  it.each([
    ["an unknown tag", "<script>x</script>"],
    ["crossed tags", "<b><i>x</b></i>"],
    ["an unclosed tag", "<b>x"],
    ["a bare ampersand", "a & b"],
    ["an unknown entity", "&nbsp;"],
    ["a bare >", "a > b"],
    ["a javascript link", '<a href="javascript:alert(1)">x</a>'],
    ["an unquoted href", "<a href=http://x>x</a>"],
  ])("refuses %s", (_name, html) => {
    expect(() => parseTelegramHtml(html)).toThrow();
  });

  it("decodes entities and drops tags", () => {
    expect(
      parseTelegramHtml('<b>a &lt;&amp;&gt; &#128512;</b> <a href="https://x.y/?a=1&amp;b=&quot;">l</a>'),
    ).toEqual({
      text: "a <&> 😀 l",
      hrefs: ['https://x.y/?a=1&b="'],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Cards

const ID = "INC-20260329-0001";
const at = (iso: string): Date => new Date(`${iso}Z`);
const buttons = (id: string, verbs: readonly CardVerb[] = CARD_VERBS): CardButton[] =>
  verbs.map((verb) => ({ verb }));

/** The seed's appendix B example. */
function seedCard(): IncidentCard {
  return {
    incidentId: ID,
    severity: "P0",
    status: "awaiting_approval",
    source: "alertmanager",
    service: "awoooi-api",
    title: "AWOOOIAPIDown",
    summary: "awoooi-api restarted 3 times in 10 minutes",
    target: { kind: "Pod", namespace: "awoooi-prod", name: "awoooi-api-7d4b8c9f5-abc12" },
    occurrences: 3,
    firstSeenAt: at("2026-03-29T12:00:00"),
    lastSeenAt: at("2026-03-29T12:09:00"),
    analysis: {
      engine: "ollama/qwen2.5:7b",
      ownerTeam: "BE",
      confidence: 0.92,
      cause: "OOM Killed - Memory limit exceeded",
      suggestedAction: "DELETE_POD + SCALE_UP",
      estimatedDowntime: "~30s",
      tokens: 1234,
      costUsd: 0.0012,
      decision: "Waits for approval: auto-repair is in dry-run mode",
    },
    links: [
      { label: "SignOz Trace", url: "http://192.168.0.188:3301/trace/abc123" },
      { label: "Sentry Issue", url: "http://192.168.0.110:9000/issues/456" },
    ],
    history: [
      { at: at("2026-03-29T12:00:00"), text: "🚨 alert fired" },
      { at: at("2026-03-29T12:01:00"), text: "🤖 analysed by ollama/qwen2.5:7b" },
    ],
    buttons: buttons(ID),
  };
}

/** The seed card after @alice said "I'm on it" and @bob took it over from her. */
function takenOverCard(): IncidentCard {
  const card = seedCard();
  return {
    ...card,
    takenBy: { by: "@bob", at: at("2026-03-29T12:07:00"), from: "@alice" },
    history: [
      ...card.history,
      { at: at("2026-03-29T12:03:00"), text: "👀 @alice is on it" },
      { at: at("2026-03-29T12:07:00"), text: "👀 @bob took over from @alice" },
    ],
  };
}

/**
 * The seed card as the pipeline writes it for a team with BOT_LANGUAGE=zh-TW: the model's cause in
 * Chinese (the prompt asks for it), history texts from the zh-TW catalogue.
 */
function zhSeedCard(): IncidentCard {
  const t = messagesFor("zh-TW");
  const { decision: _english, ...analysis } = seedCard().analysis ?? seedCardAnalysisMissing();
  return {
    ...seedCard(),
    analysis: {
      ...analysis,
      cause: "OOM Killed：記憶體超出限制",
      estimatedDowntime: t.card.downtimeAbout({ span: t.card.secondsShort({ count: 30 }) }),
    },
    history: [
      { at: at("2026-03-29T12:01:00"), text: t.history.analysisFailed({ error: "ollama timeout" }) },
      { at: at("2026-03-29T12:03:00"), text: t.history.onIt({ who: "@alice" }) },
    ],
    takenBy: { by: "@alice", at: at("2026-03-29T12:03:00") },
  };
}

function seedCardAnalysisMissing(): never {
  throw new Error("the seed card has an analysis");
}

function zhResolvedCard(): IncidentCard {
  const t = messagesFor("zh-TW");
  return {
    ...zhSeedCard(),
    status: "resolved",
    resolvedAt: at("2026-03-29T12:14:00"),
    history: [
      ...zhSeedCard().history,
      { at: at("2026-03-29T12:11:00"), text: t.history.approved({ action: "DELETE_POD", who: "@alice" }) },
      { at: at("2026-03-29T12:11:30"), text: t.history.executed({ action: "DELETE_POD" }) },
      { at: at("2026-03-29T12:14:00"), text: t.history.verified({ detail: "health check passing" }) },
    ],
    buttons: [],
  };
}

function pendingCard(): IncidentCard {
  const id = "INC-20260329-0002";
  return {
    incidentId: id,
    severity: "P1",
    status: "analyzing",
    source: "alertmanager",
    service: "postgres",
    title: "PostgresHighConnections",
    summary: "connections at 92% of max_connections",
    target: { kind: "Container", name: "postgres" },
    occurrences: 1,
    firstSeenAt: at("2026-03-29T08:15:00"),
    lastSeenAt: at("2026-03-29T08:15:00"),
    links: [],
    history: [],
    buttons: buttons(id, ["snooze", "silence"]),
  };
}

function resolvedCard(): IncidentCard {
  return {
    ...seedCard(),
    status: "resolved",
    resolvedAt: at("2026-03-29T12:14:00"),
    history: [
      ...seedCard().history,
      { at: at("2026-03-29T12:11:00"), text: "✅ approved by @alice" },
      { at: at("2026-03-29T12:11:30"), text: "🔧 DELETE_POD awoooi-api-7d4b8c9f5-abc12" },
      { at: at("2026-03-29T12:14:00"), text: "🩺 verified: health check passing" },
    ],
    buttons: [],
  };
}

function sentryCard(): IncidentCard {
  const id = "INC-20260329-0003";
  return {
    incidentId: id,
    severity: "P1",
    status: "awaiting_approval",
    source: "sentry",
    service: "awoooi-web",
    title: "TypeError: Cannot read properties of undefined (reading 'id')",
    summary: "app/orders/page.tsx in OrderList",
    target: { kind: "Sentry issue", name: "AWOOOI-WEB-4F" },
    occurrences: 1287,
    firstSeenAt: at("2026-03-28T23:40:00"),
    lastSeenAt: at("2026-03-29T00:05:00"),
    analysis: {
      engine: "gemini/gemini-2.5-flash",
      ownerTeam: "FE",
      confidence: 0.67,
      cause: "Release web@1.42.0 reads order.customer before it loads",
      suggestedAction: "ROLLBACK",
      estimatedDowntime: "none (rolling)",
      tokens: 5321,
      costUsd: 0.0187,
      decision: "ROLLBACK is MEDIUM risk: a human approves",
    },
    links: [{ label: "Sentry Issue", url: "https://sentry.example.com/organizations/awoooi/issues/4567/" }],
    history: [{ at: at("2026-03-28T23:41:00"), text: "🐛 new issue in release web@1.42.0" }],
    buttons: buttons(id),
  };
}

function hostileCard(): IncidentCard {
  const id = "INC-20260329-0004";
  return {
    incidentId: id,
    severity: "P2",
    status: "open",
    source: "signoz",
    service: "<script>alert(1)</script>",
    title: "Tom &amp; Jerry <b>down</b>",
    summary: 'if a < b && c > d then "quote" </a>',
    target: { kind: "Host<br>", namespace: "ns&co", name: "web&api" },
    occurrences: 2,
    firstSeenAt: at("2026-03-29T09:00:00"),
    lastSeenAt: at("2026-03-29T09:30:00"),
    analysis: {
      engine: "<i>engine</i>",
      ownerTeam: "SRE & <Ops>",
      confidence: 0.3,
      cause: '"quoted" <i>cause</i> &lt;',
      suggestedAction: "CLEAR_CACHE <now>",
    },
    links: [
      { label: "<b>trace</b> & more", url: 'https://signoz.example.com/trace?q="x"&y=<z>' },
      { label: "quote in host", url: 'http://a"onmouseover="alert(1).example/' },
      { label: "click me", url: "javascript:alert(document.cookie)" },
      { label: "data", url: "data:text/html,<script>alert(1)</script>" },
      { label: "not a url", url: "<a href=x>" },
    ],
    history: [{ at: at("2026-03-29T09:31:00"), text: '<a href="javascript:x">clicked</a> by @mallory & co' }],
    buttons: buttons(id, ["approve", "reject"]),
  };
}

function hugeCard(): IncidentCard {
  const history: CardHistoryEntry[] = Array.from({ length: 500 }, (_, index) => ({
    at: new Date(Date.UTC(2026, 2, 27, 0, 0) + index * 7 * 60_000),
    text: `event #${index + 1}: ${"retry ".repeat(5)}`,
  }));
  return {
    ...seedCard(),
    summary: Array.from({ length: 10_000 }, (_, index) => "abcdefghij klmnopqrst"[index % 21]).join(""),
    history,
  };
}

// ---------------------------------------------------------------------------------------------
// Goldens

const GOLDEN_DIR = fileURLToPath(new URL("../fixtures/cards/", import.meta.url));
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === "1";
// "<" is always escaped in the rendered text, so this line cannot occur in it.
const KEYBOARD_SEPARATOR = "<!-- inline_keyboard -->";

function goldenContent(rendered: RenderedTelegramCard): string {
  const rows = rendered.replyMarkup?.inline_keyboard.map((row) => JSON.stringify(row)) ?? ["none"];
  return `${rendered.text}\n\n${KEYBOARD_SEPARATOR}\n${rows.join("\n")}\n`;
}

async function expectGolden(name: string, rendered: RenderedTelegramCard): Promise<void> {
  const file = `${GOLDEN_DIR}${name}.golden.html`;
  const actual = goldenContent(rendered);
  if (UPDATE_GOLDEN) {
    await mkdir(GOLDEN_DIR, { recursive: true });
    await writeFile(file, actual);
    return;
  }
  if (!existsSync(file)) expect.fail(`missing golden ${file}; run with UPDATE_GOLDEN=1 to write it`);
  expect(actual).toBe(await readFile(file, "utf8"));
}

const GOLDEN_CASES: [string, () => IncidentCard, RenderTelegramOptions?][] = [
  ["seed-appendix-b", seedCard],
  ["p1-analysis-pending", pendingCard],
  ["resolved", resolvedCard],
  ["sentry", sentryCard],
  ["hostile", hostileCard],
  ["huge", hugeCard],
  // A photo caption's limit: the history, summary and cause have to give way.
  ["huge-caption", hugeCard, { maxLength: 1024 }],
  ["seed-appendix-b-taipei", seedCard, { timeZone: "Asia/Taipei" }],
  // "👀 I'm on it" pressed by @alice, then taken over by @bob; shown in the team's zone
  ["taken-over-taipei", takenOverCard, { timeZone: "Asia/Taipei" }],
  // BOT_LANGUAGE=zh-TW, the team's language and zone
  ["seed-appendix-b-zh-tw", zhSeedCard, { timeZone: "Asia/Taipei", language: "zh-TW" }],
  ["resolved-zh-tw", zhResolvedCard, { timeZone: "Asia/Taipei", language: "zh-TW" }],
  ["p1-analysis-pending-zh-tw", pendingCard, { language: "zh-TW" }],
];

describe("renderTelegramCard goldens", () => {
  it.each(GOLDEN_CASES)("renders %s as its golden file", async (name, card, options) => {
    const rendered = renderTelegramCard(card(), options);
    expectSendable(rendered);
    await expectGolden(name, rendered);
  });
});

// ---------------------------------------------------------------------------------------------
// Behaviour

const textOf = (card: IncidentCard, options?: RenderTelegramOptions): string =>
  parseTelegramHtml(renderTelegramCard(card, options).text).text;

describe("renderTelegramCard", () => {
  it("follows the seed's layout with severity, id, target, analysis, action and cost", () => {
    const text = textOf(seedCard());
    for (const expected of [
      "🚨 CRITICAL | awoooi-api",
      "📋 INC-20260329-0001 · awaiting approval",
      "🎯 Pod: awoooi-prod/awoooi-api-7d4b8c9f5-abc12",
      "🔁 3 occurrences · first 12:00 · last 12:09 UTC",
      "👥 Owner: BE",
      "📊 Confidence: 🟢 92%",
      "💡 Cause: OOM Killed - Memory limit exceeded",
      "🔧 Suggested: DELETE_POD + SCALE_UP",
      "⏱️ Downtime: ~30s",
      "💰 Tokens: 1,234 / $0.0012",
    ]) {
      expect(text).toContain(expected);
    }
  });

  it.each([
    [0.92, "🟢 92%"],
    [0.85, "🟢 85%"],
    [0.849, "🟡 84%"],
    [0.6, "🟡 60%"],
    [0.29, "🔴 29%"],
    [0, "🔴 0%"],
    [1.7, "🟢 100%"],
  ])("shows confidence %f as %s", (confidence, expected) => {
    const card = seedCard();
    const analysis = card.analysis && { ...card.analysis, confidence };
    expect(textOf({ ...card, ...(analysis && { analysis }) })).toContain(`📊 Confidence: ${expected}`);
  });

  it("writes tokens with thousands separators and the cost with four decimals", () => {
    const card = seedCard();
    const analysis = card.analysis && { ...card.analysis, tokens: 1_234_567, costUsd: 0.5 };
    expect(textOf({ ...card, ...(analysis && { analysis }) })).toContain("💰 Tokens: 1,234,567 / $0.5000");
  });

  it("says the analysis is pending while there is none", () => {
    const text = textOf(pendingCard());
    expect(text).toContain("⚠️ HIGH | postgres");
    expect(text).toContain("🤖 AI analysis: pending…");
    expect(text).not.toContain("Confidence");
  });

  it("marks a resolved card and still names its severity", () => {
    const text = textOf(resolvedCard());
    expect(text.split("\n")[0]).toBe("✅ RESOLVED | awoooi-api · was CRITICAL");
    expect(text).toContain("resolved 12:14 UTC");
    expect(renderTelegramCard(resolvedCard()).replyMarkup).toBeUndefined();
  });

  it("shows times in the requested time zone", () => {
    expect(textOf(seedCard(), { timeZone: "Asia/Taipei" })).toContain("first 20:00 · last 20:09 GMT+8");
  });

  it("adds the date when the first and last occurrence fall on different days", () => {
    expect(textOf(sentryCard())).toContain(
      "🔁 1,287 occurrences · first Mar 28 23:40 · last Mar 29 00:05 UTC",
    );
  });

  it("dates history entries from an earlier day than the card's latest event", () => {
    expect(textOf(sentryCard())).toContain("🕘 Mar 28 23:41 🐛 new issue");
  });

  it("escapes every dynamic string, so hostile text shows verbatim", () => {
    const text = textOf(hostileCard());
    expect(text).toContain("ℹ️ MEDIUM | <script>alert(1)</script>");
    expect(text).toContain('Tom &amp; Jerry <b>down</b> — if a < b && c > d then "quote" </a>');
    expect(text).toContain("🎯 Host<br>: ns&co/web&api");
    expect(text).toContain('<a href="javascript:x">clicked</a> by @mallory & co');
  });

  it("renders only http and https links, with quotes escaped inside href", () => {
    const rendered = renderTelegramCard(hostileCard());
    const { hrefs } = parseTelegramHtml(rendered.text);
    expect(hrefs).toEqual([
      "https://signoz.example.com/trace?q=%22x%22&y=%3Cz%3E",
      'http://a"onmouseover="alert(1).example/',
    ]);
    expect(rendered.text).toContain('href="http://a&quot;onmouseover=&quot;alert(1).example/"');
    expect(rendered.text).not.toMatch(/javascript:alert|data:text/);
  });

  it("fits a huge card into 4096 characters and keeps the newest history", () => {
    const card = hugeCard();
    const rendered = renderTelegramCard(card);
    const { text } = expectSendable(rendered);
    const newest = card.history.at(-1)?.text.trim() ?? "";
    expect(text).toContain(newest);
    expect(text).toMatch(/🕘 … \d+ earlier\n/);
    expect(text).not.toContain("event #1:");
  });

  it("gives up history, then summary, then cause, then title as space runs out", () => {
    const base = seedCard();
    const card: IncidentCard = {
      ...base,
      title: "T".repeat(150),
      summary: "S".repeat(700),
      ...(base.analysis && { analysis: { ...base.analysis, cause: "C".repeat(350) } }),
      history: Array.from({ length: 12 }, (_, index) => ({
        at: at("2026-03-29T12:10:00"),
        text: `step ${index}`,
      })),
    };
    const cutsAt = (maxLength: number): Record<"history" | "summary" | "cause" | "title", boolean> => {
      const { text } = expectSendable(renderTelegramCard(card, { maxLength }), maxLength);
      expect(text).toContain("step 11");
      return {
        history: !text.includes("step 0"),
        summary: !text.includes(card.summary ?? ""),
        cause: !text.includes(card.analysis?.cause ?? ""),
        title: !text.includes(card.title),
      };
    };
    const full = renderTelegramCard(card).text.length;
    let cut = cutsAt(full);
    expect(cut).toEqual({ history: false, summary: false, cause: false, title: false });
    for (let maxLength = full - 17; !cut.title; maxLength -= 17) {
      cut = cutsAt(maxLength);
      if (cut.summary) expect(cut.history).toBe(true);
      if (cut.cause) expect(cut.summary).toBe(true);
      if (cut.title) expect(cut.cause).toBe(true);
    }
  });

  it("never splits a surrogate pair or an emoji sequence when it truncates", () => {
    const card = { ...seedCard(), summary: "😀".repeat(3000), title: "👨‍👩‍👧".repeat(100) };
    const { text } = expectSendable(renderTelegramCard(card, { maxLength: 1500 }), 1500);
    expect(text).toMatch(/^(👨‍👩‍👧)+… — (😀)+…$/mu);
  });

  it("replaces lone surrogates, which Telegram cannot encode", () => {
    const text = textOf({ ...seedCard(), title: "bad \uD83D half" });
    expect(text).toContain("bad \uFFFD half");
  });

  it("stays within a small maxLength even when fields that never shrink are long", () => {
    const long = "&<>".repeat(100);
    const card: IncidentCard = {
      ...hostileCard(),
      service: long,
      target: { kind: long, name: long },
      incidentId: long,
      // no id Telegram could carry in callback data; the text is what this test is about
      buttons: [],
    };
    const { text } = expectSendable(renderTelegramCard(card, { maxLength: 200 }), 200);
    expect(text).toMatch(/^ℹ️ MEDIUM \| [&<>]+…$/u);
  });

  it("lays the buttons out as decision, deferral and taking, and Details alone, with the callback data as given", () => {
    const card = { ...seedCard(), buttons: [...seedCard().buttons].reverse() };
    expect(renderTelegramCard(card).replyMarkup).toEqual({
      inline_keyboard: [
        [
          { text: "✅ Approve", callback_data: `v1:approve:${ID}` },
          { text: "❌ Reject", callback_data: `v1:reject:${ID}` },
        ],
        [
          { text: "⏰ Snooze", callback_data: `v1:snooze:${ID}` },
          { text: "🔕 Silence", callback_data: `v1:silence:${ID}` },
          { text: "👀 I'm on it", callback_data: `v1:take:${ID}` },
        ],
        [{ text: "🔎 Details", callback_data: `v1:details:${ID}` }],
      ],
    });
  });

  it("has no keyboard when the card has no buttons", () => {
    expect(renderTelegramCard({ ...seedCard(), buttons: [] }).replyMarkup).toBeUndefined();
  });

  it("refuses callback data Telegram would reject", () => {
    const card = { ...seedCard(), incidentId: "x".repeat(65), buttons: [{ verb: "approve" as const }] };
    expect(() => renderTelegramCard(card)).toThrow(CallbackDataError);
  });

  it.each([0, 63, 4097, 100.5])("refuses maxLength %d", (maxLength) => {
    expect(() => renderTelegramCard(seedCard(), { maxLength })).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random cards

/** mulberry32: small, seedable, good enough to pick test data. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const PIECES = [
  "a",
  "Z",
  "7",
  " ",
  "-",
  "<",
  ">",
  "&",
  '"',
  "&amp;",
  "<b>",
  "</a>",
  "😀",
  "👨‍👩‍👧",
  "🇹🇼",
  "e\u0301",
  "監控",
  "\uD83D",
  "\uDE00",
  "\n",
  "\t",
  "\u202E",
  "\u0000",
];

function randomCard(random: () => number): { card: IncidentCard; options: RenderTelegramOptions } {
  const int = (max: number): number => Math.floor(random() * (max + 1));
  const pick = <T>(items: readonly T[]): T => items[int(items.length - 1)] as T;
  const length = (): number => pick([0, 1, 5, 20, 60, 300, 2000, 6000]);
  const text = (): string => Array.from({ length: int(length()) }, () => pick(PIECES)).join("");
  const date = (): Date => new Date(Date.UTC(2026, 2, 28) + int(3 * 86_400) * 1000);
  const id = `INC-${int(99_999_999)}-${int(9999)}`;
  const card: IncidentCard = {
    incidentId: id,
    severity: pick(SEVERITIES),
    status: pick(INCIDENT_STATUSES),
    source: pick(ALERT_SOURCES),
    service: text(),
    title: text(),
    ...(random() < 0.7 && { summary: text() }),
    ...(random() < 0.7 && {
      target: { kind: text(), name: text(), ...(random() < 0.5 && { namespace: text() }) },
    }),
    occurrences: int(100_000),
    firstSeenAt: date(),
    lastSeenAt: date(),
    ...(random() < 0.3 && { resolvedAt: date() }),
    ...(random() < 0.7 && {
      analysis: {
        engine: text(),
        ownerTeam: text(),
        confidence: random() * 1.2 - 0.1,
        cause: text(),
        suggestedAction: text(),
        ...(random() < 0.5 && { estimatedDowntime: text() }),
        ...(random() < 0.5 && { tokens: int(5_000_000) }),
        ...(random() < 0.5 && { costUsd: random() * 3 }),
        ...(random() < 0.5 && { decision: text() }),
      },
    }),
    links: Array.from({ length: int(12) }, () => ({
      label: text(),
      url: pick([
        `https://x.example/${text()}`,
        `http://${text()}.example/?q=${text()}`,
        `javascript:${text()}`,
        text(),
      ]),
    })),
    history: Array.from({ length: pick([0, 1, 3, 40, 600]) }, () => ({ at: date(), text: text() })),
    buttons: buttons(
      id,
      CARD_VERBS.filter(() => random() < 0.6),
    ),
  };
  const options: RenderTelegramOptions = random() < 0.3 ? { maxLength: 64 + int(4096 - 64) } : {};
  return { card, options };
}

describe("renderTelegramCard on random cards", () => {
  it("always renders valid Telegram HTML within the length limit", () => {
    const random = prng(20260329);
    for (let run = 0; run < 200; run++) {
      const { card, options } = randomCard(random);
      const rendered = renderTelegramCard(card, options);
      try {
        expectSendable(rendered, options.maxLength);
      } catch (error) {
        throw new Error(`run ${run}: ${String(error)}`, { cause: error });
      }
    }
  });
});

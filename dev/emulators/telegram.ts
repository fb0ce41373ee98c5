// A Telegram Bot API server for tests: the real wire protocol (paths, envelopes, status codes,
// error descriptions) and the real limits, so grammY talks to it unchanged through `client.apiRoot`.
// Run it alone with `tsx dev/emulators/telegram.ts --port 8081` to watch a bot chat.
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type {
  BotCommand,
  CallbackQuery,
  Chat,
  InlineKeyboardButton,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  Update,
  User,
  UserFromGetMe,
} from "grammy/types";
import { z } from "zod";

// ─── Public types ────────────────────────────────────────────────────────────────────────────

/** Every flood limit lifted, for a test or bench about something else than pacing (say what). */
export const LIFTED_TELEGRAM_LIMITS = {
  groupPerMinute: 100_000,
  perSecond: 100_000,
  perChatPerSecond: 100_000,
  perChatBurst: 100_000,
} as const;

export interface TelegramEmulatorOptions {
  /** The one token the server accepts; the bot id is its numeric prefix. */
  readonly token?: string;
  /** 0 (the default) picks a free port on 127.0.0.1. */
  readonly port?: number;
  readonly botUsername?: string;
  readonly botFirstName?: string;
  /** When given, any other chat id answers "chat not found" (chats seen in pushed updates join). */
  readonly knownChats?: readonly (number | string)[];
  /**
   * Forum topics there from the start, each in a supergroup that is then a forum (`is_forum`).
   * Telegram names a topic by the message id of its creation message (its message_thread_id).
   */
  readonly forumTopics?: readonly ForumTopicInput[];
  /** Messages per 60 s sliding window to one group or supergroup. */
  readonly groupPerMinute?: number;
  /** Messages per 1 s sliding window over all chats. */
  readonly perSecond?: number;
  /**
   * Messages per second to any one chat, private or group, once its burst is spent (default 1).
   * Telegram's FAQ: "avoid sending more than one message per second" in a chat; "short bursts"
   * pass, then 429s come (core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
   */
  readonly perChatPerSecond?: number;
  /** How many messages a chat takes at once before the per-second pace applies (default 3). */
  readonly perChatBurst?: number;
  /**
   * How long a callback query may wait for its answer (default 10 s). Telegram does not document
   * the window; reports put it at several seconds, after which answerCallbackQuery fails with
   * "query is too old and response timeout expired or query ID is invalid".
   */
  readonly callbackAnswerWindowMs?: number;
  /**
   * Telegram charges edits against the same flood budget as new messages, and a card edited in place
   * on every state change is exactly what trips it, so edits count unless a test opts out.
   */
  readonly countEdits?: boolean;
  /**
   * Telegram passes a bare "&" that starts no entity through as text. Set this to reject it instead,
   * to catch a renderer that forgets to escape.
   */
  readonly strictAmpersand?: boolean;
  /** Clock in milliseconds for message dates and flood windows; tests pass a fake one. */
  readonly now?: () => number;
  /** Receives one human-readable line per chat event (the standalone mode prints them). */
  readonly log?: (line: string) => void;
  /** Pause after a failed webhook delivery before the next attempt (Telegram's own is longer). */
  readonly webhookRetryMs?: number;
  /** How long a webhook POST may take before it counts as failed ("Read timeout expired"). */
  readonly webhookTimeoutMs?: number;
}

export interface ForumTopicInput {
  readonly chatId: number | string;
  readonly threadId: number;
  readonly name: string;
}

export interface CallRecord {
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly at: number;
  readonly status: "ok" | number;
  readonly description?: string;
}

/** The most successful calls to `chatId` among `methods` within any 60 s (Telegram's group limit window). */
export function busiestMinute(
  calls: readonly CallRecord[],
  chatId: number | string,
  methods: readonly string[],
): number {
  const times = calls
    .filter(
      (call) =>
        call.status === "ok" &&
        methods.includes(call.method) &&
        String(call.params.chat_id) === String(chatId),
    )
    .map((call) => call.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while ((times[last] ?? 0) - (times[first] ?? 0) >= 60_000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

export interface MessageVersion {
  readonly text: string;
  /** The raw HTML the bot sent, when parse_mode was HTML. */
  readonly html: string | undefined;
  readonly entities: readonly MessageEntity[];
  readonly reply_markup: InlineKeyboardMarkup | undefined;
  readonly date: number;
}

export interface EmulatedMessage extends MessageVersion {
  readonly message_id: number;
  readonly chat_id: number;
  /** The forum topic the message is in; undefined in a forum's General topic and outside forums. */
  readonly topic: number | undefined;
  readonly from_bot: boolean;
  readonly editCount: number;
  /** Earlier versions, oldest first. */
  readonly history: readonly MessageVersion[];
  /** The message as the Bot API would return it now. */
  readonly message: Message;
}

export interface FailureSpec {
  readonly error_code: number;
  readonly description: string;
  readonly retry_after?: number;
  readonly migrate_to_chat_id?: number;
}

export interface RemoveBotInput {
  readonly chatId: number | string;
  /** Who removed the bot (a group admin) or blocked it (the user of a private chat). */
  readonly byUserId?: number;
}

export interface PressButtonInput {
  readonly chatId: number | string;
  readonly messageId: number;
  readonly fromUserId: number;
  readonly data: string;
  readonly username?: string;
  /** Press even if no button of the message carries `data` (a forged or stale client). */
  readonly allowMissingButton?: boolean;
}

export interface UserMessageInput {
  readonly chatId: number | string;
  readonly fromUserId: number;
  readonly text: string;
  readonly username?: string;
  /** Written in this forum topic (message_thread_id); the General topic has none. */
  readonly threadId?: number;
}

export type UpdateInput = Omit<Update, "update_id"> & { readonly update_id?: number };

export interface FormattedText {
  readonly text: string;
  readonly entities: MessageEntity[];
}

/** An `ok: false` answer: `description` is exactly what the Bot API puts in the envelope. */
export class BotApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly retryAfter?: number,
    /** ResponseParameters.migrate_to_chat_id: the supergroup a group became. */
    readonly migrateToChatId?: number,
  ) {
    super(description);
    this.name = "BotApiError";
  }
}

const badRequest = (reason: string): BotApiError => new BotApiError(400, `Bad Request: ${reason}`);
const tooManyRequests = (retryAfter: number): BotApiError =>
  new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter);

// ─── Limits and Telegram's wording ──────────────────────────────────────────────────────────

const MAX_TEXT_LENGTH = 4096;
const MAX_CALLBACK_DATA_BYTES = 64;
const MAX_COMMANDS = 100;
const MAX_COMMAND_LENGTH = 32;
const MAX_COMMAND_DESCRIPTION_LENGTH = 256;
const GROUP_WINDOW_MS = 60_000;
const GLOBAL_WINDOW_MS = 1_000;

const NOT_MODIFIED =
  "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
const QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid";
// The answer for any call naming a group that became a supergroup, with
// parameters.migrate_to_chat_id (core.telegram.org/bots/api#responseparameters).
const GROUP_MIGRATED = "group chat was upgraded to a supergroup chat";
// A message_thread_id that is no topic of the chat: deleted, never created, or 1 (a forum's
// General topic takes no thread id), as reported against the Bot API (tdlib/telegram-bot-api
// issues #472, #798).
const THREAD_NOT_FOUND = "message thread not found";
// The icon colour Telegram gives a topic created without one (the first of its six colours).
const TOPIC_ICON_COLOR = 0x6fb9f0;
/** Telegram's 403 descriptions once the bot left a chat (as reported by bot libraries' error tables). */
const REMOVED: Readonly<Record<EmulatedChat["type"], string>> = {
  group: "Forbidden: bot was kicked from the group chat",
  supergroup: "Forbidden: bot was kicked from the supergroup chat",
  private: "Forbidden: bot was blocked by the user",
};
const CONFLICT =
  "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
/** Update types a bot gets when allowed_updates is absent or empty. */
const OPT_IN_UPDATE_TYPES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

// ─── HTML parse mode (a port of TDLib's parse_html) ─────────────────────────────────────────

class EntityParseError extends Error {}

const SUPPORTED_TAGS = new Set([
  "a",
  "b",
  "strong",
  "i",
  "em",
  "s",
  "strike",
  "del",
  "u",
  "ins",
  "tg-spoiler",
  "tg-emoji",
  "span",
  "pre",
  "code",
  "blockquote",
]);
const NAMED_CHARACTERS: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"' };
const SIMPLE_TAG_TYPES: Readonly<Record<string, MessageEntity.CommonMessageEntity["type"]>> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  "tg-spoiler": "spoiler",
  span: "spoiler",
};
const LINK_PROTOCOLS = new Set(["http:", "https:", "tg:", "ton:", "tonsite:"]);

interface OpenTag {
  readonly name: string;
  readonly argument: string;
  readonly expandable: boolean;
  /** UTF-16 offset in the plain text where the tag opened. */
  readonly offset: number;
}

/** Decodes `&lt;`, `&#60;`, `&#x3c;` at `pos` like TDLib (the `;` is optional); undefined if none. */
function decodeCharacterReference(s: string, pos: number): { value: string; end: number } | undefined {
  let end = pos + 1;
  let value: string | undefined;
  if (s[end] === "#") {
    end++;
    const hex = s[end] === "x";
    if (hex) end++;
    const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
    let code = 0;
    while (end < s.length && digit.test(s.charAt(end))) {
      code = code * (hex ? 16 : 10) + Number.parseInt(s.charAt(end), 16);
      end++;
      if (code >= 0x10ffff) return undefined;
    }
    const surrogate = code >= 0xd800 && code <= 0xdfff;
    if (code === 0 || surrogate || end - pos >= 10) return undefined;
    value = String.fromCodePoint(code);
  } else {
    while (end < s.length && /[A-Za-z]/.test(s.charAt(end))) end++;
    value = NAMED_CHARACTERS[s.slice(pos + 1, end)];
    if (value === undefined) return undefined;
  }
  if (s[end] === ";") end++;
  return { value, end };
}

function decodeAttributeValue(raw: string): string {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const ref = raw[i] === "&" ? decodeCharacterReference(raw, i) : undefined;
    if (ref) {
      out += ref.value;
      i = ref.end;
    } else {
      out += raw.charAt(i);
      i++;
    }
  }
  return out;
}

/** What TDLib's LinkManager::check_link accepts, normalised the same way (scheme added, "/" path). */
function checkLink(url: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`;
  try {
    const parsed = new URL(withScheme);
    if (!LINK_PROTOCOLS.has(parsed.protocol)) return undefined;
    if (parsed.protocol.startsWith("http") && !parsed.hostname.includes(".")) return undefined;
    return parsed.href;
  } catch {
    return undefined;
  }
}

class HtmlParser {
  private pos = 0;
  private text = "";
  private readonly open: OpenTag[] = [];
  private readonly entities: MessageEntity[] = [];
  private readonly codeLanguages = new Map<MessageEntity, string>();

  constructor(
    private readonly html: string,
    private readonly strictAmpersand: boolean,
  ) {}

  parse(): FormattedText {
    while (this.pos < this.html.length) {
      const c = this.html[this.pos];
      if (c === "&") this.readCharacterReference();
      else if (c === "<" && this.html[this.pos + 1] === "/") this.readEndTag();
      else if (c === "<") this.readStartTag();
      else this.readPlainRun();
    }
    const unclosed = this.open.at(-1);
    if (unclosed)
      throw new EntityParseError(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
    return { text: this.text, entities: this.entities };
  }

  private readPlainRun(): void {
    const next = this.html.slice(this.pos).search(/[<&]/);
    const end = next < 0 ? this.html.length : this.pos + next;
    this.text += this.html.slice(this.pos, end);
    this.pos = end;
  }

  private readCharacterReference(): void {
    const ref = decodeCharacterReference(this.html, this.pos);
    if (ref) {
      this.text += ref.value;
      this.pos = ref.end;
      return;
    }
    if (this.strictAmpersand) this.fail('Bare "&" must be escaped as "&amp;"', this.pos);
    this.text += "&";
    this.pos++;
  }

  private readStartTag(): void {
    const begin = this.pos;
    let i = begin + 1;
    while (!this.isSpaceAt(i) && this.html[i] !== ">") i++;
    if (i >= this.html.length) this.fail("Unclosed start tag", begin);
    const name = this.html.slice(begin + 1, i).toLowerCase();
    if (!SUPPORTED_TAGS.has(name)) this.fail(`Unsupported start tag "${name}"`, begin);
    const tag = this.readAttributes(name, begin, i);
    if (name === "span" && tag.argument !== "spoiler") {
      this.fail('Tag "span" must have class "tg-spoiler"', begin);
    }
    this.open.push({ name, argument: tag.argument, expandable: tag.expandable, offset: this.text.length });
    this.pos = tag.end + 1;
  }

  private readAttributes(tag: string, begin: number, from: number) {
    let i = from;
    let argument = "";
    let expandable = false;
    while (this.html[i] !== ">") {
      while (i < this.html.length && this.isSpaceAt(i)) i++;
      if (this.html[i] === ">") break;
      const nameStart = i;
      while (!this.isSpaceAt(i) && this.html[i] !== "=" && this.html[i] !== ">") i++;
      const attribute = this.html.slice(nameStart, i);
      if (attribute === "") this.fail(`Empty attribute name in the tag "${tag}"`, begin);
      while (i < this.html.length && this.isSpaceAt(i)) i++;
      if (this.html[i] !== "=") {
        if (tag === "blockquote" && attribute === "expandable") {
          expandable = true;
          continue;
        }
        this.fail(`Expected equal sign in declaration of an attribute of the tag "${tag}"`, begin);
      }
      i++;
      while (i < this.html.length && this.isSpaceAt(i)) i++;
      if (i >= this.html.length) this.fail(`Unclosed start tag "${tag}"`, begin);
      const value = this.readAttributeValue(i, begin);
      i = value.end;
      argument = tagArgument(tag, attribute, value.value) ?? argument;
      if (tag === "blockquote" && attribute === "expandable") expandable = true;
    }
    return { argument, expandable, end: i };
  }

  private readAttributeValue(start: number, tagBegin: number): { value: string; end: number } {
    const quote = this.html[start];
    if (quote === '"' || quote === "'") {
      const close = this.html.indexOf(quote, start + 1);
      if (close < 0) this.fail("Unclosed start tag", tagBegin);
      return { value: decodeAttributeValue(this.html.slice(start + 1, close)), end: close + 1 };
    }
    // An unquoted HTML name token: letters, digits, periods and hyphens, case-insensitive.
    let i = start;
    while (i < this.html.length && /[A-Za-z0-9.-]/.test(this.html.charAt(i))) i++;
    if (!this.isSpaceAt(i) && this.html[i] !== ">") this.fail("Unexpected end of name token", start);
    return { value: this.html.slice(start, i).toLowerCase(), end: i };
  }

  private readEndTag(): void {
    const begin = this.pos;
    const top = this.open.at(-1);
    if (!top) this.fail("Unexpected end tag", begin);
    let i = begin + 2;
    while (!this.isSpaceAt(i) && this.html[i] !== ">") i++;
    const name = this.html.slice(begin + 2, i);
    while (i < this.html.length && this.isSpaceAt(i)) i++;
    if (this.html[i] !== ">") this.fail("Unclosed end tag", begin);
    if (name !== "" && name !== top.name) {
      throw new EntityParseError(
        `Unmatched end tag at byte offset ${byteOffset(this.html, begin)}, expected "</${top.name}>", found "</${name}>"`,
      );
    }
    this.open.pop();
    this.closeEntity(top);
    this.pos = i + 1;
  }

  private closeEntity(tag: OpenTag): void {
    const offset = tag.offset;
    const length = this.text.length - offset;
    if (length <= 0) return;
    const simple = SIMPLE_TAG_TYPES[tag.name];
    if (simple) this.entities.push({ type: simple, offset, length });
    else if (tag.name === "a") this.closeLink(tag, offset, length);
    else if (tag.name === "tg-emoji") this.closeCustomEmoji(tag, offset, length);
    else if (tag.name === "code" || tag.name === "pre") this.closeCode(tag, offset, length);
    else if (tag.name === "blockquote") {
      this.entities.push({ type: tag.expandable ? "expandable_blockquote" : "blockquote", offset, length });
    }
  }

  private closeLink(tag: OpenTag, offset: number, length: number): void {
    // A link Telegram cannot open is dropped silently, not rejected.
    const url = checkLink(tag.argument || this.text.slice(offset));
    if (url !== undefined) this.entities.push({ type: "text_link", offset, length, url });
  }

  private closeCustomEmoji(tag: OpenTag, offset: number, length: number): void {
    if (!/^[1-9]\d{0,18}$/.test(tag.argument) || BigInt(tag.argument) > 2n ** 63n - 1n) {
      throw new EntityParseError("Invalid custom emoji identifier specified");
    }
    this.entities.push({ type: "custom_emoji", offset, length, custom_emoji_id: tag.argument });
  }

  /** `<pre><code class="language-x">` over the same text becomes one `pre` with a language. */
  private closeCode(tag: OpenTag, offset: number, length: number): void {
    const last = this.entities.at(-1);
    const sameRange = last !== undefined && last.offset === offset && last.length === length;
    if (tag.name === "pre" && sameRange && last.type === "code") {
      this.entities.pop();
      this.entities.push(preEntity(offset, length, this.codeLanguages.get(last) ?? ""));
    } else if (tag.name === "code" && sameRange && last.type === "pre" && tag.argument !== "") {
      this.entities.pop();
      this.entities.push(preEntity(offset, length, tag.argument));
    } else if (tag.name === "pre") {
      this.entities.push({ type: "pre", offset, length });
    } else {
      const code: MessageEntity = { type: "code", offset, length };
      if (tag.argument !== "") this.codeLanguages.set(code, tag.argument);
      this.entities.push(code);
    }
  }

  private isSpaceAt(i: number): boolean {
    return i >= this.html.length || " \t\r\n\v\0".includes(this.html.charAt(i));
  }

  private fail(reason: string, index: number): never {
    throw new EntityParseError(`${reason} at byte offset ${byteOffset(this.html, index)}`);
  }
}

function tagArgument(tag: string, attribute: string, value: string): string | undefined {
  if (tag === "a" && attribute === "href") return value;
  if (tag === "code" && attribute === "class" && value.startsWith("language-")) return value.slice(9);
  if (tag === "span" && attribute === "class" && value.startsWith("tg-")) return value.slice(3);
  if (tag === "tg-emoji" && attribute === "emoji-id") return value;
  return undefined;
}

function preEntity(offset: number, length: number, language: string): MessageEntity {
  return language === "" ? { type: "pre", offset, length } : { type: "pre", offset, length, language };
}

function byteOffset(s: string, index: number): number {
  return Buffer.byteLength(s.slice(0, index), "utf8");
}

/** Plain text plus entities, as Telegram derives them from `parse_mode: "HTML"` text (before trimming). */
export function parseTelegramHtml(html: string, options: { strictAmpersand?: boolean } = {}): FormattedText {
  try {
    return new HtmlParser(html, options.strictAmpersand ?? false).parse();
  } catch (error) {
    if (error instanceof EntityParseError) throw badRequest(`can't parse entities: ${error.message}`);
    throw error;
  }
}

// ─── Entity normalisation (what TDLib's fix_formatted_text does, in short) ──────────────────

/** Lower sorts first among entities that share offset and length (TDLib's type priority). */
const TYPE_PRIORITY: Readonly<Record<string, number>> = {
  blockquote: 0,
  expandable_blockquote: 0,
  pre: 11,
  code: 20,
  text_link: 49,
  text_mention: 49,
  bold: 90,
  italic: 91,
  underline: 92,
  strikethrough: 93,
  spoiler: 94,
  custom_emoji: 99,
};
/** Entities that may overlap others; every other type excludes auto-detected ones. */
const SPLITTABLE = new Set([
  "bold",
  "italic",
  "underline",
  "strikethrough",
  "spoiler",
  "blockquote",
  "expandable_blockquote",
]);
const AUTO_ENTITY_PATTERNS: readonly (readonly [MessageEntity.CommonMessageEntity["type"], RegExp])[] = [
  ["url", /\bhttps?:\/\/[^\s<>"']+/giu],
  ["bot_command", /(?<![\w/<>])\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])/gu],
  ["mention", /(?<![\w@])@[A-Za-z0-9_]{4,32}(?![\w@])/gu],
  ["hashtag", /(?<![\p{L}\p{N}_#])#[\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*/gu],
];

const entityEnd = (e: MessageEntity): number => e.offset + e.length;
const overlaps = (a: MessageEntity, b: MessageEntity): boolean =>
  a.offset < entityEnd(b) && b.offset < entityEnd(a);

function sortEntities(entities: readonly MessageEntity[]): MessageEntity[] {
  return [...entities].sort(
    (a, b) =>
      a.offset - b.offset ||
      b.length - a.length ||
      (TYPE_PRIORITY[a.type] ?? 50) - (TYPE_PRIORITY[b.type] ?? 50),
  );
}

/** Code and pre blocks show their text verbatim, so nothing inside them keeps formatting. */
function dropEntitiesInsideCode(entities: readonly MessageEntity[]): MessageEntity[] {
  const blocks = entities.filter((e) => e.type === "code" || e.type === "pre");
  return entities.filter(
    (e) => !blocks.some((b) => b !== e && b.offset <= e.offset && entityEnd(e) <= entityEnd(b)),
  );
}

function trimFormattedText({ text, entities }: FormattedText): FormattedText {
  const start = /^[ \t\r\n\v\f]*/.exec(text)?.[0].length ?? 0;
  const end = text.length - (/[ \t\r\n\v\f]*$/.exec(text.slice(start))?.[0].length ?? 0);
  const clipped = entities.flatMap((e) => {
    const offset = Math.max(e.offset, start);
    const length = Math.min(entityEnd(e), end) - offset;
    return length > 0 ? [{ ...e, offset: offset - start, length }] : [];
  });
  return { text: text.slice(start, end), entities: clipped };
}

/** URLs, /commands, @mentions and #hashtags, which Telegram marks up on its own. */
export function findTextEntities(text: string): MessageEntity[] {
  const found: MessageEntity[] = [];
  for (const [type, pattern] of AUTO_ENTITY_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const raw = type === "url" ? match[0].replace(/[.,:;!?)\]]+$/u, "") : match[0];
      const entity: MessageEntity = { type, offset: match.index, length: raw.length };
      if (!found.some((other) => overlaps(other, entity))) found.push(entity);
    }
  }
  return sortEntities(found);
}

function normalizeFormattedText(raw: FormattedText): FormattedText {
  const trimmed = trimFormattedText({ text: raw.text, entities: dropEntitiesInsideCode(raw.entities) });
  const fixed = trimmed.entities.filter((e) => !SPLITTABLE.has(e.type));
  const detected = findTextEntities(trimmed.text).filter((e) => !fixed.some((f) => overlaps(f, e)));
  return { text: trimmed.text, entities: sortEntities([...trimmed.entities, ...detected]) };
}

// ─── Parameters ─────────────────────────────────────────────────────────────────────────────

type Params = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJsonLoose(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** Reads parameters as leniently as the Bot API: numbers and booleans may arrive as strings. */
class ParamReader {
  constructor(readonly raw: Params) {}

  has(name: string): boolean {
    const value = this.raw[name];
    return value !== undefined && value !== null && value !== "";
  }

  optionalInt(name: string): number | undefined {
    const value = this.raw[name];
    if (typeof value === "number" && Number.isSafeInteger(value)) return value;
    if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
    return undefined;
  }

  optionalString(name: string): string | undefined {
    const value = this.raw[name];
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return undefined;
  }

  optionalBool(name: string): boolean | undefined {
    const value = this.raw[name];
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "1" || value === 1) return true;
    if (value === "false" || value === "0" || value === 0) return false;
    return undefined;
  }

  /** Objects and arrays arrive as JSON strings in query strings and forms. */
  optionalJson(name: string): unknown {
    const value = this.raw[name];
    return typeof value === "string" ? parseJsonLoose(value) : value;
  }

  requiredString(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) throw badRequest(`parameter "${name}" is required`);
    return value;
  }

  messageId(name = "message_id"): number {
    const id = this.optionalInt(name);
    if (id === undefined || id <= 0) throw badRequest("message identifier is not specified");
    return id;
  }
}

// ─── Reply markup ───────────────────────────────────────────────────────────────────────────

const BUTTON_ACTIONS = [
  "callback_data",
  "url",
  "web_app",
  "login_url",
  "switch_inline_query",
  "switch_inline_query_current_chat",
  "switch_inline_query_chosen_chat",
  "copy_text",
  "callback_game",
  "pay",
] as const;
const BUTTON_PARSE = "can't parse inline keyboard button:";

function parseInlineButton(raw: unknown): InlineKeyboardButton {
  if (!isRecord(raw)) throw badRequest(`${BUTTON_PARSE} InlineKeyboardButton must be an Object`);
  if (typeof raw.text !== "string") throw badRequest(`${BUTTON_PARSE} Field "text" must be of type String`);
  if (raw.text.trim() === "") throw badRequest("BUTTON_TEXT_INVALID");
  const actions = BUTTON_ACTIONS.filter((field) => raw[field] !== undefined);
  if (actions.length === 0)
    throw badRequest(`${BUTTON_PARSE} Text buttons are unallowed in the inline keyboard`);
  const data = raw.callback_data;
  if (data !== undefined && typeof data !== "string") {
    throw badRequest(`${BUTTON_PARSE} Field "callback_data" must be of type String`);
  }
  if (data !== undefined && (data === "" || Buffer.byteLength(data, "utf8") > MAX_CALLBACK_DATA_BYTES)) {
    throw badRequest("BUTTON_DATA_INVALID");
  }
  if (raw.url !== undefined && (typeof raw.url !== "string" || checkLink(raw.url) === undefined)) {
    throw badRequest("BUTTON_URL_INVALID");
  }
  const button: Record<string, unknown> = { text: raw.text };
  for (const field of actions) button[field] = raw[field];
  // Checked above: a text plus at least one action field, which is what every button variant is.
  return button as unknown as InlineKeyboardButton;
}

/** The inline keyboard of a reply_markup, if any; other keyboards are accepted but not echoed. */
function parseReplyMarkup(raw: unknown): InlineKeyboardMarkup | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (!isRecord(raw)) throw badRequest("can't parse reply keyboard markup JSON object");
  if (raw.inline_keyboard === undefined) return undefined;
  const rows = raw.inline_keyboard;
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row))) {
    throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
  }
  const keyboard = rows.map((row: unknown[]) => row.map(parseInlineButton)).filter((row) => row.length > 0);
  return keyboard.length > 0 ? { inline_keyboard: keyboard } : undefined;
}

function buttonsOf(markup: InlineKeyboardMarkup | undefined): InlineKeyboardButton[] {
  return markup?.inline_keyboard.flat() ?? [];
}

// ─── Explicit `entities` (the alternative to parse_mode) ────────────────────────────────────

const entityInputSchema = z.object({
  type: z.string(),
  offset: z.number().int().min(0),
  length: z.number().int().min(1),
  url: z.string().optional(),
  language: z.string().optional(),
  custom_emoji_id: z.string().optional(),
});
const COMMON_ENTITY_TYPES = new Set<string>([
  "mention",
  "hashtag",
  "cashtag",
  "bot_command",
  "url",
  "email",
  "phone_number",
  "bold",
  "italic",
  "underline",
  "strikethrough",
  "spoiler",
  "blockquote",
  "expandable_blockquote",
  "code",
]);

function isCommonEntityType(type: string): type is MessageEntity.CommonMessageEntity["type"] {
  return COMMON_ENTITY_TYPES.has(type);
}

function toMessageEntity(input: z.infer<typeof entityInputSchema>): MessageEntity | undefined {
  const { type, offset, length } = input;
  if (isCommonEntityType(type)) return { type, offset, length };
  if (type === "pre") return preEntity(offset, length, input.language ?? "");
  if (type === "text_link") {
    const url = checkLink(input.url ?? "");
    if (url === undefined) throw badRequest("can't parse entities: Wrong HTTP URL");
    return { type, offset, length, url };
  }
  if (type === "custom_emoji" && input.custom_emoji_id !== undefined) {
    return { type, offset, length, custom_emoji_id: input.custom_emoji_id };
  }
  return undefined;
}

function parseEntitiesParam(raw: unknown, text: string): MessageEntity[] {
  if (raw === undefined || raw === null || raw === "") return [];
  const parsed = z.array(entityInputSchema).safeParse(raw);
  if (!parsed.success) throw badRequest("can't parse entities JSON object");
  return parsed.data
    .map(toMessageEntity)
    .filter((e): e is MessageEntity => e !== undefined && entityEnd(e) <= text.length);
}

// ─── Flood control ──────────────────────────────────────────────────────────────────────────

interface FloodLimits {
  readonly groupPerMinute: number;
  readonly perSecond: number;
  readonly perChatPerSecond: number;
  readonly perChatBurst: number;
}

class FloodControl {
  private readonly perChat = new Map<number, number[]>();
  /** A token bucket per chat: `tokens` as of `at` (ms), refilled at perChatPerSecond. */
  private readonly pace = new Map<number, { tokens: number; at: number }>();
  private global: number[] = [];

  constructor(private readonly limits: FloodLimits) {}

  /**
   * Takes one slot for a message to `chatId`, or throws 429 with the seconds until one frees.
   * Every limit is checked before any is charged, so a refused message costs nothing.
   */
  acquire(chatId: number, now: number): void {
    const { groupPerMinute, perSecond, perChatPerSecond, perChatBurst } = this.limits;
    this.global = this.global.filter((t) => t > now - GLOBAL_WINDOW_MS);
    throwIfFull(this.global, perSecond, GLOBAL_WINDOW_MS, now);
    const bucket = this.pace.get(chatId) ?? { tokens: perChatBurst, at: now };
    const tokens = Math.min(perChatBurst, bucket.tokens + ((now - bucket.at) / 1000) * perChatPerSecond);
    if (tokens < 1) throw tooManyRequests(Math.max(1, Math.ceil((1 - tokens) / perChatPerSecond)));
    const chat = (this.perChat.get(chatId) ?? []).filter((t) => t > now - GROUP_WINDOW_MS);
    if (chatId < 0) throwIfFull(chat, groupPerMinute, GROUP_WINDOW_MS, now);
    this.global.push(now);
    this.perChat.set(chatId, [...chat, now]);
    this.pace.set(chatId, { tokens: tokens - 1, at: now });
  }

  clear(): void {
    this.perChat.clear();
    this.pace.clear();
    this.global = [];
  }
}

function throwIfFull(window: readonly number[], limit: number, windowMs: number, now: number): void {
  const oldest = window[window.length - limit];
  if (window.length < limit || oldest === undefined) return;
  throw tooManyRequests(Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)));
}

// ─── Update queue with long polling ─────────────────────────────────────────────────────────

interface PendingPoll {
  readonly wake: () => void;
  readonly release: () => void;
  readonly terminate: (error: BotApiError) => void;
}

class UpdateQueue {
  private updates: Update[] = [];
  private nextId = 1;
  private pending: PendingPoll | undefined;

  get isPolling(): boolean {
    return this.pending !== undefined;
  }

  push(update: UpdateInput): Update {
    const updateId = update.update_id ?? this.nextId;
    this.nextId = Math.max(this.nextId, updateId + 1);
    const stored: Update = { ...update, update_id: updateId };
    this.updates.push(stored);
    this.pending?.wake();
    return stored;
  }

  /** Forgets what the bot confirmed: ids below `offset`, or all but the last -offset when negative. */
  confirm(offset: number): void {
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
    if (offset < 0) this.updates = this.updates.slice(offset);
  }

  take(limit: number): Update[] {
    return this.updates.slice(0, limit);
  }

  /** Only one poll may wait: a newer getUpdates ends the older one with 409, as Telegram does. */
  poll(limit: number, timeoutMs: number, signal: AbortSignal): Promise<Update[]> {
    this.pending?.terminate(new BotApiError(409, CONFLICT));
    const ready = this.take(limit);
    if (ready.length > 0 || timeoutMs <= 0 || signal.aborted) return Promise.resolve(ready);
    return new Promise<Update[]>((resolvePoll, rejectPoll) => {
      const settle = (outcome: () => void): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", poll.release);
        if (this.pending === poll) this.pending = undefined;
        outcome();
      };
      const poll: PendingPoll = {
        wake: () => {
          const updates = this.take(limit);
          if (updates.length > 0) settle(() => resolvePoll(updates));
        },
        release: () => settle(() => resolvePoll([])),
        terminate: (error) => settle(() => rejectPoll(error)),
      };
      const timer = setTimeout(poll.release, timeoutMs);
      signal.addEventListener("abort", poll.release);
      this.pending = poll;
    });
  }

  releasePoll(): void {
    this.pending?.release();
  }

  // Webhook delivery confirms updates one by one, in whatever order their POSTs succeed.
  get size(): number {
    return this.updates.length;
  }

  remove(updateId: number): void {
    this.updates = this.updates.filter((u) => u.update_id !== updateId);
  }

  /** Ends a waiting getUpdates with `error` (setWebhook while a bot long-polls). */
  terminatePoll(error: BotApiError): void {
    this.pending?.terminate(error);
  }

  clear(): void {
    this.releasePoll();
    this.updates = [];
  }
}

// ─── Webhook delivery (setWebhook, deleteWebhook, getWebhookInfo) ───────────────────────────
//
// What the Bot API documents (core.telegram.org/bots/api#setwebhook, #getwebhookinfo,
// #getupdates): once a webhook is set, every update is sent as a JSON POST to its URL, with the
// header X-Telegram-Bot-Api-Secret-Token when a secret_token was given; an answer other than 2XY
// is retried "until a reasonable number of attempts"; getUpdates is refused with 409 while the
// webhook is set; getWebhookInfo reports the URL, the updates not yet delivered
// (pending_update_count) and the most recent delivery error (last_error_date, last_error_message).
// secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -; max_connections 1-100 (default 40),
// and Telegram delivers up to that many updates at once. Not emulated: webhook replies (a method
// call in the answer's body), custom certificates, and the HTTPS/port rule for loopback URLs,
// which tests cannot serve with a certificate Telegram would trust. The error wordings are
// Telegram's where we have seen them (409, "Wrong response from the webhook: …", "Connection
// refused", "Read timeout expired"); the 400 descriptions for a bad URL or token are ours.

const WEBHOOK_CONFLICT =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const WEBHOOK_PORTS = new Set(["80", "88", "443", "8443"]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

interface WebhookSettings {
  readonly url: string;
  readonly secretToken: string | undefined;
  readonly maxConnections: number;
  readonly allowedUpdates: readonly string[] | undefined;
}

export interface WebhookInfo {
  readonly url: string;
  readonly has_custom_certificate: false;
  readonly pending_update_count: number;
  readonly max_connections?: number;
  readonly allowed_updates?: readonly string[];
  readonly last_error_date?: number;
  readonly last_error_message?: string;
}

/** The setWebhook parameters checked as Telegram checks them, or a 400. */
function parseWebhookSettings(p: ParamReader): WebhookSettings | undefined {
  const raw = (p.optionalString("url") ?? "").trim();
  if (raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest("bad webhook: invalid webhook URL specified");
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !(loopback && url.protocol === "http:"))
    throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
  const port = url.port === "" ? (url.protocol === "https:" ? "443" : "80") : url.port;
  if (!loopback && !WEBHOOK_PORTS.has(port))
    throw badRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443");
  const secretToken = p.optionalString("secret_token");
  if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken))
    throw badRequest("bad webhook: secret token must be 1-256 characters of A-Z, a-z, 0-9, _ and -");
  const maxConnections = p.optionalInt("max_connections") ?? 40;
  if (maxConnections < 1 || maxConnections > 100)
    throw badRequest("bad webhook: max_connections must be between 1 and 100");
  const allowed = p.optionalJson("allowed_updates");
  const allowedUpdates = Array.isArray(allowed)
    ? allowed.filter((t): t is string => typeof t === "string")
    : undefined;
  return { url: url.href, secretToken, maxConnections, allowedUpdates };
}

/** Pushes queued updates to the webhook, up to max_connections at once, retrying failures. */
class WebhookDelivery {
  private settings: WebhookSettings | undefined;
  private readonly inFlight = new Set<number>();
  private readonly requests = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private lastError: { readonly date: number; readonly message: string } | undefined;
  private pausedUntil = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: UpdateQueue,
    private readonly options: {
      readonly retryMs: number;
      readonly timeoutMs: number;
      readonly now: () => number;
      readonly log: (line: string) => void;
    },
  ) {}

  get active(): boolean {
    return this.settings !== undefined;
  }

  set(settings: WebhookSettings): void {
    this.settings = settings;
    this.lastError = undefined;
    this.pausedUntil = 0;
    this.kick();
  }

  remove(): void {
    this.settings = undefined;
    this.lastError = undefined;
    clearTimeout(this.retryTimer);
  }

  info(): WebhookInfo {
    const settings = this.settings;
    if (!settings) return { url: "", has_custom_certificate: false, pending_update_count: this.queue.size };
    return {
      url: settings.url,
      has_custom_certificate: false,
      pending_update_count: this.queue.size,
      max_connections: settings.maxConnections,
      ...(settings.allowedUpdates === undefined ? {} : { allowed_updates: settings.allowedUpdates }),
      ...(this.lastError === undefined
        ? {}
        : {
            last_error_date: Math.floor(this.lastError.date / 1000),
            last_error_message: this.lastError.message,
          }),
    };
  }

  /** Starts a POST for every queued update not yet under way, as connections allow. */
  kick(): void {
    const settings = this.settings;
    if (!settings || this.stopping.signal.aborted) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.kick(), wait);
      this.retryTimer.unref();
      return;
    }
    for (const update of this.queue.take(100)) {
      if (this.inFlight.size >= settings.maxConnections) break;
      if (this.inFlight.has(update.update_id)) continue;
      this.inFlight.add(update.update_id);
      const request = this.deliver(settings, update).finally(() => {
        this.inFlight.delete(update.update_id);
        this.requests.delete(request);
        this.kick();
      });
      this.requests.add(request);
    }
  }

  async close(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.retryTimer);
    await Promise.allSettled([...this.requests]);
  }

  private async deliver(settings: WebhookSettings, update: Update): Promise<void> {
    let failure: string;
    try {
      const response = await fetch(settings.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(settings.secretToken === undefined
            ? {}
            : { "x-telegram-bot-api-secret-token": settings.secretToken }),
        },
        body: JSON.stringify(update),
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.arrayBuffer();
      if (response.status >= 200 && response.status < 300) {
        this.queue.remove(update.update_id);
        return;
      }
      failure = `Wrong response from the webhook: ${response.status} ${response.statusText}`;
    } catch (error) {
      if (this.stopping.signal.aborted) return;
      failure =
        error instanceof Error && error.name === "TimeoutError"
          ? "Read timeout expired"
          : "Connection refused";
    }
    this.lastError = { date: this.options.now(), message: failure };
    this.pausedUntil = Date.now() + this.options.retryMs;
    this.options.log(`webhook delivery of update ${update.update_id} failed: ${failure}`);
  }
}

// ─── Stored state ───────────────────────────────────────────────────────────────────────────

type EmulatedChat = Chat.PrivateChat | Chat.GroupChat | Chat.SupergroupChat;
type ReplyMessage = NonNullable<Message["reply_to_message"]>;

interface StoredMessage {
  message: Message;
  html: string | undefined;
  editCount: number;
  history: MessageVersion[];
  readonly fromBot: boolean;
}

interface StoredCallbackQuery {
  readonly query: CallbackQuery;
  /** When the press happened (ms, the emulator's clock). */
  readonly at: number;
  answer: Readonly<Record<string, unknown>> | undefined;
}

interface MessageContent {
  readonly formatted: FormattedText;
  readonly html: string | undefined;
}

const SUPERGROUP_ID_FLOOR = -1_000_000_000_000;

function defaultChat(id: number, username?: string): EmulatedChat {
  if (id > 0) return { id, type: "private", first_name: `User ${id}`, ...(username ? { username } : {}) };
  if (id <= SUPERGROUP_ID_FLOOR) {
    return {
      id,
      type: "supergroup",
      title: username ?? `Supergroup ${id}`,
      ...(username ? { username } : {}),
    };
  }
  return { id, type: "group", title: `Group ${id}` };
}

function versionOf(stored: StoredMessage): MessageVersion {
  const m = stored.message;
  return {
    text: m.text ?? "",
    html: stored.html,
    entities: m.entities ?? [],
    reply_markup: m.reply_markup,
    date: m.edit_date ?? m.date,
  };
}

function sameContent(message: Message, formatted: FormattedText, markup: InlineKeyboardMarkup | undefined) {
  return (
    message.text === formatted.text &&
    JSON.stringify(message.entities ?? []) === JSON.stringify(formatted.entities) &&
    JSON.stringify(message.reply_markup) === JSON.stringify(markup)
  );
}

function updateType(update: UpdateInput): string | undefined {
  return Object.keys(update).find((key) => key !== "update_id");
}

function chatsInUpdate(update: UpdateInput): Chat[] {
  const messages = [
    update.message,
    update.edited_message,
    update.channel_post,
    update.callback_query?.message,
  ];
  const memberChats = [update.my_chat_member?.chat, update.chat_member?.chat];
  return [...messages.map((m) => m?.chat), ...memberChats].filter((c): c is Chat => c !== undefined);
}

// ─── Control routes for the standalone mode (a demo drives the chat over HTTP) ──────────────

const controlPressSchema = z.object({
  chat_id: z.union([z.number(), z.string()]),
  message_id: z.number().int(),
  from_user_id: z.number().int(),
  data: z.string(),
  username: z.string().optional(),
});
const controlChatSchema = z.object({
  chat_id: z.union([z.number(), z.string()]),
  by_user_id: z.number().int().optional(),
});
const controlUserMessageSchema = z.object({
  chat_id: z.union([z.number(), z.string()]),
  from_user_id: z.number().int(),
  text: z.string(),
  username: z.string().optional(),
  message_thread_id: z.number().int().optional(),
});
const controlTopicSchema = z.object({
  chat_id: z.union([z.number(), z.string()]),
  name: z.string().optional(),
  message_thread_id: z.number().int().optional(),
});

// ─── The emulator ───────────────────────────────────────────────────────────────────────────

type MethodHandler = (params: ParamReader, signal: AbortSignal) => unknown;

export class TelegramEmulator {
  readonly token: string;
  readonly botId: number;
  private readonly bot: UserFromGetMe;
  private readonly server: Server;
  private readonly now: () => number;
  private readonly flood: FloodControl;
  private readonly countEdits: boolean;
  private readonly strictAmpersand: boolean;
  private readonly enforceKnownChats: boolean;
  private readonly callbackAnswerWindowMs: number;
  private readonly log: ((line: string) => void) | undefined;
  private readonly methods: ReadonlyMap<string, { readonly name: string; readonly handle: MethodHandler }>;
  private readonly events = new EventEmitter();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly updates = new UpdateQueue();
  private readonly webhook: WebhookDelivery;
  private readonly initialChats: readonly (number | string)[];
  private readonly initialTopics: readonly ForumTopicInput[];
  private chats = new Map<number, EmulatedChat>();
  /** Forum topics per chat: message_thread_id → name. */
  private topics = new Map<number, Map<number, string>>();
  /** Groups that became supergroups: old id → new id. */
  private migrated = new Map<number, number>();
  /** Chats the bot was removed from (or, for a private chat, blocked in). */
  private removed = new Set<number>();
  private usernames = new Map<string, number>();
  private store = new Map<number, Map<number, StoredMessage>>();
  private nextMessageIds = new Map<number, number>();
  private callbackQueries = new Map<string, StoredCallbackQuery>();
  private nextCallbackQueryId = 1;
  private commands = new Map<string, BotCommand[]>();
  private failures = new Map<string, FailureSpec[]>();
  private outageFailure: FailureSpec | undefined;
  private allowedUpdates: ReadonlySet<string> | undefined;
  private callLog: CallRecord[] = [];
  private port: number;
  private closing = false;

  constructor(options: TelegramEmulatorOptions = {}) {
    this.token = options.token ?? "123456:TEST-TOKEN";
    const botId = /^(\d+):[\w-]+$/.exec(this.token)?.[1];
    if (botId === undefined) throw new Error(`Bot token "${this.token}" is not <digits>:<secret>`);
    this.botId = Number(botId);
    this.bot = {
      id: this.botId,
      is_bot: true,
      first_name: options.botFirstName ?? "ChatOps Test Bot",
      username: options.botUsername ?? "chatops_test_bot",
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    };
    this.port = options.port ?? 0;
    this.now = options.now ?? Date.now;
    this.flood = new FloodControl({
      groupPerMinute: options.groupPerMinute ?? 20,
      perSecond: options.perSecond ?? 30,
      perChatPerSecond: options.perChatPerSecond ?? 1,
      perChatBurst: options.perChatBurst ?? 3,
    });
    this.callbackAnswerWindowMs = options.callbackAnswerWindowMs ?? 10_000;
    this.countEdits = options.countEdits ?? true;
    this.strictAmpersand = options.strictAmpersand ?? false;
    this.enforceKnownChats = options.knownChats !== undefined;
    this.initialChats = options.knownChats ?? [];
    this.initialTopics = options.forumTopics ?? [];
    this.log = options.log;
    this.methods = this.buildMethodTable();
    this.webhook = new WebhookDelivery(this.updates, {
      retryMs: options.webhookRetryMs ?? 1_000,
      timeoutMs: options.webhookTimeoutMs ?? 10_000,
      now: this.now,
      log: (line) => this.emitLog(line),
    });
    this.registerInitialChats();
    this.server = createServer((req, res) => this.track(this.route(req, res)));
  }

  static async start(options: TelegramEmulatorOptions = {}): Promise<TelegramEmulator> {
    const emulator = new TelegramEmulator(options);
    await emulator.start();
    return emulator;
  }

  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolveListen, rejectListen) => {
      this.server.once("error", rejectListen);
      this.server.listen(this.port, "127.0.0.1", () => {
        this.server.off("error", rejectListen);
        resolveListen();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Answers a waiting getUpdates with [] and stops listening; safe to call twice. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.updates.releasePoll();
    await this.webhook.close();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
    await Promise.allSettled([...this.inFlight]);
    this.server.closeAllConnections();
    await closed;
  }

  /** Back to an empty world: no messages, updates, calls, commands, flood history or failures. */
  reset(): void {
    this.updates.clear();
    this.webhook.remove();
    this.chats = new Map();
    this.topics = new Map();
    this.migrated = new Map();
    this.removed = new Set();
    this.usernames = new Map();
    this.store = new Map();
    this.nextMessageIds = new Map();
    this.callbackQueries = new Map();
    this.commands = new Map();
    this.failures = new Map();
    this.outageFailure = undefined;
    this.allowedUpdates = undefined;
    this.callLog = [];
    this.flood.clear();
    this.registerInitialChats();
  }

  // ─── Inspection API ────────────────────────────────────────────────────────────────────────

  get calls(): readonly CallRecord[] {
    return this.callLog;
  }

  /** True while a getUpdates long poll is waiting. */
  get pollPending(): boolean {
    return this.updates.isPolling;
  }

  callsOf(method: string): CallRecord[] {
    return this.callLog.filter((call) => call.method === method);
  }

  /**
   * The command menu a user whose Telegram app is set to `languageCode` sees in the default scope:
   * the list set for that language, else the list set without one (as Telegram resolves it).
   */
  commandMenu(languageCode?: string): BotCommand[] {
    const scope = JSON.stringify({ type: "default" });
    const own = languageCode === undefined ? undefined : this.commands.get(`${scope}|${languageCode}`);
    return own ?? this.commands.get(`${scope}|`) ?? [];
  }

  /** Current state of every message in the chat that has not been deleted, oldest first. */
  messages(chatId: number | string): EmulatedMessage[] {
    const id = this.chatIdOf(chatId);
    const chatStore = id === undefined ? undefined : this.store.get(id);
    return [...(chatStore?.values() ?? [])]
      .sort((a, b) => a.message.message_id - b.message.message_id)
      .map((stored) => this.snapshot(stored));
  }

  message(chatId: number | string, messageId: number): EmulatedMessage | undefined {
    return this.messages(chatId).find((m) => m.message_id === messageId);
  }

  answerOf(callbackQueryId: string): Readonly<Record<string, unknown>> | undefined {
    return this.callbackQueries.get(callbackQueryId)?.answer;
  }

  /** Resolves with the first recorded call (past or future) matching `predicate`. */
  waitFor(predicate: (call: CallRecord) => boolean, timeoutMs = 2_000): Promise<CallRecord> {
    const done = this.callLog.find(predicate);
    if (done) return Promise.resolve(done);
    return new Promise((resolveWait, rejectWait) => {
      const listener = (call: CallRecord): void => {
        if (!predicate(call)) return;
        clearTimeout(timer);
        this.events.off("call", listener);
        resolveWait(call);
      };
      const timer = setTimeout(() => {
        this.events.off("call", listener);
        rejectWait(new Error(`No matching Bot API call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.on("call", listener);
    });
  }

  /** The next call of `method` answers with this error instead of running. */
  failNext(method: string, failure: FailureSpec): void {
    const key = method.toLowerCase();
    this.failures.set(key, [...(this.failures.get(key) ?? []), failure]);
  }

  /**
   * Telegram having a bad day: every call answers `failure` (a 500 "Internal Server Error", or a
   * 502 "Bad Gateway" from the front end) until `outage(undefined)` ends it.
   */
  outage(failure: FailureSpec | undefined): void {
    this.outageFailure = failure;
  }

  /**
   * Queues an update for getUpdates and learns the chats in it. Returns the update_id, or -1 when
   * the bot's allowed_updates excludes the type (Telegram drops those updates too).
   */
  pushUpdate(update: UpdateInput): number {
    for (const chat of chatsInUpdate(update)) this.learnChat(chat);
    const message = update.message;
    if (message) this.rememberIncoming(message);
    const type = updateType(update) ?? "";
    const allowed = this.allowedUpdates ? this.allowedUpdates.has(type) : !OPT_IN_UPDATE_TYPES.has(type);
    if (!allowed) return -1;
    const pushed = this.updates.push(update).update_id;
    this.webhook.kick();
    return pushed;
  }

  /** A user taps an inline button: queues a callback_query update and returns its id. */
  pressButton(input: PressButtonInput): string {
    const chatId = this.requireChat(input.chatId).id;
    const stored = this.store.get(chatId)?.get(input.messageId);
    if (!stored) throw new Error(`pressButton: no message ${input.messageId} in chat ${chatId}`);
    const button = buttonsOf(stored.message.reply_markup).find(
      (b) => "callback_data" in b && b.callback_data === input.data,
    );
    if (!button && input.allowMissingButton !== true) {
      // what the message does offer, so a failing test says which keyboard it met
      const offered = buttonsOf(stored.message.reply_markup).map((b) =>
        "callback_data" in b ? b.callback_data : b.text,
      );
      throw new Error(
        `pressButton: message ${input.messageId} has no button with data "${input.data}" (it has ${JSON.stringify(offered)})`,
      );
    }
    const id = `${this.botId}${String(this.nextCallbackQueryId++).padStart(8, "0")}`;
    const query: CallbackQuery = {
      id,
      from: userOf(input.fromUserId, input.username),
      message: structuredClone(stored.message),
      chat_instance: `${chatId}`,
      data: input.data,
    };
    this.callbackQueries.set(id, { query, at: this.now(), answer: undefined });
    this.pushUpdate({ callback_query: query });
    this.emitLog(
      `[${chatId}] user ${input.fromUserId} pressed "${button?.text ?? input.data}" on #${input.messageId}`,
    );
    return id;
  }

  /** A user writes in the chat: queues a message update (entities as a Telegram client sends them). */
  sendUserMessage(input: UserMessageInput): Message {
    // A user writing to the bot makes the chat known, as on Telegram.
    const chat = this.requireChat(input.chatId, true);
    const threadId = input.threadId;
    if (threadId !== undefined && this.topics.get(chat.id)?.has(threadId) !== true)
      throw new Error(`sendUserMessage: chat ${chat.id} has no topic ${threadId}`);
    const entities = findTextEntities(input.text);
    const message = {
      message_id: this.allocateMessageId(chat.id),
      ...(threadId === undefined ? {} : { message_thread_id: threadId, is_topic_message: true as const }),
      from: userOf(input.fromUserId, input.username),
      chat,
      date: this.unixNow(),
      text: input.text,
      ...(entities.length > 0 ? { entities } : {}),
    } satisfies Message;
    this.pushUpdate({ message });
    this.emitLog(
      `[${chat.id}${threadId === undefined ? "" : `/${threadId}`}] user ${input.fromUserId}: ${input.text}`,
    );
    return message;
  }

  /**
   * A group becomes a supergroup (Telegram does this itself when a group grows or an admin turns
   * on a supergroup feature). As on Telegram: the group keeps its history but answers every call
   * with 400 and parameters.migrate_to_chat_id; the bot gets two service messages as updates,
   * migrate_to_chat_id in the old chat and migrate_from_chat_id in the new one
   * (core.telegram.org/bots/api#message). Returns the supergroup's id. `missed: true` keeps the
   * service messages from the bot, as for a bot that was down longer than Telegram keeps updates
   * (24 h), or whose webhook kept failing: its next call to the group is how it learns.
   */
  migrateChat(
    groupId: number | string,
    options: { supergroupId?: number; byUserId?: number; missed?: boolean } = {},
  ): number {
    const group = this.requireChat(groupId, true);
    if (group.type !== "group")
      throw new Error(`migrateChat: chat ${group.id} is a ${group.type}, not a group`);
    const supergroupId = options.supergroupId ?? SUPERGROUP_ID_FLOOR - Math.abs(group.id);
    if (supergroupId > SUPERGROUP_ID_FLOOR)
      throw new Error(`migrateChat: ${supergroupId} is not a supergroup id`);
    const supergroup: EmulatedChat = { id: supergroupId, type: "supergroup", title: group.title };
    this.learnChat(supergroup);
    this.migrated.set(group.id, supergroupId);
    const from = userOf(options.byUserId ?? 1, undefined);
    const announce = options.missed !== true;
    const to = {
      message_id: this.allocateMessageId(group.id),
      from,
      chat: group,
      date: this.unixNow(),
      migrate_to_chat_id: supergroupId,
    } satisfies Message;
    const fromGroup = {
      message_id: this.allocateMessageId(supergroupId),
      from,
      chat: supergroup,
      date: this.unixNow(),
      migrate_from_chat_id: group.id,
    } satisfies Message;
    if (announce) this.pushUpdate({ message: to });
    if (announce) this.pushUpdate({ message: fromGroup });
    this.emitLog(`[${group.id}] upgraded to supergroup ${supergroupId}${announce ? "" : " (bot not told)"}`);
    return supergroupId;
  }

  /**
   * Someone creates a forum topic in a supergroup, which becomes a forum (`is_forum`) if it was
   * not. As on Telegram, the topic is named by the id of its creation message, the service message
   * forum_topic_created, which is in the topic and reaches the bot as an update
   * (core.telegram.org/bots/api#forumtopiccreated). Returns the topic's message_thread_id.
   */
  openTopic(
    chatId: number | string,
    name: string,
    options: { threadId?: number; byUserId?: number } = {},
  ): number {
    const created = this.createTopic(
      chatId,
      name,
      options.threadId,
      userOf(options.byUserId ?? 1, undefined),
    );
    this.pushUpdate({ message: created });
    return created.message_id;
  }

  /**
   * An admin deletes a forum topic, and with it every message in it, as deleteForumTopic does
   * (core.telegram.org/bots/api#deleteforumtopic); no update tells the bot. From then on a send
   * to its message_thread_id answers 400 "message thread not found".
   */
  deleteTopic(chatId: number | string, threadId: number): void {
    const chat = this.requireChat(chatId);
    if (this.topics.get(chat.id)?.delete(threadId) !== true)
      throw new Error(`deleteTopic: chat ${chat.id} has no topic ${threadId}`);
    const chatStore = this.store.get(chat.id);
    for (const [messageId, stored] of chatStore ?? []) {
      if (stored.message.is_topic_message === true && stored.message.message_thread_id === threadId)
        chatStore?.delete(messageId);
    }
    this.emitLog(`[${chat.id}] topic ${threadId} deleted`);
  }

  /** Messages of one forum topic, oldest first; undefined: the General topic (no thread id). */
  topicMessages(chatId: number | string, threadId: number | undefined): EmulatedMessage[] {
    return this.messages(chatId).filter((message) => message.topic === threadId);
  }

  /**
   * An admin removes the bot from a group (or the user blocks it in a private chat): from then on
   * every call for the chat answers 403, and the bot gets a my_chat_member update whose new
   * status is "kicked" (core.telegram.org/bots/api#chatmemberupdated). Returns the update_id.
   */
  removeBot(input: RemoveBotInput): number {
    const chat = this.requireChat(input.chatId, true);
    this.removed.add(chat.id);
    this.emitLog(`[${chat.id}] bot removed`);
    return this.pushUpdate({
      my_chat_member: {
        chat,
        from: userOf(input.byUserId ?? (chat.type === "private" ? chat.id : 1), undefined),
        date: this.unixNow(),
        old_chat_member: { user: this.botUser(), status: "member" },
        new_chat_member: { user: this.botUser(), status: "kicked", until_date: 0 },
      },
    });
  }

  /** Someone adds the bot back (or the user unblocks it): calls work again, and a my_chat_member says so. */
  addBot(input: RemoveBotInput): number {
    const chat = this.requireChat(input.chatId, true);
    this.removed.delete(chat.id);
    this.emitLog(`[${chat.id}] bot added`);
    return this.pushUpdate({
      my_chat_member: {
        chat,
        from: userOf(input.byUserId ?? (chat.type === "private" ? chat.id : 1), undefined),
        date: this.unixNow(),
        old_chat_member: { user: this.botUser(), status: "kicked", until_date: 0 },
        new_chat_member: { user: this.botUser(), status: "member" },
      },
    });
  }

  // ─── HTTP ──────────────────────────────────────────────────────────────────────────────────

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    try {
      if (url.pathname.startsWith("/emulator/")) {
        sendJson(res, 200, { ok: true, result: this.control(url, await readParams(req, url)) });
        return;
      }
      await this.handleApiCall(req, res, url, abort.signal);
    } catch (error) {
      sendJson(res, ...errorResponse(error));
    }
  }

  private async handleApiCall(req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal) {
    const match = /^\/bot([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!match) throw new BotApiError(404, "Not Found");
    if (match[1] !== this.token) throw new BotApiError(401, "Unauthorized");
    const method = this.methods.get((match[2] ?? "").toLowerCase());
    if (!method) throw new BotApiError(404, "Not Found");
    const params = await readParams(req, url);
    const at = this.now();
    try {
      const result = await this.invoke(method.name, method.handle, new ParamReader(params), signal);
      this.record({ method: method.name, params, at, status: "ok" });
      sendJson(res, 200, { ok: true, result });
    } catch (error) {
      if (!(error instanceof BotApiError)) throw error;
      this.record({
        method: method.name,
        params,
        at,
        status: error.errorCode,
        description: error.description,
      });
      throw error;
    }
  }

  private async invoke(name: string, handle: MethodHandler, params: ParamReader, signal: AbortSignal) {
    const injected = this.outageFailure ?? this.failures.get(name.toLowerCase())?.shift();
    if (injected) {
      throw new BotApiError(
        injected.error_code,
        injected.description,
        injected.retry_after,
        injected.migrate_to_chat_id,
      );
    }
    return await handle(params, signal);
  }

  private record(call: CallRecord): void {
    this.callLog.push(call);
    this.events.emit("call", call);
  }

  private control(url: URL, body: Params): unknown {
    switch (url.pathname) {
      case "/emulator/updates":
        return this.pushUpdate(body);
      case "/emulator/press-button": {
        const input = controlPressSchema.parse(body);
        return this.pressButton({
          chatId: input.chat_id,
          messageId: input.message_id,
          fromUserId: input.from_user_id,
          data: input.data,
          ...(input.username === undefined ? {} : { username: input.username }),
        });
      }
      case "/emulator/user-message": {
        const input = controlUserMessageSchema.parse(body);
        return this.sendUserMessage({
          chatId: input.chat_id,
          fromUserId: input.from_user_id,
          text: input.text,
          ...(input.username === undefined ? {} : { username: input.username }),
          ...(input.message_thread_id === undefined ? {} : { threadId: input.message_thread_id }),
        });
      }
      case "/emulator/open-topic": {
        const input = controlTopicSchema.parse(body);
        return this.openTopic(
          input.chat_id,
          input.name ?? "Topic",
          input.message_thread_id === undefined ? {} : { threadId: input.message_thread_id },
        );
      }
      case "/emulator/delete-topic": {
        const input = controlTopicSchema.parse(body);
        this.deleteTopic(input.chat_id, input.message_thread_id ?? 0);
        return true;
      }
      case "/emulator/migrate-chat": {
        const input = controlChatSchema.parse(body);
        return this.migrateChat(
          input.chat_id,
          input.by_user_id === undefined ? {} : { byUserId: input.by_user_id },
        );
      }
      case "/emulator/remove-bot":
      case "/emulator/add-bot": {
        const input = controlChatSchema.parse(body);
        const change = {
          chatId: input.chat_id,
          ...(input.by_user_id === undefined ? {} : { byUserId: input.by_user_id }),
        };
        return url.pathname === "/emulator/remove-bot" ? this.removeBot(change) : this.addBot(change);
      }
      case "/emulator/messages":
        return this.messages(new ParamReader(body).requiredString("chat_id"));
      default:
        throw new BotApiError(404, "Not Found");
    }
  }

  // ─── Bot API methods ───────────────────────────────────────────────────────────────────────

  private buildMethodTable() {
    const table: Record<string, MethodHandler> = {
      getMe: () => this.bot,
      getUpdates: (p, signal) => this.getUpdates(p, signal),
      setWebhook: (p) => this.setWebhook(p),
      deleteWebhook: (p) => this.deleteWebhook(p),
      getWebhookInfo: () => this.webhook.info(),
      sendMessage: (p) => this.sendMessage(p),
      editMessageText: (p) => this.editMessageText(p),
      editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
      deleteMessage: (p) => this.deleteMessage(p),
      answerCallbackQuery: (p) => this.answerCallbackQuery(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: (p) => this.commands.get(commandScopeKey(p)) ?? [],
      deleteMyCommands: (p) => {
        this.commands.delete(commandScopeKey(p));
        return true;
      },
    };
    // Bot API method names are case-insensitive.
    return new Map(Object.entries(table).map(([name, handle]) => [name.toLowerCase(), { name, handle }]));
  }

  private async getUpdates(p: ParamReader, signal: AbortSignal): Promise<Update[]> {
    if (this.webhook.active) throw new BotApiError(409, WEBHOOK_CONFLICT);
    const allowed = p.optionalJson("allowed_updates");
    if (Array.isArray(allowed)) {
      const types = allowed.filter((t): t is string => typeof t === "string");
      this.allowedUpdates = types.length > 0 ? new Set(types) : undefined;
    }
    this.updates.confirm(p.optionalInt("offset") ?? 0);
    const limit = Math.min(100, Math.max(1, p.optionalInt("limit") ?? 100));
    const timeoutMs = this.closing ? 0 : Math.max(0, p.optionalInt("timeout") ?? 0) * 1000;
    return this.updates.poll(limit, timeoutMs, signal);
  }

  // ─── Webhook methods (see "Webhook delivery" above) ───

  private setWebhook(p: ParamReader): true {
    const settings = parseWebhookSettings(p);
    if (p.optionalBool("drop_pending_updates") === true) this.updates.clear();
    if (settings === undefined) {
      this.webhook.remove();
      return true;
    }
    // "If not specified, the previous setting will be used", as for getUpdates
    if (settings.allowedUpdates !== undefined)
      this.allowedUpdates = settings.allowedUpdates.length > 0 ? new Set(settings.allowedUpdates) : undefined;
    this.updates.terminatePoll(new BotApiError(409, WEBHOOK_CONFLICT));
    this.webhook.set(settings);
    this.emitLog(`webhook set: ${settings.url}`);
    return true;
  }

  private deleteWebhook(p: ParamReader): true {
    if (p.optionalBool("drop_pending_updates") === true) this.updates.clear();
    this.webhook.remove();
    return true;
  }

  private sendMessage(p: ParamReader): Message {
    const chat = this.chatParam(p);
    const content = this.contentParam(p);
    const markup = parseReplyMarkup(p.optionalJson("reply_markup"));
    const replyTo = this.replyTarget(p, chat.id);
    const thread = this.threadOf(p, chat, replyTo);
    this.flood.acquire(chat.id, this.now());
    const message: Message = {
      message_id: this.allocateMessageId(chat.id),
      ...thread,
      from: this.botUser(),
      chat,
      date: this.unixNow(),
      text: content.formatted.text,
      ...(content.formatted.entities.length > 0 ? { entities: content.formatted.entities } : {}),
      ...(markup ? { reply_markup: markup } : {}),
      ...(replyTo ? { reply_to_message: replyTo } : {}),
    };
    this.saveMessage(chat.id, { message, html: content.html, editCount: 0, history: [], fromBot: true });
    const where = thread.is_topic_message === true ? `${chat.id}/${thread.message_thread_id}` : `${chat.id}`;
    this.emitLog(`[${where}] bot #${message.message_id}: ${message.text ?? ""}${describeButtons(markup)}`);
    return message;
  }

  private editMessageText(p: ParamReader): Message {
    const stored = this.editableMessage(p);
    const content = this.contentParam(p);
    const markup = parseReplyMarkup(p.optionalJson("reply_markup"));
    const message = this.applyEdit(stored, content.formatted, markup, content.html);
    this.emitLog(
      `[${message.chat.id}] bot #${message.message_id} edited: ${message.text ?? ""}${describeButtons(markup)}`,
    );
    return message;
  }

  private editMessageReplyMarkup(p: ParamReader): Message {
    const stored = this.editableMessage(p);
    const markup = parseReplyMarkup(p.optionalJson("reply_markup"));
    const current = { text: stored.message.text ?? "", entities: stored.message.entities ?? [] };
    const message = this.applyEdit(stored, current, markup, stored.html);
    this.emitLog(
      `[${message.chat.id}] bot #${message.message_id} buttons:${describeButtons(markup) || " none"}`,
    );
    return message;
  }

  private applyEdit(
    stored: StoredMessage,
    formatted: FormattedText,
    markup: InlineKeyboardMarkup | undefined,
    html: string | undefined,
  ): Message {
    if (sameContent(stored.message, formatted, markup)) throw badRequest(NOT_MODIFIED);
    if (this.countEdits) this.flood.acquire(stored.message.chat.id, this.now());
    const { entities: _entities, reply_markup: _markup, ...rest } = stored.message;
    stored.history.push(versionOf(stored));
    stored.message = {
      ...rest,
      text: formatted.text,
      ...(formatted.entities.length > 0 ? { entities: formatted.entities } : {}),
      ...(markup ? { reply_markup: markup } : {}),
      edit_date: this.unixNow(),
    };
    stored.html = html;
    stored.editCount++;
    return structuredClone(stored.message);
  }

  private deleteMessage(p: ParamReader): true {
    const chat = this.chatParam(p);
    const messageId = p.messageId();
    if (!this.store.get(chat.id)?.delete(messageId)) throw badRequest("message to delete not found");
    this.emitLog(`[${chat.id}] bot deleted #${messageId}`);
    return true;
  }

  private answerCallbackQuery(p: ParamReader): true {
    const id = p.requiredString("callback_query_id");
    const stored = this.callbackQueries.get(id);
    if (!stored || stored.answer !== undefined) throw badRequest(QUERY_INVALID);
    if (this.now() - stored.at > this.callbackAnswerWindowMs) throw badRequest(QUERY_INVALID);
    stored.answer = { ...p.raw };
    const text = p.optionalString("text");
    this.emitLog(
      `callback ${id} answered${text ? `: ${text}` : ""}${p.optionalBool("show_alert") ? " (alert)" : ""}`,
    );
    return true;
  }

  private setMyCommands(p: ParamReader): true {
    const raw = p.optionalJson("commands");
    if (raw === undefined) throw badRequest('parameter "commands" is required');
    if (!Array.isArray(raw)) throw badRequest("can't parse commands JSON object");
    if (raw.length > MAX_COMMANDS) throw badRequest("too many commands");
    this.commands.set(commandScopeKey(p), raw.map(parseBotCommand));
    return true;
  }

  // ─── Method helpers ────────────────────────────────────────────────────────────────────────

  /** Text plus entities from `text`, `parse_mode` and `entities`, checked against Telegram's limits. */
  private contentParam(p: ParamReader): MessageContent {
    const text = p.optionalString("text") ?? "";
    const parseMode = p.optionalString("parse_mode") ?? "";
    let raw: FormattedText;
    if (parseMode.toLowerCase() === "html")
      raw = parseTelegramHtml(text, { strictAmpersand: this.strictAmpersand });
    else if (parseMode === "") raw = { text, entities: parseEntitiesParam(p.optionalJson("entities"), text) };
    else throw badRequest("unsupported parse_mode");
    const formatted = normalizeFormattedText(raw);
    if (formatted.text === "") throw badRequest("message text is empty");
    if (formatted.text.length > MAX_TEXT_LENGTH) throw badRequest("message is too long");
    return { formatted, html: parseMode === "" ? undefined : text };
  }

  private chatParam(p: ParamReader): EmulatedChat {
    const raw = p.optionalString("chat_id");
    if (raw === undefined || raw === "") throw badRequest("chat_id is empty");
    const chat = this.requireChat(raw);
    const supergroup = this.migrated.get(chat.id);
    if (supergroup !== undefined) {
      throw new BotApiError(400, `Bad Request: ${GROUP_MIGRATED}`, undefined, supergroup);
    }
    if (this.removed.has(chat.id)) throw new BotApiError(403, REMOVED[chat.type]);
    return chat;
  }

  private editableMessage(p: ParamReader): StoredMessage {
    if (p.has("inline_message_id")) throw badRequest("inline messages are not supported by the emulator");
    const chat = this.chatParam(p);
    const stored = this.store.get(chat.id)?.get(p.messageId());
    if (!stored) throw badRequest("message to edit not found");
    if (!stored.fromBot) throw badRequest("message can't be edited");
    return stored;
  }

  private replyTarget(p: ParamReader, chatId: number): ReplyMessage | undefined {
    const params = p.optionalJson("reply_parameters");
    const reply = isRecord(params) ? new ParamReader(params) : undefined;
    const messageId = reply?.optionalInt("message_id") ?? p.optionalInt("reply_to_message_id");
    if (messageId === undefined) return undefined;
    const target = this.store.get(chatId)?.get(messageId);
    if (target) {
      const { reply_to_message: _nested, ...message } = structuredClone(target.message);
      // A replied-to message never carries its own reply_to_message; grammY types that as a
      // required `undefined`, which exactOptionalPropertyTypes cannot express without a cast.
      return message as ReplyMessage;
    }
    const allowMissing =
      reply?.optionalBool("allow_sending_without_reply") ?? p.optionalBool("allow_sending_without_reply");
    if (allowMissing === true) return undefined;
    throw badRequest("message to be replied not found");
  }

  /**
   * The thread a sent message is in. message_thread_id must name a topic of the forum (else 400
   * "message thread not found"). Without it a reply goes where the replied-to message is: into its
   * topic, or, in a forum's General topic, into the reply thread of the message it answers, which
   * carries a message_thread_id but no is_topic_message (why grammY threads a reply only when
   * is_topic_message is set).
   */
  private threadOf(
    p: ParamReader,
    chat: EmulatedChat,
    replyTo: ReplyMessage | undefined,
  ): { message_thread_id?: number; is_topic_message?: true } {
    const asked = p.optionalInt("message_thread_id");
    if (asked !== undefined) {
      if (this.topics.get(chat.id)?.has(asked) !== true) throw badRequest(THREAD_NOT_FOUND);
      return { message_thread_id: asked, is_topic_message: true };
    }
    if (replyTo === undefined || !this.topics.has(chat.id)) return {};
    if (replyTo.is_topic_message === true && replyTo.message_thread_id !== undefined)
      return { message_thread_id: replyTo.message_thread_id, is_topic_message: true };
    return { message_thread_id: replyTo.message_thread_id ?? replyTo.message_id };
  }

  /** Makes a supergroup a forum (if it is not) with a topic; returns its creation message, stored in it. */
  private createTopic(chatId: number | string, name: string, threadId: number | undefined, from: User) {
    const chat = this.requireChat(chatId, true);
    if (chat.type !== "supergroup")
      throw new Error(`openTopic: chat ${chat.id} is a ${chat.type}; only a supergroup can be a forum`);
    const forum: EmulatedChat = { ...chat, is_forum: true };
    this.learnChat(forum);
    const id = threadId ?? this.allocateMessageId(chat.id);
    if (this.topics.get(chat.id)?.has(id) === true || id <= 1)
      throw new Error(`openTopic: ${id} cannot be a new topic of chat ${chat.id}`);
    this.topics.set(chat.id, (this.topics.get(chat.id) ?? new Map<number, string>()).set(id, name));
    const created = {
      message_id: id,
      message_thread_id: id,
      is_topic_message: true as const,
      from,
      chat: forum,
      date: this.unixNow(),
      forum_topic_created: { name, icon_color: TOPIC_ICON_COLOR },
    } satisfies Message;
    this.saveMessage(chat.id, {
      message: created,
      html: undefined,
      editCount: 0,
      history: [],
      fromBot: false,
    });
    this.emitLog(`[${chat.id}] topic ${id} "${name}" created`);
    return created;
  }

  // ─── Chats and messages ────────────────────────────────────────────────────────────────────

  private registerInitialChats(): void {
    for (const chat of this.initialChats) this.requireChat(chat, true);
    for (const topic of this.initialTopics)
      this.createTopic(topic.chatId, topic.name, topic.threadId, userOf(1, undefined));
  }

  private chatIdOf(ref: number | string): number | undefined {
    const text = String(ref).trim();
    if (/^-?\d+$/.test(text)) return Number(text);
    return text.startsWith("@") ? this.usernames.get(text.slice(1).toLowerCase()) : undefined;
  }

  /** The chat behind a numeric id or "@username"; unknown ones exist unless knownChats is enforced. */
  private requireChat(ref: number | string, register = false): EmulatedChat {
    const text = String(ref).trim();
    const id = this.chatIdOf(text);
    const known = id === undefined ? undefined : this.chats.get(id);
    if (known) return known;
    const creatable = register || !this.enforceKnownChats;
    if (!creatable || !/^(-?\d+|@\w{4,32})$/.test(text)) throw badRequest("chat not found");
    const username = text.startsWith("@") ? text.slice(1) : undefined;
    const chat = defaultChat(id ?? SUPERGROUP_ID_FLOOR - 1 - this.usernames.size, username);
    this.learnChat(chat);
    return chat;
  }

  private learnChat(chat: Chat): void {
    if (chat.type === "channel") return;
    this.chats.set(chat.id, chat);
    if (chat.username !== undefined) this.usernames.set(chat.username.toLowerCase(), chat.id);
  }

  private allocateMessageId(chatId: number): number {
    const id = this.nextMessageIds.get(chatId) ?? 1;
    this.nextMessageIds.set(chatId, id + 1);
    return id;
  }

  private saveMessage(chatId: number, stored: StoredMessage): void {
    const chatStore = this.store.get(chatId) ?? new Map<number, StoredMessage>();
    chatStore.set(stored.message.message_id, stored);
    this.store.set(chatId, chatStore);
    const next = this.nextMessageIds.get(chatId) ?? 1;
    this.nextMessageIds.set(chatId, Math.max(next, stored.message.message_id + 1));
  }

  /** Keeps user messages from updates so the bot can reply to them. */
  private rememberIncoming(message: Message): void {
    const fromBot = message.from?.id === this.botId;
    this.saveMessage(message.chat.id, { message, html: undefined, editCount: 0, history: [], fromBot });
  }

  private snapshot(stored: StoredMessage): EmulatedMessage {
    return structuredClone({
      ...versionOf(stored),
      date: stored.message.date,
      message_id: stored.message.message_id,
      chat_id: stored.message.chat.id,
      topic: stored.message.is_topic_message === true ? stored.message.message_thread_id : undefined,
      from_bot: stored.fromBot,
      editCount: stored.editCount,
      history: stored.history,
      message: stored.message,
    });
  }

  private botUser(): User {
    return { id: this.bot.id, is_bot: true, first_name: this.bot.first_name, username: this.bot.username };
  }

  private unixNow(): number {
    return Math.floor(this.now() / 1000);
  }

  private emitLog(line: string): void {
    this.log?.(line);
  }
}

// ─── Small helpers ──────────────────────────────────────────────────────────────────────────

function userOf(id: number, username: string | undefined): User {
  return { id, is_bot: false, first_name: `User ${id}`, ...(username === undefined ? {} : { username }) };
}

/**
 * Commands are kept per scope and `language_code`, which the Bot API documents as a two-letter
 * ISO 639-1 code ("zh", never "zh-TW") or empty for users of every other language; any other code
 * is refused.
 */
function commandScopeKey(p: ParamReader): string {
  const language = p.optionalString("language_code") ?? "";
  if (language !== "" && !/^[a-z]{2}$/.test(language)) throw badRequest("invalid language code specified");
  return `${JSON.stringify(p.optionalJson("scope") ?? { type: "default" })}|${language}`;
}

function parseBotCommand(raw: unknown): BotCommand {
  if (!isRecord(raw) || typeof raw.command !== "string" || typeof raw.description !== "string") {
    throw badRequest("can't parse BotCommand JSON object");
  }
  const command = raw.command.trim().replace(/^\//, "");
  const description = raw.description.trim();
  if (command === "") throw badRequest("command must be non-empty");
  if ([...command].length > MAX_COMMAND_LENGTH) {
    throw badRequest(`command length must not exceed ${MAX_COMMAND_LENGTH}`);
  }
  if (!/^[a-z0-9_]+$/.test(command)) throw badRequest("BOT_COMMAND_INVALID");
  if (description === "") throw badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
  if ([...description].length > MAX_COMMAND_DESCRIPTION_LENGTH) {
    throw badRequest(`command description length must not exceed ${MAX_COMMAND_DESCRIPTION_LENGTH}`);
  }
  return { command, description };
}

function describeButtons(markup: InlineKeyboardMarkup | undefined): string {
  const buttons = buttonsOf(markup).map((b) => `[${b.text}]`);
  return buttons.length > 0 ? `\n    ${buttons.join(" ")}` : "";
}

/** Bot API errors as Telegram words them; a bad control request is a 400; anything else is our bug. */
function errorResponse(error: unknown): [status: number, body: ReturnType<typeof errorEnvelope>] {
  if (error instanceof BotApiError) return [error.errorCode, errorEnvelope(error)];
  if (error instanceof z.ZodError) return [400, errorEnvelope(badRequest(z.prettifyError(error)))];
  const detail = error instanceof Error ? error.message : String(error);
  return [500, errorEnvelope(new BotApiError(500, `Internal Server Error: ${detail}`))];
}

function errorEnvelope(error: BotApiError) {
  return {
    ok: false,
    error_code: error.errorCode,
    description: error.description,
    ...(error.retryAfter === undefined && error.migrateToChatId === undefined
      ? {}
      : {
          parameters: {
            ...(error.migrateToChatId === undefined ? {} : { migrate_to_chat_id: error.migrateToChatId }),
            ...(error.retryAfter === undefined ? {} : { retry_after: error.retryAfter }),
          },
        }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

/** Query parameters merged with a JSON or urlencoded body, as the Bot API accepts them. */
async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const query: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  if (body.trim() === "") return query;
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    return { ...query, ...Object.fromEntries(new URLSearchParams(body)) };
  }
  if (type.includes("multipart/form-data")) {
    throw badRequest("multipart/form-data is not supported by the emulator");
  }
  const parsed = parseJsonLoose(body);
  if (!isRecord(parsed)) throw badRequest("can't parse JSON object");
  return { ...query, ...parsed };
}

// ─── Standalone ─────────────────────────────────────────────────────────────────────────────

/** Starts an emulator that prints the chat to stdout; `--port`, `--token`. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<TelegramEmulator> {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: "string" }, token: { type: "string" } },
  });
  const emulator = await TelegramEmulator.start({
    port: values.port === undefined ? 0 : Number(values.port),
    ...(values.token === undefined ? {} : { token: values.token }),
    log: (line) => console.log(line),
  });
  console.log(`Telegram Bot API emulator on ${emulator.apiRoot} (token ${emulator.token})`);
  process.once("SIGINT", () => void emulator.close());
  process.once("SIGTERM", () => void emulator.close());
  return emulator;
}

function isDirectRun(): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(import.meta.url);
}

if (isDirectRun()) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

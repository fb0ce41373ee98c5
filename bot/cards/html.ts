// Telegram HTML for every message the bot writes (cards, notices, drill-down pages, replies):
// the one escaper, and keeping a message inside Telegram's 4096-character limit.

/** Telegram's limit on message text. */
export const MAX_MESSAGE_LENGTH = 4096;

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/** Text between tags: `&`, `<` and `>` escaped (Telegram's HTML needs no more). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (char) => ENTITIES[char] ?? char);
}

/** A double-quoted attribute value (a link's href): the quote escaped too. */
export function escapeAttribute(text: string): string {
  return text.replace(/[&<>"]/g, (char) => ENTITIES[char] ?? char);
}

/** `text` cut to `max` characters (whole code points), marked with "…" when cut. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text.slice(0, Math.max(0, max - 1)));
  // a cut through a surrogate pair leaves half a character; Array.from made it one element
  const last = chars.at(-1);
  if (last !== undefined && /[\uD800-\uDBFF]$/.test(last)) chars.pop();
  return `${chars.join("")}…`;
}

/**
 * Joins HTML lines, dropping whole lines from the end (and saying so) until the message fits.
 * Lines must already be escaped; a line is never cut, so no tag is ever split.
 */
export function fitLines(
  lines: readonly string[],
  max = MAX_MESSAGE_LENGTH,
  /** The marker in BOT_LANGUAGE (domain/i18n/, `common.moreLines`); English by default. */
  moreLines: (args: { count: number }) => string = ({ count }) => `… ${count} more line(s) not shown`,
): string {
  const text = lines.join("\n");
  if (text.length <= max) return text;
  const kept: string[] = [];
  let length = 0;
  for (const [index, line] of lines.entries()) {
    const marker = `\n${escapeHtml(moreLines({ count: lines.length - index }))}`;
    if (length + line.length + 1 + marker.length > max) {
      kept.push(marker.slice(1));
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join("\n");
}

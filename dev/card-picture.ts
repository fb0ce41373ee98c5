// Draws the README's card picture (docs/card.svg) from a golden card (test/fixtures/cards/), so
// the picture is the card the tests hold the renderer to, never a drawing by hand. The golden file
// is the Telegram HTML the bot sends plus its inline keyboard; this lays it out as a chat bubble.
//   npx tsx dev/card-picture.ts [golden name] > docs/card.svg   (npm run card-picture)
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const LINE = 22;
const WIDTH = 640;
const PAD = 18;

interface Span {
  text: string;
  bold: boolean;
  link: boolean;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const unescapeHtml = (text: string) =>
  text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");

/** One line of the card's HTML as spans: <b> bold, <a> a link, everything else plain. */
function spans(line: string): Span[] {
  const out: Span[] = [];
  const pattern = /<b>(.*?)<\/b>|<a href="[^"]*">(.*?)<\/a>|([^<]+)|<[^>]+>/g;
  for (const match of line.matchAll(pattern)) {
    if (match[1] !== undefined) out.push({ text: unescapeHtml(match[1]), bold: true, link: false });
    else if (match[2] !== undefined) out.push({ text: unescapeHtml(match[2]), bold: false, link: true });
    else if (match[3] !== undefined) out.push({ text: unescapeHtml(match[3]), bold: false, link: false });
  }
  return out;
}

export function cardPicture(golden: string): string {
  const [html = "", keyboard = ""] = golden.split("<!-- inline_keyboard -->");
  const lines = html.trimEnd().split("\n");
  const rows = keyboard
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((row) => (JSON.parse(row) as { text: string }[]).map((button) => button.text));
  const textHeight = lines.length * LINE;
  const bubble = PAD * 2 + textHeight;
  const buttonsTop = bubble + 8;
  const height = buttonsTop + rows.length * 44 + 8;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Color Emoji', sans-serif" font-size="15">`,
    `<rect width="${WIDTH}" height="${height}" fill="#dfe7ef"/>`,
    `<rect x="8" y="8" width="${WIDTH - 16}" height="${bubble - 8}" rx="14" fill="#ffffff"/>`,
  ];
  lines.forEach((line, index) => {
    const y = PAD + 8 + (index + 1) * LINE - 6;
    const tspans = spans(line)
      .map((span) => {
        const style = [
          span.bold ? `font-weight="bold"` : "",
          span.link ? `fill="#2a7ab9" text-decoration="underline"` : "",
        ]
          .filter(Boolean)
          .join(" ");
        return `<tspan ${style}>${escapeXml(span.text)}</tspan>`;
      })
      .join("");
    parts.push(`<text x="${PAD + 8}" y="${y}" fill="#111" xml:space="preserve">${tspans}</text>`);
  });
  rows.forEach((row, rowIndex) => {
    const width = (WIDTH - 16 - (row.length - 1) * 6) / row.length;
    row.forEach((text, column) => {
      const x = 8 + column * (width + 6);
      const y = buttonsTop + rowIndex * 44;
      parts.push(
        `<rect x="${x}" y="${y}" width="${width}" height="38" rx="10" fill="#7d9bb5" fill-opacity="0.85"/>`,
        `<text x="${x + width / 2}" y="${y + 24}" fill="#fff" text-anchor="middle" font-weight="bold">${escapeXml(text)}</text>`,
      );
    });
  });
  parts.push("</svg>", "");
  return parts.join("\n");
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const name = process.argv[2] ?? "seed-appendix-b";
  const golden = readFileSync(path.join(ROOT, "test/fixtures/cards", `${name}.golden.html`), "utf8");
  process.stdout.write(cardPicture(golden));
}

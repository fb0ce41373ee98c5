// The README's card picture is drawn from the golden card: when the card changes, the picture
// must be drawn again (`npm run card-picture`), so the README never shows a card the bot no
// longer sends.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cardPicture } from "../../dev/card-picture.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("docs/card.svg", () => {
  it("is the golden seed card as the chat shows it, drawn by dev/card-picture.ts", () => {
    const golden = readFileSync(path.join(ROOT, "test/fixtures/cards/seed-appendix-b.golden.html"), "utf8");
    const picture = readFileSync(path.join(ROOT, "docs/card.svg"), "utf8");
    expect(picture).toBe(cardPicture(golden));
    // every line of the card and every button is in the picture
    expect(picture).toContain("CRITICAL | awoooi-api");
    for (const button of ["✅ Approve", "❌ Reject", "⏰ Snooze", "🔕 Silence", "🔎 Details"])
      expect(picture).toContain(button);
  });
});

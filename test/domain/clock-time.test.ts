// How times read in toasts, replies and the card's history.
import { describe, expect, it } from "vitest";
import { clockTime } from "../../domain/time.js";

describe("clockTime", () => {
  const reference = new Date("2026-11-24T09:30:00Z");

  it("gives the time alone on the same UTC day", () => {
    expect(clockTime(new Date("2026-11-24T23:59:00Z"), reference)).toBe("23:59 UTC");
  });

  it("adds the date when the moment is on another day, so a 24 h silence is not ambiguous", () => {
    expect(clockTime(new Date("2026-11-25T09:30:00Z"), reference)).toBe("Nov 25 09:30 UTC");
    expect(clockTime(new Date("2026-12-01T00:05:00Z"), reference)).toBe("Dec 1 00:05 UTC");
  });
});

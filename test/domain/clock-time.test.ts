// How times read in toasts, replies and the card's history, in the team's zone (BOT_TIMEZONE).
import { afterEach, describe, expect, it, vi } from "vitest";
import { clockTime, isTimeZone, spanText } from "../../domain/time.js";

describe("clockTime", () => {
  const reference = new Date("2026-11-24T09:30:00Z");

  it("gives the time alone on the same UTC day", () => {
    expect(clockTime(new Date("2026-11-24T23:59:00Z"), "UTC", reference)).toBe("23:59 UTC");
  });

  it("adds the date when the moment is on another day, so a 24 h silence is not ambiguous", () => {
    expect(clockTime(new Date("2026-11-25T09:30:00Z"), "UTC", reference)).toBe("Nov 25 09:30 UTC");
    expect(clockTime(new Date("2026-12-01T00:05:00Z"), "UTC", reference)).toBe("Dec 1 00:05 UTC");
  });

  it("shows the time in the configured zone, with its offset", () => {
    // 09:30 UTC is 17:30 in Taipei (UTC+8, no daylight saving)
    expect(clockTime(new Date("2026-11-24T09:30:00Z"), "Asia/Taipei", reference)).toBe("17:30 GMT+8");
  });

  it("compares days in the zone, not in UTC", () => {
    // the same UTC day, but 16:30 UTC is already the next day in Taipei (00:30)
    expect(clockTime(new Date("2026-11-24T16:30:00Z"), "Asia/Taipei", reference)).toBe("Nov 25 00:30 GMT+8");
    // another UTC day, but the same day in Taipei (reference 09:30 UTC = Nov 24 17:30 there)
    const lateTaipei = new Date("2026-11-24T15:00:00Z");
    expect(clockTime(new Date("2026-11-23T23:10:00Z"), "Asia/Taipei", lateTaipei)).toBe("07:10 GMT+8");
  });

  it("writes ? for a time that is not one", () => {
    expect(clockTime(new Date("nonsense"), "UTC", reference)).toBe("?");
  });
});

describe("isTimeZone", () => {
  it("knows IANA names and refuses anything else", () => {
    expect(isTimeZone("Asia/Taipei")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Asia/Taipeh")).toBe(false);
    expect(isTimeZone("UTC+8 ")).toBe(false);
  });

  describe("without a formatter for the names it lists", () => {
    afterEach(() => vi.restoreAllMocks());

    it("checks the canonical names and UTC without building a formatter (ICU's date data stays out)", () => {
      const built = vi.spyOn(Intl, "DateTimeFormat");
      expect(isTimeZone("Asia/Taipei")).toBe(true);
      expect(isTimeZone("UTC")).toBe(true);
      expect(isTimeZone("Europe/Berlin")).toBe(true);
      expect(built).not.toHaveBeenCalled();
    });

    it("still asks a formatter about aliases and other spellings, as before", () => {
      const built = vi.spyOn(Intl, "DateTimeFormat");
      expect(isTimeZone("US/Pacific")).toBe(true);
      expect(isTimeZone("Etc/UTC")).toBe(true);
      expect(isTimeZone("asia/taipei")).toBe(true);
      expect(isTimeZone("Asia/Taipeh")).toBe(false);
      expect(built).toHaveBeenCalledTimes(4);
    });
  });

  it("lists only names a formatter takes", () => {
    for (const name of Intl.supportedValuesOf("timeZone"))
      expect(() => new Intl.DateTimeFormat("en-US", { timeZone: name }), name).not.toThrow();
  });
});

describe("spanText", () => {
  it("says seconds, then minutes, then hours and minutes", () => {
    expect(spanText(45)).toBe("45 s");
    expect(spanText(119)).toBe("119 s");
    expect(spanText(300)).toBe("5 min");
    expect(spanText(7_200)).toBe("2 h");
    expect(spanText(7_800)).toBe("2 h 10 min");
    expect(spanText(-3)).toBe("0 s");
  });
});

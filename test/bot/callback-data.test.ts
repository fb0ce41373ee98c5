import { describe, expect, it } from "vitest";
import {
  actionArg,
  actionIdOf,
  CallbackDataError,
  MAX_CALLBACK_DATA_BYTES,
  assertCallbackDataFits,
  packCallbackData,
  unpackCallbackData,
} from "../../bot/callback-data/callback-data.js";
import { CARD_VERBS, type CardVerb } from "../../domain/card.js";

const ID = "INC-20260329-0001";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof CallbackDataError ? error.code : `not coded: ${String(error)}`;
  }
  return undefined;
}

describe("packCallbackData", () => {
  it("packs a verb and an incident id as v1:<verb>:<id>", () => {
    expect(packCallbackData({ verb: "approve", id: ID })).toBe("v1:approve:INC-20260329-0001");
  });

  it.each(CARD_VERBS)("round-trips the %s verb", (verb) => {
    expect(unpackCallbackData(packCallbackData({ verb, id: ID }))).toEqual({ verb, id: ID });
  });

  it("keeps the longest verb with the longest id within Telegram's 64 bytes", () => {
    const longestVerb = [...CARD_VERBS].sort((a, b) => b.length - a.length)[0] ?? "approve";
    const packed = packCallbackData({ verb: longestVerb, id: "x".repeat(48) });
    expect(Buffer.byteLength(packed, "utf8")).toBeLessThanOrEqual(MAX_CALLBACK_DATA_BYTES);
  });

  it.each([
    ["an empty id", ""],
    ["an id of 49 characters", "x".repeat(49)],
    ["an id with the separator", "INC:1"],
    ["an id with a space", "INC 1"],
    ["an id with non-ASCII letters", "INC-é"],
  ])("refuses %s with CALLBACK_DATA_INVALID", (_name, id) => {
    expect(codeOf(() => packCallbackData({ verb: "approve", id }))).toBe("CALLBACK_DATA_INVALID");
  });

  it("refuses a verb that is not a card verb", () => {
    const verb = "delete" as CardVerb;
    expect(codeOf(() => packCallbackData({ verb, id: ID }))).toBe("CALLBACK_DATA_INVALID");
  });

  it("refuses extra properties", () => {
    const data = { verb: "approve" as const, id: ID, extra: 1 };
    expect(codeOf(() => packCallbackData(data))).toBe("CALLBACK_DATA_INVALID");
  });
});

describe("assertCallbackDataFits", () => {
  it("accepts exactly 64 bytes", () => {
    expect(codeOf(() => assertCallbackDataFits("x".repeat(64)))).toBeUndefined();
  });

  it("counts UTF-8 bytes, not characters", () => {
    // 22 characters, 66 bytes.
    expect(codeOf(() => assertCallbackDataFits("€".repeat(22)))).toBe("CALLBACK_DATA_TOO_LONG");
  });
});

describe("unpackCallbackData", () => {
  it("unpacks an id with underscores and dashes", () => {
    expect(unpackCallbackData("v1:silence:a_B-9")).toEqual({ verb: "silence", id: "a_B-9" });
  });

  it.each([
    ["another version", "v2:approve:INC-1"],
    ["no version", "approve:INC-1"],
    ["an unknown verb", "v1:delete:INC-1"],
    ["a verb in another case", "v1:Approve:INC-1"],
    ["an empty id", "v1:approve:"],
    ["an extra field", "v1:approve:INC-1:x"],
    ["surrounding whitespace", " v1:approve:INC-1"],
    ["a trailing newline", "v1:approve:INC-1\n"],
    ["an id of 49 characters", `v1:approve:${"x".repeat(49)}`],
    ["a legacy prefix string", "approve_INC-1"],
    ["an empty string", ""],
    ["more than 64 bytes", `v1:approve:${"x".repeat(60)}`],
  ])("rejects %s", (_name, data) => {
    expect(unpackCallbackData(data)).toBeUndefined();
  });
});

describe("callback data with a choice", () => {
  it("packs a snooze choice as a 4th part and reads it back", () => {
    const packed = packCallbackData({ verb: "snooze", id: ID, arg: "15m" });
    expect(packed).toBe("v1:snooze:INC-20260329-0001:15m");
    expect(unpackCallbackData(packed)).toEqual({ verb: "snooze", id: ID, arg: "15m" });
  });

  it("keeps silence, the longest id and the longest choice within 64 bytes", () => {
    const packed = packCallbackData({ verb: "silence", id: "x".repeat(48), arg: "24h0" });
    expect(Buffer.byteLength(packed, "utf8")).toBeLessThanOrEqual(MAX_CALLBACK_DATA_BYTES);
  });

  it.each([
    ["a choice on approve", "v1:approve:INC-1:15m"],
    ["a choice on reject", "v1:reject:INC-1:no"],
    ["an upper-case choice", "v1:snooze:INC-1:15M"],
    ["an empty choice", "v1:snooze:INC-1:"],
    ["a fifth part", "v1:snooze:INC-1:15m:x"],
    ["a choice of 5 characters", "v1:silence:INC-1:12345"],
  ])("rejects %s", (_name, data) => {
    expect(unpackCallbackData(data)).toBeUndefined();
  });

  it("carries the proposed action on Approve and Reject, and nowhere else", () => {
    const packed = packCallbackData({ verb: "approve", id: ID, arg: actionArg(123_456) });
    expect(packed).toBe(`v1:approve:${ID}:#2n9c`);
    const data = unpackCallbackData(packed);
    expect(data).toEqual({ verb: "approve", id: ID, arg: "#2n9c" });
    expect(data === undefined ? undefined : actionIdOf(data)).toBe(123_456);
    expect(unpackCallbackData(`v1:reject:${ID}:#1`)).toEqual({ verb: "reject", id: ID, arg: "#1" });
    for (const bad of [
      `v1:snooze:${ID}:#1`,
      `v1:approve:${ID}:#`,
      `v1:approve:${ID}:#ABC`,
      `v1:approve:${ID}:#12345678`,
    ]) {
      expect(unpackCallbackData(bad)).toBeUndefined();
    }
  });

  it("refuses to pack a choice for a verb that offers none", () => {
    expect(codeOf(() => packCallbackData({ verb: "approve", id: ID, arg: "1h" }))).toBe(
      "CALLBACK_DATA_INVALID",
    );
  });
});

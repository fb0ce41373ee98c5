// The message catalogues (domain/i18n/): every text the bot writes exists in both languages, is
// not empty, and uses the same arguments in both. TypeScript already refuses a missing key; this
// holds the catalogues to it at run time too (an empty string or a text that drops an argument
// type-checks fine), and catches a key added to one language only by a cast.
import { describe, expect, it } from "vitest";
import {
  CATALOGUES,
  englishOf,
  failureText,
  LANGUAGES,
  messagesFor,
  sayingText,
  type Language,
} from "../../domain/i18n/index.js";

type Entry = { path: string; value: unknown };

/** Every leaf of a catalogue (a string or a function), by its dotted path. */
function leaves(node: unknown, path = ""): Entry[] {
  if (typeof node === "string" || typeof node === "function") return [{ path, value: node }];
  if (typeof node !== "object" || node === null) return [{ path, value: node }];
  return Object.entries(node).flatMap(([key, child]) => leaves(child, path === "" ? key : `${path}.${key}`));
}

/**
 * Calls a text with an argument object that records which arguments it reads. Each string
 * argument's value is a marker, so the output shows whether the text printed it.
 */
function call(text: (args: Record<string, unknown>) => unknown): { output: string; read: string[] } {
  const read = new Set<string>();
  const args = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (typeof key !== "string") return undefined;
        read.add(key);
        return `‹${key}›`;
      },
    },
  );
  return { output: String(text(args)), read: [...read].sort() };
}

const byPath = (language: Language): Map<string, unknown> =>
  new Map(leaves(CATALOGUES[language]).map((entry) => [entry.path, entry.value]));

describe("message catalogues", () => {
  it("have the same keys in every language", () => {
    const [first, ...others] = LANGUAGES.map((language) => [...byPath(language).keys()].sort());
    for (const keys of others) expect(keys).toEqual(first);
  });

  it.each(LANGUAGES)("have no missing or empty text in %s", (language) => {
    const empty = leaves(CATALOGUES[language]).filter(({ value }) => {
      if (typeof value === "string") return value.trim() === "";
      if (typeof value === "function") return call(value as never).output.trim() === "";
      return true;
    });
    expect(empty.map((entry) => entry.path)).toEqual([]);
  });

  it("give each text the same arguments in every language, and show every text argument", () => {
    const english = byPath("en");
    const mismatches: string[] = [];
    for (const language of LANGUAGES) {
      for (const [path, value] of byPath(language)) {
        const reference = english.get(path);
        if (typeof value !== typeof reference) {
          mismatches.push(`${language} ${path}: ${typeof value}, English has ${typeof reference}`);
          continue;
        }
        if (typeof value !== "function") continue;
        const mine = call(value as never);
        const theirs = call(reference as never);
        if (mine.read.join() !== theirs.read.join()) {
          mismatches.push(`${language} ${path}: reads ${mine.read.join()}, English ${theirs.read.join()}`);
        }
        // a text argument English prints must be printed in every language
        for (const key of theirs.read) {
          if (theirs.output.includes(`‹${key}›`) && !mine.output.includes(`‹${key}›`)) {
            mismatches.push(`${language} ${path}: does not show ${key}`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("writes zh-TW texts in Chinese: no English sentence left untranslated", () => {
    const english = byPath("en");
    // the same words in both languages where they are names or symbols, not sentences
    const sameByDesign = /^(card\.source\.(alertmanager|sentry|signoz)|card\.slo|help\.idArg)$/;
    const untranslated = [...byPath("zh-TW")]
      .filter(([path, value]) => typeof value === "string" && !sameByDesign.test(path))
      .filter(([path, value]) => value === english.get(path))
      .map(([path]) => path);
    expect(untranslated).toEqual([]);
  });

  it("falls back to English when no language is given", () => {
    expect(messagesFor()).toBe(CATALOGUES.en);
    expect(messagesFor("zh-TW").buttons.approve).toBe("✅ 簽核");
  });
});

describe("times inside sayings", () => {
  const running = {
    code: "container_running",
    since: "2026-03-29T04:00:05.000Z",
    healthcheck: true,
  } as const;

  it("are shown in BOT_TIMEZONE on the card, in either language", () => {
    const chinese = sayingText("verifyDetail", running, messagesFor("zh-TW"), "Asia/Taipei");
    expect(chinese).toContain("12:00");
    expect(chinese).not.toContain("2026-03-29T");
    const english = sayingText("verifyDetail", running, messagesFor("en"), "Asia/Taipei");
    expect(english).toMatch(/^running since .*12:00.* \(healthy\)$/);
    // inside a failure's quoted saying too
    const failure = { code: "verify_failed", detail: "x", said: running };
    expect(failureText(failure, messagesFor("zh-TW"), "Asia/Taipei")).toContain("12:00");
  });

  it("stay ISO UTC in the English the audit keeps", () => {
    expect(englishOf("verifyDetail", running)).toBe("running since 2026-03-29T04:00:05.000Z (healthy)");
    expect(sayingText("verifyDetail", running, messagesFor("zh-TW"))).toContain("2026-03-29T04:00:05.000Z");
  });
});

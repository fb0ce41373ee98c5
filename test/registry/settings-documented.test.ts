// Every setting registry/config.ts reads is documented where a newcomer looks: a row of the README's
// settings table and a line of .env.example (set or commented out). A new setting that is in
// neither fails here, naming it, instead of staying a secret of the code.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTING_NAMES } from "../../registry/config.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/** The system's own variable, read for the local servers' binaries: not a setting of the bot. */
const NOT_SETTINGS = new Set(["PATH"]);
const SETTINGS = SETTING_NAMES.filter((name) => !NOT_SETTINGS.has(name));

/**
 * The names in the first column of the README's "## Settings" table. A cell may name several:
 * "`PORT` / `HOST`", "`OLLAMA_HOST`, `OLLAMA_MODEL`", or "`ESCALATE_P0_SECONDS` / `_P1_` / `_P2_`",
 * where `_P1_` stands for the first name with its first `_…_` part replaced.
 */
export function settingsTableNames(readme: string): Set<string> {
  const section = /^## Settings\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? "";
  const names = new Set<string>();
  for (const line of section.split("\n")) {
    if (!line.startsWith("|")) continue;
    const cell = line.split("|")[1] ?? "";
    const codes = [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? "");
    const first = codes[0];
    for (const code of codes) {
      if (/^[A-Z][A-Z0-9_]*$/.test(code)) names.add(code);
      else if (first !== undefined && /^_[A-Z0-9]+_$/.test(code))
        names.add(first.replace(/_[A-Z0-9]+_/, code));
    }
  }
  return names;
}

/** Names set in .env.example (`NAME=…`) or shown commented out (`# NAME=…`). */
export function envExampleNames(example: string): Set<string> {
  return new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] ?? ""));
}

describe("settings documentation", () => {
  it("reads the README's table, abbreviated rows included", () => {
    const names = settingsTableNames(
      [
        "## Settings",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
        "| `ESCALATE_P0_SECONDS` / `_P1_` / `_P2_` | `300` | x |",
        "| `OLLAMA_HOST`, `OLLAMA_MODEL` | unset | `NOT_A_NAME` in the meaning |",
        "## Next",
        "| `LATER` | | |",
      ].join("\n"),
    );
    expect([...names].sort()).toEqual([
      "ESCALATE_P0_SECONDS",
      "ESCALATE_P1_SECONDS",
      "ESCALATE_P2_SECONDS",
      "OLLAMA_HOST",
      "OLLAMA_MODEL",
    ]);
  });

  it("has every setting of registry/config.ts in the README's settings table", () => {
    const documented = settingsTableNames(read("README.md"));
    expect(documented.size).toBeGreaterThan(0);
    expect(SETTINGS.filter((name) => !documented.has(name))).toEqual([]);
  });

  it("has every setting of registry/config.ts in .env.example", () => {
    const listed = envExampleNames(read(".env.example"));
    expect(SETTINGS.filter((name) => !listed.has(name))).toEqual([]);
  });

  it("documents no setting the code does not read", () => {
    const known = new Set(SETTING_NAMES);
    expect([...settingsTableNames(read("README.md"))].filter((name) => !known.has(name))).toEqual([]);
    expect([...envExampleNames(read(".env.example"))].filter((name) => !known.has(name))).toEqual([]);
  });
});

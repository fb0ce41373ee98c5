// Figures with their targets, the final table, and bench/out/summary.json. The bench reports; it
// never fails on a timing, since timings depend on the machine it runs on.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

export type Comparator = "<" | "<=" | ">" | ">=";

export interface Target {
  comparator: Comparator;
  value: number;
}

export interface Figure {
  name: string;
  /** undefined when the phase could not produce it (its error is in `note`). */
  value: number | undefined;
  unit: string;
  target?: Target;
  note?: string;
}

export type Verdict = "met" | "not met" | "n/a";

export function verdict(figure: Figure): Verdict {
  const { target, value } = figure;
  if (target === undefined) return "n/a";
  if (value === undefined || Number.isNaN(value)) return "not met";
  const met = {
    "<": value < target.value,
    "<=": value <= target.value,
    ">": value > target.value,
    ">=": value >= target.value,
  }[target.comparator];
  return met ? "met" : "not met";
}

/** Nearest-rank percentile; undefined for no samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function format(value: number | undefined, unit = ""): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const number = value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit === "" ? number : `${number} ${unit}`;
}

const formatTarget = (figure: Figure): string =>
  figure.target === undefined
    ? ""
    : `${figure.target.comparator} ${format(figure.target.value, figure.unit)}`;

export function printTable(figures: readonly Figure[]): void {
  const rows = figures.map((figure) => [
    figure.name,
    format(figure.value, figure.unit),
    formatTarget(figure),
    verdict(figure),
  ]);
  const header = ["figure", "measured", "target", "verdict"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) console.log(line(row));
  for (const figure of figures.filter((f) => f.note !== undefined))
    console.log(`  * ${figure.name}: ${figure.note}`);
}

export async function writeSummary(
  figures: readonly Figure[],
  details: Record<string, unknown>,
): Promise<string> {
  const dir = fileURLToPath(new URL("out/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const path = `${dir}summary.json`;
  const summary = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryMb: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
    },
    figures: figures.map((figure) => ({ ...figure, verdict: verdict(figure) })),
    details,
  };
  await writeFile(path, `${JSON.stringify(summary, null, 2)}\n`);
  return path;
}

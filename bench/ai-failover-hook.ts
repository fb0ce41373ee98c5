// bench/ai-failover.ts is written separately; when it exists and exports benchAiFailover(), its
// figures join the summary. Its result is read defensively, since that module may change on its
// own: a record of named numbers ({ refusedToGeminiMs: 12.3, … }) or a list of
// { name, value, unit?, target? } becomes rows of the table; anything else is printed as it is.
import { existsSync } from "node:fs";
import type { Comparator, Figure, Target } from "./summary.js";

const TIMEOUT_MS = 60_000;

/** Targets of figures benchAiFailover() reports by name (the one it states itself). */
const KNOWN_TARGETS: Readonly<Record<string, Target>> = {
  refusedToGeminiMs: { comparator: "<", value: 100 },
};

export interface AiFailoverOutcome {
  figures: Figure[];
  /** What it returned, for summary.json. */
  raw?: unknown;
  note: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export async function runAiFailoverBench(): Promise<AiFailoverOutcome> {
  if (!existsSync(new URL("ai-failover.ts", import.meta.url))) {
    return { figures: [], note: "bench/ai-failover.ts is absent: AI failover figures skipped" };
  }
  // A computed specifier, so this file compiles whether or not the module exists.
  const specifier = "./ai-failover.js";
  const module: unknown = await import(specifier);
  if (!isRecord(module) || typeof module.benchAiFailover !== "function") {
    return { figures: [], note: "bench/ai-failover.ts does not export benchAiFailover(): skipped" };
  }
  const bench = module.benchAiFailover as () => unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    const raw = await Promise.race([
      Promise.resolve(bench()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      }),
    ]);
    const figures = toFigures(raw);
    return { figures, raw, note: `benchAiFailover() returned ${JSON.stringify(raw)}` };
  } finally {
    clearTimeout(timer);
  }
}

function toFigures(raw: unknown): Figure[] {
  const list = Array.isArray(raw)
    ? raw
    : isRecord(raw) && Array.isArray(raw.figures)
      ? raw.figures
      : undefined;
  if (list !== undefined) return list.flatMap(listItemFigure);
  if (!isRecord(raw)) return [];
  return Object.entries(raw).flatMap(([name, value]): Figure[] => {
    if (typeof value !== "number") return [];
    const target = KNOWN_TARGETS[name];
    return [
      {
        name: `AI failover: ${name}`,
        value,
        unit: /Ms$/.test(name) ? "ms" : "",
        ...(target ? { target } : {}),
      },
    ];
  });
}

function listItemFigure(item: unknown): Figure[] {
  if (!isRecord(item) || typeof item.name !== "string") return [];
  if (typeof item.value !== "number" && item.value !== undefined) return [];
  const target = toTarget(item.target);
  return [
    {
      name: `AI failover: ${item.name}`,
      value: item.value,
      unit: typeof item.unit === "string" ? item.unit : "",
      ...(target === undefined ? {} : { target }),
      ...(typeof item.note === "string" ? { note: item.note } : {}),
    },
  ];
}

const COMPARATORS: readonly Comparator[] = ["<", "<=", ">", ">="];

function toTarget(raw: unknown): Target | undefined {
  if (!isRecord(raw) || typeof raw.value !== "number") return undefined;
  const comparator = COMPARATORS.find((candidate) => candidate === raw.comparator);
  return comparator === undefined ? undefined : { comparator, value: raw.value };
}

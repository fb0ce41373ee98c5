// Scores the offline analyzer on the labelled incidents in test/fixtures/scenarios, and measures
// their prompts: estimated tokens with the whole context and as sent within each provider's budget.
// Run: tsx ai/eval.ts [directory]
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { SUGGESTED_ACTIONS, TARGET_KINDS } from "../domain/actions.js";
import type { Analysis } from "../domain/analysis.js";
import { AnalysisContextSchema } from "../domain/analysis-context.js";
import { analyzeOffline } from "./offline-analyzer.js";
import { DEFAULT_PROMPT_TOKENS } from "./chain.js";
import { fitContext } from "./context.js";
import { buildPrompt } from "./prompt.js";
import { estimatePromptTokens } from "./tokens.js";
import { scopeFromContext } from "../domain/scope.js";
import type { AnalysisContext } from "../domain/analysis-context.js";

export const ScenarioSchema = z.object({
  name: z.string(),
  note: z.string().optional(),
  context: AnalysisContextSchema,
  expected: z.object({
    action: z.enum(SUGGESTED_ACTIONS),
    target: z.object({ kind: z.enum(TARGET_KINDS), name: z.string() }).optional(),
  }),
});
export type Scenario = z.infer<typeof ScenarioSchema>;

export interface ScenarioResult {
  file: string;
  scenario: Scenario;
  analysis: Analysis;
  correct: boolean;
}

export interface EvalReport {
  total: number;
  correct: number;
  accuracy: number;
  results: ScenarioResult[];
}

export const SCENARIO_DIR = fileURLToPath(new URL("../test/fixtures/scenarios/", import.meta.url));

export async function loadScenarios(dir = SCENARIO_DIR): Promise<{ file: string; scenario: Scenario }[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".json")).sort();
  return Promise.all(
    files.map(async (file) => {
      const parsed = ScenarioSchema.safeParse(JSON.parse(await readFile(join(dir, file), "utf8")));
      if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
      return { file, scenario: parsed.data };
    }),
  );
}

function isCorrect(scenario: Scenario, analysis: Analysis): boolean {
  const { action, target } = scenario.expected;
  if (analysis.suggested_action !== action) return false;
  return (
    target === undefined || (analysis.target.kind === target.kind && analysis.target.name === target.name)
  );
}

export async function evaluateOffline(dir = SCENARIO_DIR): Promise<EvalReport> {
  const results = (await loadScenarios(dir)).map(({ file, scenario }) => {
    const analysis = analyzeOffline(scenario.context);
    return { file, scenario, analysis, correct: isCorrect(scenario, analysis) };
  });
  const correct = results.filter((r) => r.correct).length;
  return {
    total: results.length,
    correct,
    accuracy: results.length === 0 ? 0 : correct / results.length,
    results,
  };
}

export function formatReport(report: EvalReport): string {
  const lines = [
    `offline analyzer: ${report.correct}/${report.total} correct (${(report.accuracy * 100).toFixed(1)}%)`,
  ];
  for (const miss of report.results.filter((r) => !r.correct)) {
    const expected = miss.scenario.expected;
    const want = `${expected.action}${expected.target === undefined ? "" : ` ${expected.target.kind}/${expected.target.name}`}`;
    const got = `${miss.analysis.suggested_action} ${miss.analysis.target.kind}/${miss.analysis.target.name}`;
    lines.push(`  miss ${miss.file}: expected ${want}, got ${got} — ${miss.scenario.name}`);
  }
  return lines.join("\n");
}

export interface PromptFigures {
  scenarios: number;
  /** Estimated prompt tokens with the whole context. */
  full: { p50: number; p95: number; max: number };
  /** As sent within each budget (DEFAULT_PROMPT_TOKENS). */
  sent: Record<string, { budget: number; p50: number; p95: number; max: number; trimmed: number }>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function spread(values: number[]): { p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? 0 };
}

/** The prompts of `contexts`, whole and within each provider's default budget. */
export function promptFigures(contexts: readonly AnalysisContext[]): PromptFigures {
  const measure = (context: AnalysisContext) => {
    const prompt = buildPrompt(context, scopeFromContext(context), { nonce: "0000000000000000" });
    return { value: undefined, tokens: estimatePromptTokens(prompt) };
  };
  const full = contexts.map((context) => measure(context).tokens);
  const sent: PromptFigures["sent"] = {};
  for (const budget of new Set(Object.values(DEFAULT_PROMPT_TOKENS))) {
    const fitted = contexts.map((context) => fitContext(context, budget, measure));
    const providers = Object.entries(DEFAULT_PROMPT_TOKENS)
      .filter(([, value]) => value === budget)
      .map(([name]) => name)
      .join("+");
    sent[providers] = {
      budget,
      ...spread(fitted.map((f) => f.tokens)),
      trimmed: fitted.filter((f) => f.dropped.length > 0).length,
    };
  }
  return { scenarios: contexts.length, full: spread(full), sent };
}

export function formatPromptFigures(figures: PromptFigures): string {
  const lines = [
    `prompt tokens (estimated) over ${figures.scenarios} scenarios: whole context p50 ${figures.full.p50}, p95 ${figures.full.p95}, max ${figures.full.max}`,
  ];
  for (const [providers, f] of Object.entries(figures.sent)) {
    lines.push(
      `  sent to ${providers} (budget ${f.budget}): p50 ${f.p50}, p95 ${f.p95}, max ${f.max}; ${f.trimmed} trimmed`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await evaluateOffline(process.argv[2] ?? SCENARIO_DIR);
  console.log(formatReport(report));
  console.log(formatPromptFigures(promptFigures(report.results.map((r) => r.scenario.context))));
}

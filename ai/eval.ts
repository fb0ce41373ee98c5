// Scores the offline analyzer on the labelled incidents in test/fixtures/scenarios.
// Run: tsx ai/eval.ts [directory]
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { SUGGESTED_ACTIONS, TARGET_KINDS } from "../domain/actions.js";
import type { Analysis } from "../domain/analysis.js";
import { AnalysisContextSchema } from "../domain/analysis-context.js";
import { analyzeOffline } from "./offline-analyzer.js";

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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await evaluateOffline(process.argv[2] ?? SCENARIO_DIR);
  console.log(formatReport(report));
}

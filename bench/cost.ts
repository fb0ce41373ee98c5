// Cost per incident: prompt and completion tokens of one analysis over the labelled scenarios in
// test/fixtures/scenarios (what `npm run eval` scores), and what that costs at each provider's
// list price (ai/pricing.ts, dated PRICES_AS_OF). No model is called: the prompt is the one the
// chain would send, fitted into each provider's default budget (DEFAULT_PROMPT_TOKENS) and counted
// with the chain's own estimate (ai/tokens.ts, which errs high); the completion is the analysis the
// model must return, estimated from the offline analyzer's answer in the same schema, plus the
// thinking budget where the provider bills thinking as output (counted in full: an upper bound).
import { DEFAULT_PROMPT_TOKENS } from "../ai/chain.js";
import { fitContext } from "../ai/context.js";
import { loadScenarios } from "../ai/eval.js";
import { analyzeOffline } from "../ai/offline-analyzer.js";
import { costUsd, PRICES_AS_OF } from "../ai/pricing.js";
import { buildPrompt } from "../ai/prompt.js";
import { DEFAULT_CLAUDE_MODEL } from "../ai/providers/claude.js";
import { DEFAULT_GEMINI_MODEL, THINKING_BUDGET } from "../ai/providers/gemini.js";
import { estimatePromptTokens, estimateTokens } from "../ai/tokens.js";
import type { AnalysisContext } from "../domain/analysis-context.js";
import { scopeFromContext } from "../domain/scope.js";
import { format, percentile, type Figure } from "./summary.js";

/** Output tokens billed on top of the answer: Gemini bills its thinking (bounded) as output. */
const PAID = [
  { provider: "gemini", model: DEFAULT_GEMINI_MODEL, thinking: THINKING_BUDGET },
  { provider: "claude", model: DEFAULT_CLAUDE_MODEL, thinking: 0 },
] as const;

const promptTokens = (context: AnalysisContext) => {
  const prompt = buildPrompt(context, scopeFromContext(context), { nonce: "0000000000000000" });
  return { value: undefined, tokens: estimatePromptTokens(prompt) };
};

export async function costPerAnalysis(): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const scenarios = await loadScenarios();
  const contexts = scenarios.map(({ scenario }) => scenario.context);
  const completion = contexts.map((context) => estimateTokens(JSON.stringify(analyzeOffline(context))));
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { scenarios: contexts.length, pricesAsOf: PRICES_AS_OF };
  const completionP50 = percentile(completion, 50) ?? 0;
  const completionP95 = percentile(completion, 95) ?? 0;
  console.log(
    `  ${contexts.length} scenarios; completion tokens per analysis p50 ${completionP50}, p95 ${completionP95}`,
  );
  figures.push(
    { name: "completion tokens per analysis p50", value: completionP50, unit: "tokens" },
    { name: "completion tokens per analysis p95", value: completionP95, unit: "tokens" },
  );
  for (const { provider, model, thinking } of PAID) {
    const budget = DEFAULT_PROMPT_TOKENS[provider];
    const sent = contexts.map((context) => fitContext(context, budget, promptTokens).tokens);
    const p50 = percentile(sent, 50) ?? 0;
    const p95 = percentile(sent, 95) ?? 0;
    const costs = contexts.map((_, index) =>
      costUsd(provider, model, { input: sent[index] ?? 0, output: (completion[index] ?? 0) + thinking }),
    );
    const costP50 = percentile(costs, 50);
    const costP95 = percentile(costs, 95);
    // per 1,000 analyses: a single one costs fractions of a cent
    const perThousand = (cost: number | undefined) => (cost === undefined ? undefined : cost * 1000);
    console.log(
      `  ${provider} ${model}: prompt tokens p50 ${p50}, p95 ${p95} (budget ${budget})` +
        `${thinking > 0 ? `, up to ${thinking} thinking tokens billed as output` : ""}; cost per 1,000 ` +
        `analyses p50 ${format(perThousand(costP50), "USD")}, p95 ${format(perThousand(costP95), "USD")} ` +
        `(list prices of ${PRICES_AS_OF})`,
    );
    figures.push(
      { name: `${provider}: prompt tokens per analysis p50`, value: p50, unit: "tokens" },
      {
        name: `${provider}: prompt tokens per analysis p95`,
        value: p95,
        unit: "tokens",
        target: { comparator: "<=", value: budget },
      },
      { name: `${provider} ${model}: cost per 1,000 analyses p50`, value: perThousand(costP50), unit: "USD" },
      { name: `${provider} ${model}: cost per 1,000 analyses p95`, value: perThousand(costP95), unit: "USD" },
    );
    details[provider] = { model, budget, promptTokens: sent, costsUsd: costs };
  }
  details.completionTokens = completion;
  console.log("  ollama: no charge (runs on your own machine)");
  return { figures, details };
}

// USD per million tokens. Prices change; the table is small on purpose so a review catches it.
// A model missing from the table is priced at its provider's most expensive entry, so budgets
// err on the safe side. The figures are the providers' list prices (Google's Gemini API pricing
// page, paid tier, prompts up to 200k tokens; Anthropic's API pricing), as of PRICES_AS_OF.
import { type ProviderName, type TokenUsage } from "../domain/llm.js";

interface Price {
  input: number;
  output: number;
}

/** When the table was last checked against the providers' published list prices. */
export const PRICES_AS_OF = "2025-11-24";

const PRICES: Record<ProviderName, Record<string, Price>> = {
  ollama: {},
  gemini: {
    "gemini-2.5-flash-lite": { input: 0.1, output: 0.4 },
    "gemini-2.5-flash": { input: 0.3, output: 2.5 },
    "gemini-2.5-pro": { input: 1.25, output: 10 },
  },
  claude: {
    "claude-haiku-4-5": { input: 1, output: 5 },
    "claude-sonnet-4-5": { input: 3, output: 15 },
    "claude-opus-4-5": { input: 5, output: 25 },
  },
};

function priceOf(provider: ProviderName, model: string): Price {
  const table = PRICES[provider];
  // "claude-haiku-4-5-20251001" and "models/gemini-2.5-flash" are priced as their family
  const key = Object.keys(table)
    .sort((a, b) => b.length - a.length)
    .find((name) => model.includes(name));
  if (key !== undefined) return table[key] ?? { input: 0, output: 0 };
  return Object.values(table).reduce<Price>(
    (max, price) => ({ input: Math.max(max.input, price.input), output: Math.max(max.output, price.output) }),
    { input: 0, output: 0 },
  );
}

export function costUsd(provider: ProviderName, model: string, usage: TokenUsage): number {
  const price = priceOf(provider, model);
  const cost = (usage.input * price.input + usage.output * price.output) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}

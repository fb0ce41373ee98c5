// Builds the providers in the configured order. A provider without its settings stays in the
// list unconfigured, so the chain can report it as skipped rather than silently absent.
import type { LlmProvider } from "../provider.js";
import { type ProviderName } from "../../domain/llm.js";
import { ClaudeProvider } from "./claude.js";
import { GeminiProvider } from "./gemini.js";
import { OllamaProvider } from "./ollama.js";

/** The shape of `config.llm` (registry/config.ts), plus optional model choices. */
export interface LlmSettings {
  chain: readonly ProviderName[];
  ollama: { host?: string | undefined; model?: string | undefined; numCtx?: number | undefined };
  gemini: { apiKey?: string | undefined; baseUrl?: string | undefined; model?: string | undefined };
  claude: { apiKey?: string | undefined; baseUrl?: string | undefined; model?: string | undefined };
}

export interface ProviderSlot {
  name: ProviderName;
  /** Undefined when the settings it needs are missing. */
  provider: LlmProvider | undefined;
  /** What is missing, for the attempt record. */
  missing?: string;
  /** The same provider asking for another model (SWITCH_MODEL). */
  withModel?: (model: string) => LlmProvider;
}

export function createProviders(settings: LlmSettings): ProviderSlot[] {
  return settings.chain.map((name): ProviderSlot => {
    switch (name) {
      case "ollama": {
        const { host, model, numCtx } = settings.ollama;
        return host === undefined || model === undefined
          ? { name, provider: undefined, missing: "OLLAMA_HOST and OLLAMA_MODEL are required" }
          : {
              name,
              provider: new OllamaProvider({ host, model, numCtx }),
              withModel: (other) => new OllamaProvider({ host, model: other, numCtx }),
            };
      }
      case "gemini": {
        const { apiKey, baseUrl, model } = settings.gemini;
        return apiKey === undefined
          ? { name, provider: undefined, missing: "GEMINI_API_KEY is not set" }
          : { name, provider: new GeminiProvider({ apiKey, baseUrl, model }) };
      }
      case "claude": {
        const { apiKey, baseUrl, model } = settings.claude;
        return apiKey === undefined
          ? { name, provider: undefined, missing: "ANTHROPIC_API_KEY is not set" }
          : { name, provider: new ClaudeProvider({ apiKey, baseUrl, model }) };
      }
    }
  });
}

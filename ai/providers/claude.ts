// Claude Messages API with structured output (`output_config.format`, a JSON Schema derived from
// the same zod schema and adapted to what the API accepts by the SDK's own helper).
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { zodOutputFormat } from "@anthropic-ai/sdk/helpers/zod";
import { ModelOutputSchema } from "../../domain/analysis.js";
import {
  httpFailure,
  networkFailure,
  ProviderError,
  retryAfterFromHeaders,
  type LlmProvider,
  type ProviderResult,
} from "../provider.js";
import type { AnalysisPrompt } from "../prompt.js";

export interface ClaudeSettings {
  apiKey: string;
  baseUrl?: string | undefined;
  model?: string | undefined;
  maxTokens?: number | undefined;
}

export const DEFAULT_CLAUDE_MODEL = "claude-haiku-4-5";

const OUTPUT_FORMAT = zodOutputFormat(ModelOutputSchema);

export class ClaudeProvider implements LlmProvider {
  readonly name = "claude";
  readonly model: string;
  private readonly client: Anthropic;
  private readonly maxTokens: number;

  constructor(settings: ClaudeSettings) {
    this.model = settings.model ?? DEFAULT_CLAUDE_MODEL;
    this.maxTokens = settings.maxTokens ?? 2048;
    // The chain fails over instead of retrying: a retry here would only delay the next provider.
    this.client = new Anthropic({
      apiKey: settings.apiKey,
      maxRetries: 0,
      ...(settings.baseUrl === undefined ? {} : { baseURL: settings.baseUrl }),
    });
  }

  async analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult> {
    try {
      const message = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: this.maxTokens,
          system: prompt.system,
          messages: [{ role: "user", content: prompt.user }],
          output_config: { format: { type: OUTPUT_FORMAT.type, schema: OUTPUT_FORMAT.schema } },
        },
        { signal },
      );
      if (message.stop_reason === "refusal" || message.stop_reason === "max_tokens") {
        throw new ProviderError("claude", "invalid_output", `generation stopped: ${message.stop_reason}`);
      }
      const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
      if (text.trim() === "") throw new ProviderError("claude", "invalid_output", "empty answer");
      return {
        output: text,
        usage: { input: message.usage.input_tokens, output: message.usage.output_tokens },
        model: message.model,
      };
    } catch (error) {
      throw asProviderError(error);
    }
  }
}

function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof APIError && typeof error.status === "number") {
    // `instanceof` on the generic error class leaves its fields untyped
    const headers: unknown = error.headers;
    return httpFailure(
      "claude",
      error.status,
      error,
      retryAfterFromHeaders(headers instanceof Headers ? headers : undefined),
    );
  }
  return networkFailure("claude", error);
}

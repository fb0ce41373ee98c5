// Claude Messages API with structured output (`output_config.format`, a JSON Schema derived from
// the same zod schema and adapted to what the API accepts by the SDK's own helper). Structured
// output exists only on some models (a 400 otherwise): the Models API says which, and the start-up
// check asks it. `refusal` and `max_tokens` stops, and 529 overloaded, are provider outcomes.
// The SDK is loaded on the first call (about 20 MB of memory once loaded), so a process that never
// asks Claude (the intake, or any installation without ANTHROPIC_API_KEY) never carries it.
import type Anthropic from "@anthropic-ai/sdk";
import { ModelOutputSchema } from "../../domain/analysis.js";
import {
  errorMessage,
  httpFailure,
  networkFailure,
  ProviderError,
  retryAfterFromHeaders,
  type LlmProvider,
  type ModelCheck,
  unusableModel,
  usableDetail,
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

interface Sdk {
  Anthropic: typeof Anthropic;
  APIError: typeof Anthropic.APIError;
  outputFormat: { type: "json_schema"; schema: Record<string, unknown> };
}

let sdk: Promise<Sdk> | undefined;

/** The SDK and the answer's schema in its terms, loaded once per process on first use. */
function loadSdk(): Promise<Sdk> {
  sdk ??= Promise.all([import("@anthropic-ai/sdk"), import("@anthropic-ai/sdk/helpers/zod")]).then(
    ([main, helpers]) => {
      const format = helpers.zodOutputFormat(ModelOutputSchema);
      return {
        Anthropic: main.default,
        APIError: main.APIError,
        outputFormat: { type: format.type, schema: format.schema },
      };
    },
  );
  return sdk;
}

export class ClaudeProvider implements LlmProvider {
  readonly name = "claude";
  readonly model: string;
  private client: Promise<{ sdk: Sdk; client: Anthropic }> | undefined;
  private readonly maxTokens: number;

  constructor(private readonly settings: ClaudeSettings) {
    this.model = settings.model ?? DEFAULT_CLAUDE_MODEL;
    this.maxTokens = settings.maxTokens ?? 2048;
  }

  private connect(): Promise<{ sdk: Sdk; client: Anthropic }> {
    this.client ??= loadSdk().then((loaded) => ({
      sdk: loaded,
      // The chain fails over instead of retrying: a retry here would only delay the next provider.
      client: new loaded.Anthropic({
        apiKey: this.settings.apiKey,
        maxRetries: 0,
        ...(this.settings.baseUrl === undefined ? {} : { baseURL: this.settings.baseUrl }),
      }),
    }));
    return this.client;
  }

  async analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult> {
    const { sdk, client } = await this.connect();
    try {
      const message = await client.messages.create(
        {
          model: this.model,
          max_tokens: this.maxTokens,
          system: prompt.system,
          messages: [{ role: "user", content: prompt.user }],
          output_config: { format: sdk.outputFormat },
        },
        { signal },
      );
      const billed = { usage: { input: message.usage.input_tokens, output: message.usage.output_tokens } };
      if (message.stop_reason === "refusal") {
        throw new ProviderError("claude", "refused", "generation stopped: refusal", billed);
      }
      if (message.stop_reason === "max_tokens" || message.stop_reason === "model_context_window_exceeded") {
        throw new ProviderError(
          "claude",
          "truncated",
          `the answer was cut at ${message.usage.output_tokens} tokens (${message.stop_reason})`,
          billed,
        );
      }
      const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
      if (text.trim() === "") throw new ProviderError("claude", "invalid_output", "empty answer");
      return {
        output: text,
        usage: { input: message.usage.input_tokens, output: message.usage.output_tokens },
        model: message.model,
      };
    } catch (error) {
      throw asProviderError(error, sdk.APIError);
    }
  }

  /** The Models API: the model exists (404 otherwise) and supports structured output. No tokens. */
  async check(signal: AbortSignal): Promise<ModelCheck> {
    const { sdk, client } = await this.connect();
    try {
      const info = await client.models.retrieve(this.model, {}, { signal });
      if (info.capabilities?.structured_outputs.supported === false) {
        return unusableModel(this.model, { code: "no_structured_output", model: this.model });
      }
      return {
        kind: "ok",
        model: this.model,
        ...(info.max_input_tokens === null ? {} : { contextTokens: info.max_input_tokens }),
        ...usableDetail({ code: "structured_output", model: this.model }),
      };
    } catch (error) {
      if (error instanceof sdk.APIError && error.status === 404) {
        return unusableModel(this.model, { code: "model_missing", model: this.model, status: "404" });
      }
      return { kind: "unknown", model: this.model, reason: errorMessage(error) };
    }
  }
}

function asProviderError(error: unknown, APIError: Sdk["APIError"]): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof APIError && error.status === 404) {
    return new ProviderError("claude", "unusable", `HTTP 404: ${errorMessage(error)}`, {
      status: 404,
      cause: error,
    });
  }
  if (
    error instanceof APIError &&
    error.status === 400 &&
    /output_config|output_format|structured output/i.test(errorMessage(error))
  ) {
    return new ProviderError("claude", "unusable", `HTTP 400: ${errorMessage(error)}`, {
      status: 400,
      cause: error,
    });
  }
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

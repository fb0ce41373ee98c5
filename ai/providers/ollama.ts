// Ollama's /api/chat with `format` set to the answer's JSON Schema (structured outputs).
import { Ollama } from "ollama";
import {
  httpFailure,
  networkFailure,
  ProviderError,
  type LlmProvider,
  type ProviderResult,
} from "../provider.js";
import type { AnalysisPrompt } from "../prompt.js";
import { callFetch } from "./http.js";

export interface OllamaSettings {
  host: string;
  model: string;
}

export class OllamaProvider implements LlmProvider {
  readonly name = "ollama";
  readonly model: string;

  constructor(private readonly settings: OllamaSettings) {
    this.model = settings.model;
  }

  async analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult> {
    // The client takes no signal for a non-streamed chat, so each call gets a fetch bound to one.
    const http = callFetch(signal);
    const client = new Ollama({ host: this.settings.host, fetch: http.fetch });
    try {
      const response = await client.chat({
        model: this.model,
        stream: false,
        format: prompt.schema,
        options: { temperature: 0 },
        messages: [
          { role: "system", content: prompt.system },
          { role: "user", content: prompt.user },
        ],
      });
      const content = response.message.content;
      if (content.trim() === "") throw new ProviderError("ollama", "invalid_output", "empty answer");
      return {
        output: content,
        usage: { input: response.prompt_eval_count, output: response.eval_count },
        model: response.model,
      };
    } catch (error) {
      throw asProviderError(error, http.retryAfterMs());
    }
  }
}

function asProviderError(error: unknown, retryAfterMs: number | undefined): ProviderError {
  if (error instanceof ProviderError) return error;
  const status = (error as { status_code?: unknown }).status_code;
  return typeof status === "number"
    ? httpFailure("ollama", status, error, retryAfterMs)
    : networkFailure("ollama", error);
}

/** Whether the Ollama server at `host` answers (its model list, which costs nothing), for /status. */
export async function probeOllama(host: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(new URL("/api/tags", host), { signal });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`GET /api/tags answered HTTP ${response.status}`);
}

// Gemini generateContent with responseMimeType application/json and responseJsonSchema.
import { ApiError, FinishReason, GoogleGenAI } from "@google/genai";
import {
  httpFailure,
  networkFailure,
  ProviderError,
  type LlmProvider,
  type ProviderResult,
} from "../provider.js";
import type { AnalysisPrompt } from "../prompt.js";
import { callFetch } from "./http.js";

export interface GeminiSettings {
  apiKey: string;
  /** Another endpoint than Google's (a proxy, or a test server). */
  baseUrl?: string | undefined;
  model?: string | undefined;
}

export const DEFAULT_GEMINI_MODEL = "gemini-2.5-flash";

export class GeminiProvider implements LlmProvider {
  readonly name = "gemini";
  readonly model: string;

  constructor(private readonly settings: GeminiSettings) {
    this.model = settings.model ?? DEFAULT_GEMINI_MODEL;
  }

  async analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult> {
    const http = callFetch(signal);
    const client = new GoogleGenAI({
      apiKey: this.settings.apiKey,
      httpOptions: {
        fetch: http.fetch,
        ...(this.settings.baseUrl === undefined ? {} : { baseUrl: this.settings.baseUrl }),
      },
    });
    try {
      const response = await client.models.generateContent({
        model: this.model,
        contents: [{ role: "user", parts: [{ text: prompt.user }] }],
        config: {
          systemInstruction: prompt.system,
          responseMimeType: "application/json",
          responseJsonSchema: prompt.schema,
          temperature: 0,
          abortSignal: signal,
        },
      });
      const blocked = response.promptFeedback?.blockReason;
      if (blocked !== undefined)
        throw new ProviderError("gemini", "invalid_output", `prompt blocked: ${blocked}`);
      const candidate = response.candidates?.[0];
      const finish = candidate?.finishReason;
      if (finish !== undefined && finish !== FinishReason.STOP) {
        throw new ProviderError("gemini", "invalid_output", `generation stopped: ${finish}`);
      }
      const text = candidate?.content?.parts
        ?.map((part) => (part.thought === true ? "" : (part.text ?? "")))
        .join("");
      if (text === undefined || text.trim() === "")
        throw new ProviderError("gemini", "invalid_output", "empty answer");
      const usage = response.usageMetadata;
      return {
        output: text,
        usage: {
          input: usage?.promptTokenCount ?? 0,
          // thinking tokens are billed as output
          output: (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
        },
        model: response.modelVersion ?? this.model,
      };
    } catch (error) {
      throw asProviderError(error, http.retryAfterMs());
    }
  }
}

function asProviderError(error: unknown, retryAfterMs: number | undefined): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ApiError) {
    return httpFailure("gemini", error.status, error, retryAfterMs ?? retryInfoDelayMs(error.message));
  }
  return networkFailure("gemini", error);
}

/** Google APIs say when to retry in the body: `details[].retryDelay: "7s"` (google.rpc.RetryInfo). */
function retryInfoDelayMs(message: string): number | undefined {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) * 1000);
}

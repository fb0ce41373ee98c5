// Gemini generateContent with responseMimeType application/json and responseJsonSchema. Gemini
// enforces only part of a JSON Schema (lengths and patterns are ignored; the chain's own check and
// normalisation cover them). 2.5 models think before answering, and thoughts come out of
// `maxOutputTokens`: the thinking budget is bounded and the answer gets its own room on top, and
// a MAX_TOKENS stop (cut answer) or a safety stop is a provider outcome, not an analysis.
// The SDK is loaded on the first call (about 20 MB of memory once loaded), so a process that never
// asks Gemini (the intake, or any installation without GEMINI_API_KEY) never carries it.
import type * as GenAi from "@google/genai";
import type { FinishReason, GoogleGenAI } from "@google/genai";
import {
  errorMessage,
  httpFailure,
  networkFailure,
  ProviderError,
  type LlmProvider,
  type ModelCheck,
  unusableModel,
  usableDetail,
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
/** Thought tokens allowed (valid on Flash, 0–24576, and Pro, 128–32768). */
export const THINKING_BUDGET = 512;
/** Room for the answer itself, on top of the thinking budget. */
export const ANSWER_TOKENS = 2048;

/** Finish reasons that mean the model would not answer this content. */
const REFUSALS = new Set<string>([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
] satisfies `${FinishReason}`[]);

type Sdk = typeof GenAi;
let sdk: Promise<Sdk> | undefined;

/** The SDK, loaded once per process on first use. */
function loadSdk(): Promise<Sdk> {
  sdk ??= import("@google/genai");
  return sdk;
}

/**
 * The answer's schema as Gemini gets it: the keywords it ignores (lengths, patterns) stay, and are
 * also said in words in each field's description, which the model reads.
 */
export function geminiSchema(schema: unknown): unknown {
  if (schema === null || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map(geminiSchema);
  const node = Object.fromEntries(
    Object.entries(schema as Record<string, unknown>).map(([key, value]) => [
      key,
      key === "properties" && value !== null && typeof value === "object"
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, geminiSchema(v)]),
          )
        : key === "items" || key === "anyOf"
          ? geminiSchema(value)
          : value,
    ]),
  );
  const said: string[] = [];
  if (typeof node.minLength === "number" && node.minLength > 0)
    said.push(`at least ${node.minLength} characters`);
  if (typeof node.maxLength === "number") said.push(`at most ${node.maxLength} characters`);
  if (typeof node.pattern === "string") said.push(`matching the regular expression ${node.pattern}`);
  if (said.length === 0) return node;
  const description = typeof node.description === "string" ? `${node.description} ` : "";
  return { ...node, description: `${description}(${said.join(", ")})` };
}

/** Models that think (2.5 and later); earlier ones refuse a thinking configuration. */
function thinks(model: string): boolean {
  return !/^gemini-(1\.|2\.0)/.test(model);
}

export class GeminiProvider implements LlmProvider {
  readonly name = "gemini";
  readonly model: string;

  constructor(private readonly settings: GeminiSettings) {
    this.model = settings.model ?? DEFAULT_GEMINI_MODEL;
  }

  /** A client whose every request goes through `fetch` (one per call: it carries the call's signal). */
  private client(sdk: Sdk, fetch: typeof globalThis.fetch): GoogleGenAI {
    return new sdk.GoogleGenAI({
      apiKey: this.settings.apiKey,
      httpOptions: {
        fetch,
        ...(this.settings.baseUrl === undefined ? {} : { baseUrl: this.settings.baseUrl }),
      },
    });
  }

  async analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult> {
    const sdk = await loadSdk();
    const http = callFetch(signal);
    const client = this.client(sdk, http.fetch);
    try {
      const response = await client.models.generateContent({
        model: this.model,
        contents: [{ role: "user", parts: [{ text: prompt.user }] }],
        config: {
          systemInstruction: prompt.system,
          responseMimeType: "application/json",
          responseJsonSchema: geminiSchema(prompt.schema),
          temperature: 0,
          ...(thinks(this.model)
            ? {
                thinkingConfig: { thinkingBudget: THINKING_BUDGET },
                maxOutputTokens: THINKING_BUDGET + ANSWER_TOKENS,
              }
            : { maxOutputTokens: ANSWER_TOKENS }),
          abortSignal: signal,
        },
      });
      const blocked = response.promptFeedback?.blockReason;
      if (blocked !== undefined) throw new ProviderError("gemini", "refused", `prompt blocked: ${blocked}`);
      const candidate = response.candidates?.[0];
      const finish = candidate?.finishReason;
      const thoughts = response.usageMetadata?.thoughtsTokenCount ?? 0;
      const billed = {
        usage: {
          input: response.usageMetadata?.promptTokenCount ?? 0,
          // thinking tokens are billed as output
          output: (response.usageMetadata?.candidatesTokenCount ?? 0) + thoughts,
        },
      };
      if (finish === sdk.FinishReason.MAX_TOKENS) {
        throw new ProviderError(
          "gemini",
          "truncated",
          `the answer was cut at MAX_TOKENS (${thoughts} thinking tokens spent)`,
          billed,
        );
      }
      if (finish !== undefined && REFUSALS.has(finish)) {
        throw new ProviderError("gemini", "refused", `generation stopped: ${finish}`, billed);
      }
      if (finish !== undefined && finish !== sdk.FinishReason.STOP) {
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
      throw asProviderError(error, sdk.ApiError, http.retryAfterMs());
    }
  }

  /** models.get: the model exists (404 otherwise) and whether it thinks. Costs no tokens. */
  async check(signal: AbortSignal): Promise<ModelCheck> {
    const sdk = await loadSdk();
    const http = callFetch(signal);
    const client = this.client(sdk, http.fetch);
    try {
      const model = await client.models.get({ model: this.model, config: { abortSignal: signal } });
      return {
        kind: "ok",
        model: this.model,
        ...(model.thinking === undefined ? {} : { thinking: model.thinking }),
        ...(model.inputTokenLimit === undefined ? {} : { contextTokens: model.inputTokenLimit }),
        ...(model.thinking === true
          ? usableDetail({ code: "thinks", model: this.model, budget: THINKING_BUDGET })
          : { detail: this.model }),
      };
    } catch (error) {
      if (error instanceof sdk.ApiError && error.status === 404) {
        return unusableModel(this.model, {
          code: "model_missing",
          model: this.model,
          status: "404 NOT_FOUND",
        });
      }
      return { kind: "unknown", model: this.model, reason: errorMessage(error) };
    }
  }
}

function asProviderError(
  error: unknown,
  ApiError: Sdk["ApiError"],
  retryAfterMs: number | undefined,
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ApiError && error.status === 404) {
    return new ProviderError("gemini", "unusable", `HTTP 404: ${errorMessage(error)}`, {
      status: 404,
      cause: error,
    });
  }
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

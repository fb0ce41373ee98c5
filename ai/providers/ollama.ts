// Ollama's /api/chat with `format` set to the answer's JSON Schema (structured outputs), and the
// window sized to the prompt. Ollama reads a prompt longer than its window with the beginning cut
// and answers 200 as if nothing happened (its default window is 2k–4k on small GPUs), so:
// `options.num_ctx` is the estimated prompt plus room for the answer, rounded up to a power of two
// and bounded by OLLAMA_NUM_CTX and the model's trained length; since each new size restarts the
// model runner (a reload of seconds), the window only grows: a smaller prompt keeps the largest
// window asked so far; `truncate: false` asks servers that know it to refuse an over-long
// prompt rather than cut it; an answer that read fewer tokens than it was sent, or stopped at
// `done_reason: "length"`, is a failure, never an analysis.
import { Ollama } from "ollama";
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
import { estimatePromptTokens } from "../tokens.js";
import { callFetch } from "./http.js";

export interface OllamaSettings {
  host: string;
  model: string;
  /** The largest window asked for (OLLAMA_NUM_CTX). */
  numCtx?: number | undefined;
}

export const DEFAULT_OLLAMA_NUM_CTX = 8192;
/** Tokens kept for the answer (`num_predict`): the JSON with a reasoning of up to 2,000 characters. */
export const ANSWER_TOKENS = 1536;
/** The smallest window asked for: below it no server default is smaller anyway. */
const MIN_NUM_CTX = 2048;
/** Ollama unloads a model idle this long (its default keep_alive); the next call loads it again. */
const KEEP_ALIVE_MS = 5 * 60_000;

/** The window for a prompt of `promptTokens`: a power of two holding it and the answer, at most `cap`. */
export function windowFor(promptTokens: number, cap: number): number | undefined {
  const needed = promptTokens + ANSWER_TOKENS;
  if (needed > cap) return undefined;
  let size = MIN_NUM_CTX;
  while (size < needed) size *= 2;
  return Math.min(size, cap);
}

export class OllamaProvider implements LlmProvider {
  readonly name = "ollama";
  readonly model: string;
  /** The model's trained context length, once the start-up check has read it. */
  private trainedContext: number | undefined;
  /** The window the server last answered with, and when: the model is loaded with it. */
  private loaded: { numCtx: number; at: number } | undefined;
  /** The largest window asked so far; smaller prompts keep it rather than restart the runner. */
  private largest = 0;

  constructor(private readonly settings: OllamaSettings) {
    this.model = settings.model;
  }

  /** The largest window this model gets: OLLAMA_NUM_CTX, or less when the model was trained shorter. */
  maxContext(): number {
    const cap = this.settings.numCtx ?? DEFAULT_OLLAMA_NUM_CTX;
    return this.trainedContext === undefined ? cap : Math.min(cap, this.trainedContext);
  }

  maxPromptTokens(): number {
    return this.maxContext() - ANSWER_TOKENS;
  }

  /** The window for `promptTokens`: sized to it, never below the largest so far, undefined if too long. */
  private window(promptTokens: number): number | undefined {
    const cap = this.maxContext();
    const sized = windowFor(promptTokens, cap);
    return sized === undefined ? undefined : Math.min(cap, Math.max(sized, this.largest));
  }

  coldStart(prompt: AnalysisPrompt): boolean {
    const numCtx = this.window(estimatePromptTokens(prompt));
    return (
      this.loaded === undefined ||
      this.loaded.numCtx !== numCtx ||
      Date.now() - this.loaded.at > KEEP_ALIVE_MS
    );
  }

  async analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult> {
    const sent = estimatePromptTokens(prompt);
    const numCtx = this.window(sent);
    if (numCtx === undefined) {
      throw new ProviderError(
        "ollama",
        "truncated",
        `prompt of ~${sent} tokens and ${ANSWER_TOKENS} for the answer exceed the ${this.maxContext()}-token window`,
      );
    }
    this.largest = Math.max(this.largest, numCtx);
    // The client takes no signal for a non-streamed chat, so each call gets a fetch bound to one.
    const http = callFetch(signal);
    const client = new Ollama({ host: this.settings.host, fetch: http.fetch });
    try {
      const response = await client.chat({
        model: this.model,
        stream: false,
        format: prompt.schema,
        options: { temperature: 0, num_ctx: numCtx, num_predict: ANSWER_TOKENS },
        messages: [
          { role: "system", content: prompt.system },
          { role: "user", content: prompt.user },
        ],
        // not in the client's types; the server takes it on /api/chat (refuse rather than cut)
        ...({ truncate: false } as object),
      });
      this.loaded = { numCtx, at: Date.now() };
      const read = response.prompt_eval_count;
      // A whole window read means the prompt filled it: cut. Far fewer tokens read than sent means
      // the server ran a smaller window than asked (a model trained shorter) and cut it. The
      // estimate errs high by ~15 %, and a cached prefix (the system text up to the random
      // delimiter id) is under 100 tokens, so neither misfires on a prompt read whole.
      if (
        read >= Math.min(numCtx, this.trainedContext ?? numCtx) ||
        (read < 0.6 * sent && sent - read > 512)
      ) {
        throw new ProviderError(
          "ollama",
          "truncated",
          `the prompt was cut: the model read ${read} of ~${sent} tokens (window ${numCtx})`,
        );
      }
      if (response.done_reason === "length") {
        throw new ProviderError(
          "ollama",
          "truncated",
          `the answer was cut at ${response.eval_count} tokens (done_reason "length")`,
          { usage: { input: response.prompt_eval_count, output: response.eval_count } },
        );
      }
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

  /** /api/show: the model is pulled, and its trained context length bounds the window. */
  async check(signal: AbortSignal): Promise<ModelCheck> {
    const http = callFetch(signal);
    const client = new Ollama({ host: this.settings.host, fetch: http.fetch });
    try {
      const show = await client.show({ model: this.model });
      const info = (show.model_info ?? {}) as unknown as Record<string, unknown>;
      const length = Object.entries(info).find(([key]) => key.endsWith(".context_length"))?.[1];
      if (typeof length === "number" && length > 0) this.trainedContext = length;
      const window = this.maxContext();
      return {
        kind: "ok",
        model: this.model,
        contextTokens: window,
        ...usableDetail({
          code: "window",
          model: this.model,
          window,
          trained: typeof length === "number" ? length : 0,
        }),
      };
    } catch (error) {
      const status = (error as { status_code?: unknown }).status_code;
      if (status === 404) {
        return unusableModel(this.model, { code: "model_not_pulled", model: this.model });
      }
      return { kind: "unknown", model: this.model, reason: errorMessage(error) };
    }
  }
}

function asProviderError(error: unknown, retryAfterMs: number | undefined): ProviderError {
  if (error instanceof ProviderError) return error;
  const status = (error as { status_code?: unknown }).status_code;
  if (status === 400 && /context length/i.test(errorMessage(error))) {
    return new ProviderError("ollama", "truncated", `the server refused the prompt: ${errorMessage(error)}`, {
      status,
      cause: error,
    });
  }
  if (status === 404 && /not found/i.test(errorMessage(error))) {
    return new ProviderError("ollama", "unusable", errorMessage(error), { status, cause: error });
  }
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

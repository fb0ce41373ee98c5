// The seam between the chain and one model API. A provider sends the prompt, returns the raw
// answer and its token usage, and turns its SDK's failures into a `ProviderError` saying how it
// failed; judging the answer is the chain's job.
import type { ProviderName, TokenUsage } from "../domain/llm.js";
import { englishOf, type StatusSaying } from "../domain/i18n/index.js";
import type { AnalysisPrompt } from "./prompt.js";

export interface ProviderResult {
  /** The answer as the API gave it: JSON text, or an already-decoded object. */
  output: string | object;
  usage: TokenUsage;
  /** The model that answered, as the API reports it. */
  model: string;
}

export interface LlmProvider {
  readonly name: ProviderName;
  readonly model: string;
  analyze(prompt: AnalysisPrompt, signal: AbortSignal): Promise<ProviderResult>;
  /**
   * The largest prompt (estimated tokens, ai/tokens.ts) this provider reads whole; the context
   * builder trims the context to it. Undefined: the chain's default budget.
   */
  maxPromptTokens?(): number | undefined;
  /** Whether this call will first load the model (Ollama's cold start): it gets the first-load timeout. */
  coldStart?(prompt: AnalysisPrompt): boolean;
  /** Whether the configured model exists and can answer as asked; one cheap, token-free call. */
  check?(signal: AbortSignal): Promise<ModelCheck>;
}

/** What the start-up check found about a provider's configured model. */
export type ModelCheck =
  | {
      kind: "ok";
      model: string;
      detail?: string;
      /** The detail as data, for /status to say in BOT_LANGUAGE. */
      said?: StatusSaying;
      contextTokens?: number;
      thinking?: boolean;
    }
  /** The model does not exist, or cannot give structured output: asking it per incident is pointless. */
  | { kind: "unusable"; model: string; reason: string; said?: StatusSaying }
  /** The check itself failed (unreachable, 5xx): nothing is concluded, the chain asks as usual. */
  | { kind: "unknown"; model: string; reason: string };

/** A model the check found unusable for a reason worded here: English `reason`, and `said` for /status. */
export function unusableModel(model: string, said: StatusSaying): ModelCheck {
  return { kind: "unusable", model, reason: englishOf("statusDetail", said), said };
}

/** What the check says about a usable model, in English and as data. */
export function usableDetail(said: StatusSaying): { detail: string; said: StatusSaying } {
  return { detail: englishOf("statusDetail", said), said };
}

export type ProviderFailure =
  /** HTTP 429 or the API's quota error. */
  | "rate_limited"
  /** Any other HTTP error status. */
  | "http_error"
  /** No HTTP answer at all: refused, reset, DNS, TLS. */
  | "unreachable"
  /** An answer without the expected content (empty, not JSON). */
  | "invalid_output"
  /** HTTP 503 (Ollama's and Gemini's busy) or 529 (Anthropic's overloaded): handled like a 429. */
  | "overloaded"
  /**
   * The prompt or the answer was cut: the prompt longer than the window (read cut, or refused),
   * the answer stopped at its token limit (`done_reason: "length"`, `MAX_TOKENS`, `max_tokens`).
   */
  | "truncated"
  /** The model refused or was stopped for safety (`refusal`, `SAFETY`, a blocked prompt). */
  | "refused"
  /** The model does not exist or cannot answer as asked (404, no structured output). */
  | "unusable";

export class ProviderError extends Error {
  override readonly name = "ProviderError";

  constructor(
    readonly provider: ProviderName,
    readonly failure: ProviderFailure,
    message: string,
    readonly details: {
      status?: number;
      retryAfterMs?: number;
      cause?: unknown;
      /** Tokens a failed answer still cost (a cut or refused answer is billed, thinking included). */
      usage?: TokenUsage;
    } = {},
  ) {
    super(`${provider}: ${message}`, { cause: details.cause });
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get retryAfterMs(): number | undefined {
    return this.details.retryAfterMs;
  }
}

/**
 * An HTTP error answer of a provider's API: 429 is a rate limit, 503 and 529 an overloaded server,
 * anything else an HTTP error.
 */
export function httpFailure(
  provider: ProviderName,
  status: number,
  error: unknown,
  retryAfterMs: number | undefined,
): ProviderError {
  return new ProviderError(
    provider,
    status === 429 ? "rate_limited" : status === 503 || status === 529 ? "overloaded" : "http_error",
    `HTTP ${status}: ${errorMessage(error)}`,
    {
      status,
      cause: error,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  );
}

/** No HTTP answer at all (refused, reset, DNS, TLS), named by its network code when there is one. */
export function networkFailure(provider: ProviderName, error: unknown): ProviderError {
  const code = networkCode(error);
  return new ProviderError(
    provider,
    "unreachable",
    code === undefined ? errorMessage(error) : `${code}: ${errorMessage(error)}`,
    { cause: error },
  );
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How long the server asked us to wait: `retry-after-ms` (Anthropic) or `Retry-After`. */
export function retryAfterFromHeaders(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  return Number.isFinite(ms) && ms >= 0 ? ms : parseRetryAfter(headers.get("retry-after"), now);
}

/** The network-level reason of a failed fetch (`ECONNREFUSED`, …), when there is one. */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$|^UND_ERR/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

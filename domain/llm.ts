// The language-model providers of the analysis chain, and what one attempt at an analysis came to
// (stored with every analysis, shown in the drill-down and counted in the metrics).
export const PROVIDER_NAMES = ["ollama", "gemini", "claude"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface TokenUsage {
  input: number;
  output: number;
}

export type AttemptOutcome =
  | "ok"
  | "timeout"
  | "rate_limited"
  /** HTTP 503/529: the server is busy; paused like a 429. */
  | "overloaded"
  /** The prompt or the answer was cut (window too small, token limit reached). */
  | "truncated"
  /** Even trimmed to its least, the context does not fit the provider's window: not asked. */
  | "prompt_too_long"
  /** The model refused, or was stopped for safety. */
  | "refused"
  /** The configured model does not exist or lacks structured output (found at start-up). */
  | "unusable"
  /** An HTTP error status, or no HTTP answer at all (refused, reset); `error` says which. */
  | "http_error"
  /** Not JSON, or not the shape asked for. */
  | "invalid_output"
  /** Well-formed, but unsafe: an unlisted action, another resource, injected text. */
  | "rejected"
  | "circuit_open"
  | "budget_exhausted"
  | "not_configured"
  /** Passed over while a FALLBACK_AI override lasts (ai/chain-settings.ts). */
  | "skipped"
  /** The caller aborted the analysis while this provider was working. */
  | "cancelled";

export interface Attempt {
  provider: ProviderName;
  outcome: AttemptOutcome;
  ms: number;
  model?: string;
  error?: string;
  status?: number;
  retryAfterMs?: number;
  tokens?: TokenUsage;
  /** The prompt as sent, in estimated tokens (ai/tokens.ts), after the context was trimmed. */
  promptTokens?: number;
  /** The prompt with the whole context, when the budget made it smaller. */
  fullPromptTokens?: number;
  /** What the context builder left out to fit this provider's budget. */
  contextDropped?: string[];
  /** Near-misses in the answer that were corrected (`confidence "0.8"` → 0.8). */
  normalised?: string[];
}

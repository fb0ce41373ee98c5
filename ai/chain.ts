// The analysis chain: each configured provider in order, each under its own timeout, circuit
// breaker and daily budget; every answer validated against the incident; the offline analyzer
// when no model gives a usable answer. Each provider gets the context trimmed to its own prompt
// budget (Ollama's window, a cost bound for the cloud APIs), least useful context first, and the
// attempt records what was left out. A model the start-up check found unusable is not asked. It
// never throws for provider problems, and records every attempt so the card and the logs can say
// what happened.
import { randomBytes } from "node:crypto";
import { AnalysisSchema, validateModelOutput, type Analysis } from "../domain/analysis.js";
import { budgetDay, type BudgetStore } from "../kv/llm-budget.js";
import {
  CircuitBreaker,
  DEFAULT_BREAKER_OPTIONS,
  type BreakerOptions,
  type BreakerState,
} from "./circuit-breaker.js";
import type { ChainOverrides, ChainSettingsSource } from "../kv/chain-settings.js";
import { type AnalysisContext, type Playbook } from "../domain/analysis-context.js";
import { analyzeOffline } from "./offline-analyzer.js";
import { costUsd } from "./pricing.js";
import { buildPrompt, type AnalysisPrompt, type PromptOptions } from "./prompt.js";
import {
  errorMessage,
  ProviderError,
  type LlmProvider,
  type ModelCheck,
  type ProviderResult,
} from "./provider.js";
import { fitContext, type FittedContext } from "./context.js";
import { ModelChecks } from "./model-check.js";
import { estimatePromptTokens } from "./tokens.js";
import type { Attempt, AttemptOutcome, ProviderName, TokenUsage } from "../domain/llm.js";
import { createProviders, type LlmSettings, type ProviderSlot } from "./providers/index.js";
import { scopeFromContext, type IncidentScope } from "../domain/scope.js";
import { withDeadline } from "../domain/deadline.js";

export interface ChainResult {
  analysis: Analysis;
  attempts: Attempt[];
  /** Trouble that did not stop the analysis (e.g. the budget store was unreachable). */
  warnings: string[];
  /** The prompt with the whole context, in estimated tokens (each attempt says what it sent). */
  fullPromptTokens?: number;
}

export interface DailyBudget {
  tokens?: number;
  costUsd?: number;
}

export interface ChainOptions {
  /** Per provider; defaults: Ollama 60 s (the OllamaSlowInference alert's threshold), Gemini and Claude 30 s. */
  timeoutsMs?: Partial<Record<ProviderName, number>>;
  /** A call that first loads the model (Ollama's cold start); default 180 s. */
  firstLoadTimeoutMs?: number;
  /** Prompt budget (estimated tokens) of providers that do not set their own; see DEFAULT_PROMPT_TOKENS. */
  promptTokens?: Partial<Record<ProviderName, number>>;
  breaker?: Partial<BreakerOptions>;
  /** Cool-off after a 429 that names no Retry-After. */
  rateLimitCoolOffMs?: number;
  /** A Retry-After longer than this is cut short; the breaker's half-open trial covers the rest. */
  maxRateLimitCoolOffMs?: number;
  budgets?: Partial<Record<ProviderName, DailyBudget>>;
  prompt?: PromptOptions;
  now?: () => number;
}

export interface ChainDeps {
  /** Without a store, budgets are not enforced. */
  budgetStore?: BudgetStore | undefined;
  /** Run-time overrides (SWITCH_MODEL, FALLBACK_AI), read before every analysis. */
  settings?: ChainSettingsSource | undefined;
  /** The start-up checks of the models, shared with `/status`; the chain makes its own otherwise. */
  checks?: ModelChecks | undefined;
  /** Told once when an answer shows a model unusable (404, no structured output) mid-incident. */
  onUnusable?: ((provider: ProviderName, check: ModelCheck) => void) | undefined;
}

/**
 * The prompt budget of the cloud providers, in estimated tokens: the whole context of a typical
 * incident is 3–7k tokens; past this bound the least useful context goes, which caps the cost of
 * one analysis (Ollama's budget is its window less the answer's room, ai/providers/ollama.ts).
 */
export const DEFAULT_PROMPT_TOKENS: Readonly<Record<ProviderName, number>> = Object.freeze({
  ollama: 6656,
  gemini: 8000,
  claude: 8000,
});

export const DEFAULT_FIRST_LOAD_TIMEOUT_MS = 180_000;
/** The longest an analysis waits for a model check it triggers itself (start-up normally made it). */
const CHECK_WAIT_MS = 2_000;

export const DEFAULT_TIMEOUTS_MS: Readonly<Record<ProviderName, number>> = Object.freeze({
  ollama: 60_000,
  gemini: 30_000,
  claude: 30_000,
});

export const DEFAULT_BUDGETS: Readonly<Partial<Record<ProviderName, DailyBudget>>> = Object.freeze({
  gemini: { tokens: 2_000_000, costUsd: 2 },
  claude: { tokens: 1_000_000, costUsd: 5 },
});

/** Per provider with a budget: the share of today's budget left, the smaller of tokens and cost. */
export async function budgetRemaining(
  store: BudgetStore,
  budgets: Partial<Record<ProviderName, DailyBudget>> = {},
  day: string = budgetDay(Date.now()),
): Promise<Partial<Record<ProviderName, number>>> {
  const result: Partial<Record<ProviderName, number>> = {};
  for (const [provider, fallback] of Object.entries(DEFAULT_BUDGETS) as [ProviderName, DailyBudget][]) {
    const budget = budgets[provider] ?? fallback;
    const used = await store.get(provider, day);
    const ratios = [
      budget.tokens === undefined ? 1 : 1 - used.tokens / budget.tokens,
      budget.costUsd === undefined ? 1 : 1 - used.cost / budget.costUsd,
    ];
    result[provider] = Math.max(0, Math.min(...ratios));
  }
  return result;
}

export interface AnalyzeOptions {
  signal?: AbortSignal;
  /** Defaults to the context's playbooks; used by the offline analyzer. */
  playbooks?: readonly Playbook[];
}

type Call =
  | { kind: "ok"; value: ProviderResult }
  | { kind: "error"; error: unknown }
  | { kind: "timeout" }
  | { kind: "cancelled" };

export class AnalysisChain {
  private readonly breakers = new Map<ProviderName, CircuitBreaker>();
  /** Providers for overridden models, built once per model. */
  private readonly overridden = new Map<string, LlmProvider>();
  private readonly now: () => number;
  readonly checks: ModelChecks;

  constructor(
    private readonly slots: readonly ProviderSlot[],
    private readonly deps: ChainDeps = {},
    private readonly options: ChainOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.checks = deps.checks ?? new ModelChecks(slots);
  }

  /** Checks every configured model once (start-up); the results are kept and used by every analysis. */
  checkModels(): Promise<{ provider: ProviderName; check: ModelCheck }[]> {
    return this.checks.all();
  }

  breakerState(provider: ProviderName): BreakerState {
    return this.breaker(provider).state();
  }

  async analyze(context: AnalysisContext, options: AnalyzeOptions = {}): Promise<ChainResult> {
    const attempts: Attempt[] = [];
    const warnings: string[] = [];
    let fullPromptTokens: number | undefined;
    try {
      const scope = scopeFromContext(context);
      const nonce = this.options.prompt?.nonce ?? randomBytes(8).toString("hex");
      const fitted = new Map<number, FittedContext<AnalysisPrompt>>();
      const fit = (budget: number): FittedContext<AnalysisPrompt> => {
        // the whole context, built once, serves every budget it fits
        const whole = fitted.get(Number.POSITIVE_INFINITY);
        if (whole !== undefined && whole.tokens <= budget) return whole;
        let found = fitted.get(budget);
        if (found === undefined) {
          found = fitContext(context, budget, (c) => {
            const prompt = buildPrompt(c, scope, { ...this.options.prompt, nonce });
            return { value: prompt, tokens: estimatePromptTokens(prompt) };
          });
          fitted.set(budget, found);
        }
        return found;
      };
      fullPromptTokens = fit(Number.POSITIVE_INFINITY).tokens;
      const overrides = await this.overrides(warnings);
      for (const configured of this.slots) {
        if (options.signal?.aborted === true) break;
        const skip = overrides.skipped.find((s) => s.provider === configured.name);
        if (skip !== undefined) {
          attempts.push({
            provider: configured.name,
            outcome: "skipped",
            ms: 0,
            error: `FALLBACK_AI: skipped until ${skip.expiresAt}`,
          });
          continue;
        }
        const slot = this.withOverrides(configured, overrides);
        const { attempt, analysis } = await this.attempt(slot, fit, scope, warnings, options.signal);
        attempts.push(attempt);
        if (analysis !== undefined) return { analysis, attempts, warnings, ...tokens(fullPromptTokens) };
      }
    } catch (error) {
      // A defect in building the prompt must not cost the incident its analysis.
      warnings.push(`analysis chain failed: ${errorMessage(error)}`);
    }
    return {
      analysis: analyzeOffline(
        context,
        options.playbooks ?? context.playbooks,
        this.options.prompt?.language,
      ),
      attempts,
      warnings,
      ...tokens(fullPromptTokens),
    };
  }

  private async overrides(warnings: string[]): Promise<ChainOverrides> {
    const settings = this.deps.settings;
    if (settings === undefined) return { skipped: [] };
    try {
      return await settings.get();
    } catch (error) {
      // Unreadable overrides: the configuration rules, and the analysis goes on.
      warnings.push(`chain settings unreadable: ${errorMessage(error)}`);
      return { skipped: [] };
    }
  }

  /** The slot as the overrides have it: Ollama asked for another model while SWITCH_MODEL lasts. */
  private withOverrides(slot: ProviderSlot, overrides: ChainOverrides): ProviderSlot {
    const model = overrides.ollamaModel?.model;
    if (slot.name !== "ollama" || model === undefined || slot.provider === undefined) return slot;
    if (slot.provider.model === model || slot.withModel === undefined) return slot;
    let provider = this.overridden.get(model);
    if (provider === undefined) {
      provider = slot.withModel(model);
      this.overridden.set(model, provider);
    }
    return { ...slot, provider };
  }

  /** The check of the provider's configured model, waited for briefly when start-up did not make it. */
  private async modelCheck(slot: ProviderSlot, provider: LlmProvider): Promise<ModelCheck | undefined> {
    const configured = this.slots.find((s) => s.name === slot.name)?.provider;
    if (configured?.model !== provider.model) {
      // SWITCH_MODEL's model: only a failing answer tells
      return this.checks.known(slot.name, provider.model);
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), CHECK_WAIT_MS);
    });
    try {
      return await Promise.race([this.checks.of(slot.name), waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async attempt(
    slot: ProviderSlot,
    fit: (budget: number) => FittedContext<AnalysisPrompt>,
    scope: IncidentScope,
    warnings: string[],
    parent: AbortSignal | undefined,
  ): Promise<{ attempt: Attempt; analysis?: Analysis }> {
    const started = performance.now();
    let sent: Partial<Attempt> = {};
    const record = (outcome: AttemptOutcome, extra: Partial<Attempt> = {}): { attempt: Attempt } => ({
      attempt: {
        provider: slot.name,
        outcome,
        ms: Math.round(performance.now() - started),
        ...sent,
        ...extra,
      },
    });

    const provider = slot.provider;
    if (provider === undefined) return record("not_configured", { error: slot.missing ?? "not configured" });
    const check = await this.modelCheck(slot, provider);
    if (check?.kind === "unusable") return record("unusable", { model: check.model, error: check.reason });

    const budget =
      provider.maxPromptTokens?.() ??
      this.options.promptTokens?.[slot.name] ??
      DEFAULT_PROMPT_TOKENS[slot.name];
    const fitted = fit(budget);
    const prompt = fitted.measured;
    sent = {
      promptTokens: fitted.tokens,
      ...(fitted.dropped.length === 0
        ? {}
        : { fullPromptTokens: fit(Number.POSITIVE_INFINITY).tokens, contextDropped: fitted.dropped }),
    };
    if (!fitted.fits) {
      return record("prompt_too_long", {
        model: provider.model,
        error: `~${fitted.tokens} tokens even with the context trimmed; the budget is ${budget}`,
      });
    }

    const breaker = this.breaker(slot.name);
    const gate = breaker.tryAcquire();
    if (!gate.allowed) return record("circuit_open", { error: gate.reason, retryAfterMs: gate.retryInMs });

    const day = budgetDay(this.now());
    const overBudget = await this.overBudget(slot.name, day, warnings);
    if (overBudget !== undefined) {
      breaker.release();
      return record("budget_exhausted", { error: overBudget });
    }

    const cold = provider.coldStart?.(prompt) === true;
    const timeoutMs = cold
      ? (this.options.firstLoadTimeoutMs ?? DEFAULT_FIRST_LOAD_TIMEOUT_MS)
      : (this.options.timeoutsMs?.[slot.name] ?? DEFAULT_TIMEOUTS_MS[slot.name]);
    const call = await callWithin((signal) => provider.analyze(prompt, signal), timeoutMs, parent);
    switch (call.kind) {
      case "timeout":
        breaker.fail();
        return record("timeout", {
          model: provider.model,
          error: `no answer within ${timeoutMs} ms${cold ? " (first load of the model)" : ""}`,
        });
      case "cancelled":
        breaker.release();
        return record("cancelled", { model: provider.model, error: "the caller aborted the analysis" });
      case "error": {
        // an answer that was cut or refused was still billed
        const billed = call.error instanceof ProviderError ? call.error.details.usage : undefined;
        if (billed === undefined) return this.failed(slot.name, provider.model, call.error, breaker, record);
        const usage = cleanUsage(billed);
        await this.spend(slot.name, day, usage, costUsd(slot.name, provider.model, usage), warnings);
        return this.failed(slot.name, provider.model, call.error, breaker, (outcome, extra = {}) =>
          record(outcome, { ...extra, tokens: usage }),
        );
      }
      case "ok":
        break;
    }

    const result = call.value;
    const usage = cleanUsage(result.usage);
    const model = cleanModel(result.model, provider.model);
    const cost = costUsd(slot.name, model, usage);
    await this.spend(slot.name, day, usage, cost, warnings);

    const verdict = validateModelOutput(result.output, scope);
    if (!verdict.ok) {
      breaker.fail();
      return record(verdict.kind, {
        model,
        tokens: usage,
        error: verdict.problems.join("; ").slice(0, 1000),
      });
    }
    const analysis = AnalysisSchema.safeParse({
      ...verdict.output,
      provider: slot.name,
      model,
      tokens: usage,
      cost_usd: cost,
      engine: "llm",
    });
    if (!analysis.success) {
      breaker.fail();
      return record("invalid_output", { model, tokens: usage, error: analysis.error.message.slice(0, 1000) });
    }
    breaker.succeed();
    const normalised = verdict.normalised.length === 0 ? {} : { normalised: verdict.normalised };
    return { ...record("ok", { model, tokens: usage, ...normalised }), analysis: analysis.data };
  }

  private failed(
    provider: ProviderName,
    model: string,
    error: unknown,
    breaker: CircuitBreaker,
    record: (outcome: AttemptOutcome, extra?: Partial<Attempt>) => { attempt: Attempt },
  ): { attempt: Attempt } {
    const failure = error instanceof ProviderError ? error.failure : "http_error";
    const status = error instanceof ProviderError ? error.status : undefined;
    const base = { model, error: errorMessage(error), ...(status === undefined ? {} : { status }) };
    switch (failure) {
      case "rate_limited":
      case "overloaded": {
        // a busy server (503, 529) is paused like a rate limit: asking again at once only adds load
        const asked = error instanceof ProviderError ? error.retryAfterMs : undefined;
        const coolOff = Math.min(
          asked ?? this.options.rateLimitCoolOffMs ?? 60_000,
          this.options.maxRateLimitCoolOffMs ?? 15 * 60_000,
        );
        breaker.pause(
          coolOff,
          failure === "rate_limited" ? "rate-limited (HTTP 429)" : `overloaded (HTTP ${status})`,
        );
        return record(failure, { ...base, retryAfterMs: coolOff });
      }
      case "unusable": {
        // found by an answer rather than at start-up: remembered, and said once
        breaker.release();
        const check: ModelCheck = { kind: "unusable", model, reason: errorMessage(error) };
        this.checks.learn(provider, check);
        this.deps.onUnusable?.(provider, check);
        return record("unusable", base);
      }
      case "refused":
        // about this incident's content, not the provider's health
        breaker.release();
        return record("refused", base);
      case "truncated":
        breaker.fail();
        return record("truncated", base);
      case "invalid_output":
        breaker.fail();
        return record("invalid_output", base);
      case "http_error":
      case "unreachable":
        breaker.fail();
        return record("http_error", base);
    }
  }

  private breaker(provider: ProviderName): CircuitBreaker {
    let breaker = this.breakers.get(provider);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({ ...DEFAULT_BREAKER_OPTIONS, ...this.options.breaker }, this.now);
      this.breakers.set(provider, breaker);
    }
    return breaker;
  }

  private budget(provider: ProviderName): DailyBudget | undefined {
    return this.options.budgets?.[provider] ?? DEFAULT_BUDGETS[provider];
  }

  private async overBudget(
    provider: ProviderName,
    day: string,
    warnings: string[],
  ): Promise<string | undefined> {
    const budget = this.budget(provider);
    const store = this.deps.budgetStore;
    if (budget === undefined || store === undefined) return undefined;
    try {
      const used = await store.get(provider, day);
      if (budget.tokens !== undefined && used.tokens >= budget.tokens) {
        return `daily token budget used: ${used.tokens} of ${budget.tokens}`;
      }
      if (budget.costUsd !== undefined && used.cost >= budget.costUsd) {
        return `daily cost budget used: $${used.cost.toFixed(4)} of $${budget.costUsd}`;
      }
    } catch (error) {
      // An unreadable budget does not stop the analysis; the incident matters more than the cap.
      warnings.push(`budget check for ${provider} failed: ${errorMessage(error)}`);
    }
    return undefined;
  }

  private async spend(
    provider: ProviderName,
    day: string,
    usage: TokenUsage,
    cost: number,
    warnings: string[],
  ): Promise<void> {
    const store = this.deps.budgetStore;
    if (store === undefined) return;
    try {
      await store.add(provider, day, usage.input + usage.output, cost);
    } catch (error) {
      warnings.push(`budget update for ${provider} failed: ${errorMessage(error)}`);
    }
  }
}

/** The chain for `config.llm`: providers in `LLM_CHAIN` order, unconfigured ones reported. */
export function createAnalysisChain(
  settings: LlmSettings,
  deps: ChainDeps = {},
  options: ChainOptions = {},
): AnalysisChain {
  return new AnalysisChain(createProviders(settings), deps, options);
}

/**
 * Runs one provider call under a deadline. The provider gets an AbortSignal; if it ignores it,
 * the call is abandoned anyway when the deadline passes.
 */
async function callWithin(
  run: (signal: AbortSignal) => Promise<ProviderResult>,
  timeoutMs: number,
  parent: AbortSignal | undefined,
): Promise<Call> {
  const cancelled = (): boolean => parent?.aborted === true;
  if (cancelled()) return { kind: "cancelled" };
  const timedOut = new Error(`no answer within ${timeoutMs} ms`);
  try {
    return { kind: "ok", value: await withDeadline(timeoutMs, run, () => timedOut, { signal: parent }) };
  } catch (error) {
    if (error === timedOut) return { kind: "timeout" };
    if (cancelled()) return { kind: "cancelled" };
    return { kind: "error", error };
  }
}

function tokens(full: number | undefined): { fullPromptTokens?: number } {
  return full === undefined ? {} : { fullPromptTokens: full };
}

function cleanUsage(usage: TokenUsage): TokenUsage {
  const count = (value: number): number => (Number.isFinite(value) && value > 0 ? Math.round(value) : 0);
  return { input: count(usage.input), output: count(usage.output) };
}

function cleanModel(reported: string, configured: string): string {
  const model = reported.replace(/[^\w.:/@-]/g, "").slice(0, 128);
  return model === "" ? configured : model;
}

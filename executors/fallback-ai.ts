// FALLBACK_AI: the chain passes over a failing provider (rate-limited, over budget) and asks the
// next one, for a while (the action list, domain/actions.ts). The override sits in Redis, shared by every worker,
// and expires on its own; the provider is named by the analysis, or is the chain's current first.
import { z } from "zod";
import { DEFAULT_OVERRIDE_TTL_SECONDS, type ChainSettingsStore } from "../kv/chain-settings.js";
import { PROVIDER_NAMES, type ProviderName } from "../domain/llm.js";
import {
  type ExecutionResult,
  type Executor,
  type GuardVerdict,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";

export interface FallbackAiParams {
  /** The failing provider; the chain's first active one when omitted. */
  provider?: ProviderName;
}

export interface FallbackAiDeps {
  settings: ChainSettingsStore;
  /** The providers of the chain that are configured, in order. */
  chain: readonly ProviderName[];
  /** How long the provider is skipped; one hour by default. */
  ttlSeconds?: number;
}

const params = z.strictObject({ provider: z.enum(PROVIDER_NAMES).exactOptional() });

const before = z.object({ provider: z.enum(PROVIDER_NAMES), active: z.array(z.enum(PROVIDER_NAMES)) });

/** The chain's providers not skipped right now, in order. */
async function activeProviders(deps: FallbackAiDeps): Promise<ProviderName[]> {
  const skipped = new Set((await deps.settings.get()).skipped.map((s) => s.provider));
  return deps.chain.filter((provider) => !skipped.has(provider));
}

/** Which provider to skip, or why none may be. */
async function choose(
  deps: FallbackAiDeps,
  input: FallbackAiParams,
): Promise<{ provider: ProviderName; active: ProviderName[] } | { refusal: GuardVerdict & { ok: false } }> {
  const active = await activeProviders(deps);
  const provider = input.provider ?? active[0];
  if (provider === undefined) {
    return { refusal: refusal("last_provider", { code: "provider_none_active" }) };
  }
  if (!deps.chain.includes(provider)) {
    return {
      refusal: refusal("configured_target", {
        code: "provider_unlisted",
        provider,
        chain: deps.chain.join(", "),
      }),
    };
  }
  if (!active.includes(provider)) {
    return { refusal: refusal("already_active", { code: "provider_already_skipped", provider }) };
  }
  if (active.length < 2) {
    return {
      refusal: refusal("last_provider", { code: "provider_last", provider }),
    };
  }
  return { provider, active };
}

function ttl(deps: FallbackAiDeps): number {
  return deps.ttlSeconds ?? DEFAULT_OVERRIDE_TTL_SECONDS;
}

function plan(provider: string, ttlSeconds: number): PlannedCall[] {
  return [{ api: "chain", method: "ChainSettingsStore.skipProvider", args: { provider, ttlSeconds } }];
}

export const fallbackAi: Executor<FallbackAiParams, FallbackAiDeps> = {
  name: "FALLBACK_AI",
  description: "The analysis chain skips a failing provider and asks the next one, for an hour.",
  params,

  async guard(deps, input) {
    const chosen = await choose(deps, input);
    return "refusal" in chosen ? chosen.refusal : { ok: true };
  },

  plan: (input) =>
    plan(input.provider ?? "(the chain's first active provider)", DEFAULT_OVERRIDE_TTL_SECONDS),

  async execute(deps, input, context): Promise<ExecutionResult> {
    const chosen = await choose(deps, input);
    if ("refusal" in chosen) throw ExecutionFailure.rechecked("FALLBACK_AI", chosen.refusal);
    const calls = plan(chosen.provider, ttl(deps));
    const recorded = { provider: chosen.provider, active: chosen.active };
    if (context.dryRun) return { changed: false, calls, before: recorded };
    context.signal?.throwIfAborted();
    await deps.settings.skipProvider(chosen.provider, ttl(deps));
    return { changed: true, calls, before: recorded };
  },

  async verify(deps, _input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    const skip = (await deps.settings.get()).skipped.find((s) => s.provider === previous.provider);
    if (skip === undefined)
      return verdict("failed", { code: "provider_not_skipped", provider: previous.provider });
    const next = (await activeProviders(deps))[0];
    return verdict("recovered", {
      code: "provider_skipped",
      provider: previous.provider,
      until: skip.expiresAt,
      next: next ?? "",
    });
  },
};

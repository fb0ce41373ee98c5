// SWITCH_MODEL: the chain asks Ollama for the configured fallback model (OLLAMA_FALLBACK_MODEL,
// smaller and faster) instead of its usual one, for a while (the action list, domain/actions.ts). The override sits
// in Redis, shared by every worker, and expires on its own.
import { z } from "zod";
import { DEFAULT_OVERRIDE_TTL_SECONDS, type ChainSettingsStore } from "../kv/chain-settings.js";
import { NAME_PATTERNS } from "../domain/names.js";
import { type ProviderName } from "../domain/llm.js";
import {
  type ExecutionResult,
  type Executor,
  type PlannedCall,
  type VerifyResult,
  ExecutionFailure,
  refusal,
  verdict,
} from "./executor.js";

export interface SwitchModelParams {
  /** The model the alert is about; when given, it must be the one Ollama is asked for now. */
  model?: string;
}

export interface SwitchModelDeps {
  settings: ChainSettingsStore;
  /** `config.llm.ollama`: the usual model and the fallback. */
  ollama: { model?: string | undefined; fallbackModel?: string | undefined };
  /** `config.llm.chain`. */
  chain: readonly ProviderName[];
  /** How long the override lasts; one hour by default. */
  ttlSeconds?: number;
}

const params = z.strictObject({
  model: z.string().regex(NAME_PATTERNS.Model, { error: "not a model name" }).exactOptional(),
});

const before = z.object({ model: z.string().nullable(), fallbackModel: z.string() });

async function activeModel(deps: SwitchModelDeps): Promise<string | undefined> {
  return (await deps.settings.get()).ollamaModel?.model ?? deps.ollama.model;
}

function ttl(deps: SwitchModelDeps): number {
  return deps.ttlSeconds ?? DEFAULT_OVERRIDE_TTL_SECONDS;
}

function plan(input: SwitchModelParams, deps?: SwitchModelDeps): PlannedCall[] {
  return [
    {
      api: "chain",
      method: "ChainSettingsStore.setOllamaModel",
      args: {
        ...(input.model === undefined ? {} : { from: input.model }),
        model: deps?.ollama.fallbackModel ?? "OLLAMA_FALLBACK_MODEL",
        ttlSeconds: deps === undefined ? DEFAULT_OVERRIDE_TTL_SECONDS : ttl(deps),
      },
    },
  ];
}

export const switchModel: Executor<SwitchModelParams, SwitchModelDeps> = {
  name: "SWITCH_MODEL",
  description: "Asks Ollama for the configured fallback model instead of the usual one, for an hour.",
  params,

  async guard(deps, input) {
    const fallback = deps.ollama.fallbackModel;
    if (fallback === undefined) {
      return refusal("fallback_model", { code: "model_no_fallback" });
    }
    if (!deps.chain.includes("ollama") || deps.ollama.model === undefined) {
      return refusal("fallback_model", { code: "model_no_ollama" });
    }
    const active = await activeModel(deps);
    if (active === fallback) {
      return refusal("already_active", { code: "model_already_fallback", model: fallback });
    }
    if (input.model !== undefined && input.model !== active) {
      return refusal("model_in_use", { code: "model_other", active: active ?? "", model: input.model });
    }
    return { ok: true };
  },

  plan: (input) => plan(input),

  async execute(deps, input, context): Promise<ExecutionResult> {
    const fallback = deps.ollama.fallbackModel;
    if (fallback === undefined)
      throw new ExecutionFailure({ code: "no_fallback_model", action: "SWITCH_MODEL" });
    const calls = plan(input, deps);
    const recorded = { model: (await activeModel(deps)) ?? null, fallbackModel: fallback };
    if (context.dryRun) return { changed: false, calls, before: recorded };
    context.signal?.throwIfAborted();
    await deps.settings.setOllamaModel(fallback, ttl(deps));
    return { changed: true, calls, before: recorded };
  },

  async verify(deps, _input, result): Promise<VerifyResult> {
    const previous = before.parse(result.before);
    const override = (await deps.settings.get()).ollamaModel;
    if (override?.model !== previous.fallbackModel) {
      return verdict("failed", { code: "model_not_set", model: previous.fallbackModel });
    }
    return verdict("recovered", {
      code: "model_switched",
      model: override.model,
      previous: previous.model ?? "",
      until: override.expiresAt,
    });
  },
};

// The start-up check of each configured model: does it exist, can it answer with structured
// output, how large is its window. One token-free call per provider (Ollama's /api/show, Gemini's
// models.get, Anthropic's Models API), made once and shared by the chain (which then skips an
// unusable model without calling it) and `/status` (which names it). A check that could not be
// made (unreachable) concludes nothing and is tried again after a minute; an unusable model is
// looked at again after ten (someone may have pulled it meanwhile), never per incident.
import type { Logger } from "pino";
import type { ProviderName } from "../domain/llm.js";
import { errorMessage, type ModelCheck } from "./provider.js";
import type { ProviderSlot } from "./providers/index.js";

const RETRY_UNKNOWN_MS = 60_000;
const RECHECK_UNUSABLE_MS = 10 * 60_000;
const CHECK_TIMEOUT_MS = 10_000;

export class ModelChecks {
  private readonly results = new Map<string, { at: number; check: Promise<ModelCheck> }>();

  constructor(
    private readonly slots: readonly ProviderSlot[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The check of `provider`'s configured model: made on first ask, then remembered. */
  async of(provider: ProviderName): Promise<ModelCheck | undefined> {
    const slot = this.slots.find((s) => s.name === provider);
    const llm = slot?.provider;
    if (llm?.check === undefined) return undefined;
    const key = `${provider}:${llm.model}`;
    const known = this.results.get(key);
    if (known !== undefined) {
      const settled = await known.check;
      if (!this.stale(settled, known.at)) return settled;
    }
    const check = llm.check(AbortSignal.timeout(CHECK_TIMEOUT_MS)).catch((error: unknown): ModelCheck => ({
      kind: "unknown",
      model: llm.model,
      reason: errorMessage(error),
    }));
    this.results.set(key, { at: this.now(), check });
    return check;
  }

  /** Every configured provider's check, in chain order. */
  async all(): Promise<{ provider: ProviderName; check: ModelCheck }[]> {
    const checks = await Promise.all(
      this.slots.map(async (slot) => ({ provider: slot.name, check: await this.of(slot.name) })),
    );
    return checks.filter((c): c is { provider: ProviderName; check: ModelCheck } => c.check !== undefined);
  }

  /** What an answer showed about a model: a 404 or a 400 for structured output, found mid-incident. */
  learn(provider: ProviderName, check: ModelCheck): void {
    this.results.set(`${provider}:${check.model}`, { at: this.now(), check: Promise.resolve(check) });
  }

  /** The known result of `provider`'s model, without asking; forgotten once stale. */
  async known(provider: ProviderName, model: string): Promise<ModelCheck | undefined> {
    const known = this.results.get(`${provider}:${model}`);
    if (known === undefined) return undefined;
    const settled = await known.check;
    return this.stale(settled, known.at) ? undefined : settled;
  }

  private stale(check: ModelCheck, at: number): boolean {
    const age = this.now() - at;
    return (
      (check.kind === "unknown" && age >= RETRY_UNKNOWN_MS) ||
      (check.kind === "unusable" && age >= RECHECK_UNUSABLE_MS)
    );
  }
}

/** Says once, at start-up, what each configured model's check found; never holds start-up up. */
export async function logModelChecks(checks: ModelChecks, logger: Logger): Promise<void> {
  for (const { provider, check } of await checks.all()) {
    switch (check.kind) {
      case "ok":
        logger.info({ provider, model: check.model, detail: check.detail }, "llm model checked");
        break;
      case "unusable":
        logger.error(
          { provider, model: check.model, reason: check.reason },
          "llm model unusable: the chain will skip it until the configuration is fixed",
        );
        break;
      case "unknown":
        logger.warn({ provider, model: check.model, reason: check.reason }, "llm model check failed");
        break;
    }
  }
}

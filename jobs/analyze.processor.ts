// Analyze queue: run the analysis of one incident, then bring its card up to date.
import { UnrecoverableError, type Job } from "bullmq";
import type { Metrics } from "../gateways/metrics.js";
import { analyzeIncident, type AnalyzeDeps, type AnalyzeResult } from "../handlers/analyze-incident.js";
import { enqueueCard, AnalyzeJobSchema, type AnalyzeJob, type Queues } from "./queues.js";

export interface AnalyzeProcessorDeps {
  analyze: AnalyzeDeps;
  queues: Pick<Queues, "notify">;
  metrics: Metrics;
}

export function analyzeProcessor(deps: AnalyzeProcessorDeps) {
  return async (
    job: Job<AnalyzeJob>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<AnalyzeResult["outcome"]> => {
    const parsed = AnalyzeJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed analyze job: ${parsed.error.message}`);
    const notify = () => enqueueCard(deps.queues.notify, parsed.data.incidentId);
    // No card edit for "analysing": Telegram allows a group 20 messages a minute, and the card
    // already says the analysis is pending.
    const result = await analyzeIncident(deps.analyze, {
      ...parsed.data,
      ...(signal === undefined ? {} : { signal }),
    });
    if (result.outcome === "analyzed") {
      const { analysis } = result.stored;
      deps.metrics.analyses.inc({ engine: analysis.engine, provider: analysis.provider });
      for (const attempt of result.stored.attempts)
        deps.metrics.llmRequests.inc({ provider: attempt.provider, outcome: attempt.outcome });
      deps.metrics.llmTokens.inc(
        { provider: analysis.provider },
        analysis.tokens.input + analysis.tokens.output,
      );
      deps.metrics.llmCost.inc({ provider: analysis.provider }, analysis.cost_usd);
      await notify();
    }
    return result.outcome;
  };
}

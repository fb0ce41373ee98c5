// Analyze queue: run the analysis of one incident, then bring its card up to date.
import { UnrecoverableError, type Job } from "bullmq";
import type { Metrics } from "../gateways/metrics.js";
import { ZodError } from "zod";
import {
  analysisFailed,
  analysisFailureOf,
  analyzeIncident,
  type AnalyzeDeps,
  type AnalyzeResult,
} from "../handlers/analyze-incident.js";
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
    // a P0's analysis reaches its card ahead of the lower-severity cards queued meanwhile
    const notify = () => enqueueCard(deps.queues.notify, parsed.data.incidentId, parsed.data.severity);
    // No card edit for "analysing": Telegram allows a group 20 messages a minute, and the card
    // already says the analysis is pending.
    const input = {
      ...parsed.data,
      jobKey: `analyze:${job.id ?? ""}`,
      ...(signal === undefined ? {} : { signal }),
    };
    let result: AnalyzeResult;
    try {
      result = await analyzeIncident(deps.analyze, input);
    } catch (error) {
      // PostgreSQL away and the like: retry with backoff. A last attempt, or a failure retrying
      // cannot fix (the incident's data does not fit a schema), falls back to the offline
      // analyzer; if even that fails the incident says "analysis failed", never "pending" forever.
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!last && !(error instanceof ZodError)) throw error;
      const reason = analysisFailureOf(error).error;
      try {
        result = await analyzeIncident(deps.analyze, { ...input, offlineBecause: reason });
      } catch (again) {
        await analysisFailed(deps.analyze, parsed.data.incidentId, analysisFailureOf(again));
        await notify();
        return "failed";
      }
    }
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

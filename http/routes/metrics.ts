import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../../gateways/metrics.js";
import type { Queues } from "../../jobs/queues.js";
import { checkBearer } from "../auth.js";
import { chatFailures } from "../../db/chats.js";
import type { Queryable } from "../../db/pool.js";

export const metricsRoutes: FastifyPluginAsync<{
  deps: {
    metrics: Metrics;
    queues: Pick<Queues, "ingest" | "notify" | "analyze">;
    /** Today's LLM budget left per provider, from the shared budget store. */
    llmBudgets?: () => Promise<Partial<Record<string, number>>>;
    /** Where the chats the bot cannot reach are recorded (db/chats.ts), read at scrape time. */
    db?: Queryable;
    /** METRICS_TOKEN: when set, a scrape must send it as a bearer token. */
    metricsToken?: string | undefined;
  };
}> = async (app, { deps }) => {
  app.get("/metrics", async (request, reply) => {
    const token = deps.metricsToken;
    if (token !== undefined) checkBearer(request.headers.authorization, token);
    const { metrics, queues } = deps;
    // Queue depth is read at scrape time; a Redis outage must not break the scrape.
    for (const queue of [queues.ingest, queues.notify, queues.analyze]) {
      try {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed");
        for (const [state, count] of Object.entries(counts))
          metrics.queueDepth.set({ queue: queue.name, state }, count);
      } catch (error) {
        request.log.warn({ err: error, queue: queue.name }, "queue depth unavailable");
      }
    }
    if (deps.llmBudgets !== undefined) {
      try {
        for (const [provider, ratio] of Object.entries(await deps.llmBudgets()))
          if (ratio !== undefined) metrics.llmBudgetRemaining.set({ provider }, ratio);
      } catch (error) {
        request.log.warn({ err: error }, "llm budgets unavailable");
      }
    }
    if (deps.db !== undefined) {
      try {
        const failures = await chatFailures(deps.db);
        metrics.telegramChatUnreachable.reset();
        for (const failure of failures)
          metrics.telegramChatUnreachable.set({ chat: failure.chatId, reason: failure.reason }, 1);
      } catch (error) {
        request.log.warn({ err: error }, "unreachable Telegram chats unavailable");
      }
    }
    return reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};

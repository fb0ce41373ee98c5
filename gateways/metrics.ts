// The bot's own Prometheus metrics. One registry per runtime, so tests never share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "chatops_" });
  return {
    registry,
    alertsReceived: new Counter({
      name: "chatops_alerts_received_total",
      help: "Alerts accepted into the ingest queue, by source.",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
    webhooksRejected: new Counter({
      name: "chatops_webhooks_rejected_total",
      help: "Webhook requests refused, by route and reason.",
      labelNames: ["source", "reason"] as const,
      registers: [registry],
    }),
    alertsProcessed: new Counter({
      name: "chatops_alerts_processed_total",
      help: "Alerts processed by the ingest worker, by source and outcome.",
      labelNames: ["source", "outcome"] as const,
      registers: [registry],
    }),
    alertsDeduplicated: new Counter({
      name: "chatops_alerts_deduplicated_total",
      help: "Alerts folded into an incident seen within the dedup window.",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
    incidentsOpened: new Counter({
      name: "chatops_incidents_opened_total",
      help: "Incidents opened, by source and severity.",
      labelNames: ["source", "severity"] as const,
      registers: [registry],
    }),
    cardsSent: new Counter({
      name: "chatops_cards_total",
      help: "Incident card deliveries to the chat, by kind (posted, edited, unchanged).",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    cardLatency: new Histogram({
      name: "chatops_card_latency_seconds",
      help: "From the incident change (alert received) to the card posted or edited in the chat; repeats, shown 2 s later on purpose, are left out.",
      labelNames: ["kind"] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    analyses: new Counter({
      name: "chatops_analyses_total",
      help: "Incident analyses stored, by engine (llm, offline) and provider.",
      labelNames: ["engine", "provider"] as const,
      registers: [registry],
    }),
    llmTokens: new Counter({
      name: "chatops_llm_tokens_total",
      help: "Tokens used by analyses, by provider.",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    llmCost: new Counter({
      name: "chatops_llm_cost_usd_total",
      help: "Cost of analyses in US dollars, by provider.",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    // The names the registry's generated LLM rules alert on (registry/services.yaml).
    llmRequests: new Counter({
      name: "chatops_llm_requests_total",
      help: "Provider attempts made by analyses, by provider and outcome (ok, timeout, rate_limited, …).",
      labelNames: ["provider", "outcome"] as const,
      registers: [registry],
    }),
    llmBudgetRemaining: new Gauge({
      name: "chatops_llm_budget_remaining_ratio",
      help: "Share of today's token or cost budget left (the smaller), per provider with a budget; read at scrape time.",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    telegramDeliveryFailures: new Counter({
      name: "chatops_telegram_delivery_failures_total",
      help: "Sends a Telegram chat refused (bot removed or blocked, chat not found), by chat and reason.",
      labelNames: ["chat", "reason"] as const,
      registers: [registry],
    }),
    telegramChatUnreachable: new Gauge({
      name: "chatops_telegram_chat_unreachable",
      help: "1 for each chat the bot cannot write to now, by chat and reason; read at scrape time.",
      labelNames: ["chat", "reason"] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "chatops_queue_depth",
      help: "Jobs per queue and state, read at scrape time.",
      labelNames: ["queue", "state"] as const,
      registers: [registry],
    }),
    ingestHeld: new Gauge({
      name: "chatops_ingest_held",
      help: "1 while the saturated intake holds the ingest backlog back (every role in one process).",
      registers: [registry],
    }),
    ingestHeldSeconds: new Counter({
      name: "chatops_ingest_held_seconds_total",
      help: "Time the saturated intake held the ingest backlog back, counted when each hold ends.",
      registers: [registry],
    }),
  };
}

// Builds the fastify app (listening is the runtime's business, so tests use app.inject()).
import { randomUUID } from "node:crypto";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import type { Metrics } from "../gateways/metrics.js";
import type { Config } from "../registry/config.js";
import { BodyBudget, BodyBudgetBusy } from "./body-budget.js";
import { ApiError, API_ERRORS } from "./errors.js";
import { analyzeRoutes } from "./routes/analyze.js";
import { approvalRoutes } from "./routes/approvals.js";
import { healthRoutes, type HealthDeps } from "./routes/health.js";
import { incidentRoutes } from "./routes/incidents.js";
import { metricsRoutes } from "./routes/metrics.js";
import { playbookRoutes } from "./routes/playbooks.js";
import { telegramWebhookRoutes, type TelegramWebhookDeps } from "./routes/telegram-webhook.js";
import { webhookRoutes, type WebhookDeps } from "./routes/webhooks.js";
import { type Queryable } from "../db/pool.js";
import type { Queues } from "../jobs/queues.js";
import type { AuthBrake } from "../kv/auth-brake.js";

/** Every route but the alert-group webhooks (ALERTMANAGER_MAX_BODY_BYTES, 32 MiB by default). */
export const BODY_LIMIT = 1024 * 1024;

/** The routes whose bodies count against WEBHOOK_BODIES_IN_FLIGHT_BYTES. */
const WEBHOOKS = "/api/v1/webhooks/";

/**
 * Longest wait of a webhook for its turn before a 503 with Retry-After (its sender retries): well
 * inside the 30 s `requestTimeout`, whose 408 Alertmanager would not retry.
 */
export const BODY_WAIT_MS = 10_000;

export interface AppDeps extends Omit<WebhookDeps, "queues">, Omit<HealthDeps, "queues"> {
  config: Readonly<Config>;
  queues: Pick<Queues, "ingest" | "notify" | "analyze" | "execute">;
  db: Queryable;
  metrics: Metrics;
  logger: Logger;
  /** Failed authentications per source address (kv/auth-brake.ts); without it, no brakes. */
  authBrake?: Pick<AuthBrake, "knownClear" | "waitFor" | "failed" | "firstRefusal">;
  /** Why an action cannot run here (no executor configured), for POST /api/v1/execute. */
  cannotRun?: (action: string) => string | undefined;
  /** Today's LLM budget left per provider, for `chatops_llm_budget_remaining_ratio`. */
  llmBudgets?: () => Promise<Partial<Record<string, number>>>;
  /** Webhook mode: the route Telegram POSTs updates to (http/routes/telegram-webhook.ts). */
  telegramWebhook?: TelegramWebhookDeps;
  /** Webhook bodies in flight (default: WEBHOOK_BODIES_IN_FLIGHT_BYTES); tests watch their own. */
  bodyBudget?: BodyBudget;
}

/** Which source a rejected request counts against. */
function sourceOf(request: FastifyRequest, deps: AppDeps): string {
  const url = request.routeOptions.url ?? request.url;
  if (url.includes("/webhooks/alertmanager")) return "alertmanager";
  if (url.includes("/webhooks/sentry")) return "sentry";
  if (url.includes("/webhooks/grafana")) return "grafana";
  if (url === deps.telegramWebhook?.path) return "telegram";
  return "api";
}

function toApiError(error: FastifyError | ApiError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as FastifyError).code;
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError("body_too_large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError("unsupported_media_type");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError("empty_body");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new ApiError("invalid_json");
    default:
      break;
  }
  if (error instanceof SyntaxError && (error as FastifyError).statusCode === 400) {
    return new ApiError("invalid_json", `the body is not valid JSON: ${error.message}`);
  }
  const status = (error as FastifyError).statusCode;
  if (status === 405) return new ApiError("method_not_allowed");
  return new ApiError("internal");
}

/**
 * On close, fastify ends the connections idle at that moment, then waits for the others: one
 * still answering a request then stays open after its answer for the keep-alive timeout (72 s),
 * and SIGTERM waited for it. So once closing, every answer says `Connection: close`, and idle
 * connections are ended again until the server is closed.
 */
function endKeepAliveOnClose(app: FastifyInstance): void {
  let sweeper: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
    sweeper.unref();
  });
  // a callback hook: it runs on every answer, and an async one costs a promise each time
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (sweeper !== undefined) reply.header("connection", "close");
    done(null, payload);
  });
  app.addHook("onClose", async () => clearInterval(sweeper));
}

/**
 * A webhook's body is read only once it has its share of the budget (http/body-budget.ts): taken
 * after the route's authentication (preParsing), given back when the answer is sent or the sender
 * goes away.
 */
function boundBodiesInFlight(app: FastifyInstance, budget: BodyBudget): void {
  app.addHook("preParsing", (request, reply, payload, done) => {
    if (!request.url.startsWith(WEBHOOKS)) return done(null, payload);
    const length = Number(request.headers["content-length"]);
    const bytes = Number.isFinite(length) ? length : Number.POSITIVE_INFINITY;
    // the sender went away before this hook ran (say while the auth brake asked Redis): its
    // response's one 'close' has passed, so a share taken now would never be given back
    if (reply.raw.destroyed) return done(null, payload);
    // room now (the common case): no promise, no signal for a sender that might go away
    const now = budget.takeNow(bytes);
    if (now !== undefined) {
      reply.raw.once("close", now);
      return done(null, payload);
    }
    const gone = new AbortController();
    let release: (() => void) | undefined;
    reply.raw.once("close", () => {
      // granted already (the common case): no abort, which would build a DOMException for its reason
      if (release !== undefined) return release();
      gone.abort();
    });
    budget.take(bytes, gone.signal).then(
      (granted) => {
        release = granted;
        // the sender went away while it waited, or as its turn came
        if (gone.signal.aborted) granted();
        done(null, payload);
      },
      (error: unknown) => {
        done(error instanceof BodyBudgetBusy ? new ApiError("intake_busy") : (error as Error));
      },
    );
  });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Typed as fastify's logger interface so the app is a plain FastifyInstance.
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    // Rejections and failures are logged by the error handler; one line per request is noise.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Alertmanager and Sentry retry on 5xx; a slow client must not hold a socket forever.
    requestTimeout: 30_000,
    return503OnClosing: true,
    // a request id the client can quote, the same as in the log line of its failure
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    },
  });
  endKeepAliveOnClose(app);
  boundBodiesInFlight(
    app,
    deps.bodyBudget ??
      new BodyBudget({ bytes: deps.config.http.webhookBodiesInFlightBytes, waitMs: BODY_WAIT_MS }),
  );
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    // nearly every address is known clear: answered here, without a promise per request
    const brake = deps.authBrake;
    if (brake === undefined || brake.knownClear(request.ip)) return done();
    // An address that failed authentication too often waits, whatever it sends now.
    void (async () => {
      const wait = await brake.waitFor(request.ip).catch(() => 0);
      if (wait === 0) return;
      if (await brake.firstRefusal(request.ip).catch(() => false))
        request.log.warn(
          { address: request.ip, waitMs: wait },
          "authentication failures: braking this address",
        );
      reply.header("retry-after", String(Math.ceil(wait / 1000)));
      throw new ApiError("too_many_failures");
    })().then(() => done(), done);
  });

  app.setErrorHandler(async (error: FastifyError | ApiError, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.code === "internal")
      request.log.error({ err: error, requestId: request.id }, "request failed");
    else if (apiError.status >= 500)
      // Redis away: the outage itself is one warning (app/infrastructure.ts); each refused
      // delivery, which its sender retries, is a line at info
      request.log[apiError.code === "queue_unavailable" || apiError.code === "intake_busy" ? "info" : "warn"](
        { code: apiError.code, requestId: request.id, ...apiError.extra },
        "request failed",
      );
    else {
      deps.metrics.webhooksRejected.inc({ source: sourceOf(request, deps), reason: apiError.code });
      // A wrong credential is counted (metrics) and braked, and logged once per burst; a line per
      // guess would let anyone fill the log.
      const quiet = apiError.status === 401 || apiError.status === 429;
      request.log[quiet ? "debug" : "warn"](
        { code: apiError.code, url: request.url, detail: apiError.message, address: request.ip },
        "request rejected",
      );
    }
    if (apiError.status === 401) await deps.authBrake?.failed(request.ip).catch(() => undefined);
    if (apiError.code === "missing_credentials") reply.header("www-authenticate", 'Basic realm="chatops"');
    if (apiError.code === "queue_unavailable" || apiError.code === "intake_busy")
      reply.header("retry-after", "5");
    // A 5xx body names the code and the request id; what went wrong inside stays in the log.
    if (apiError.status >= 500) {
      return reply.status(apiError.status).send({
        error: { code: apiError.code, message: API_ERRORS[apiError.code].message, request_id: request.id },
      });
    }
    return reply.status(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError("not_found", `no route ${request.method} ${request.url.split("?")[0] ?? ""}`);
    return reply.status(404).send(error.toBody());
  });

  await app.register(webhookRoutes, { deps, prefix: "/api/v1/webhooks" });
  if (deps.telegramWebhook !== undefined)
    await app.register(telegramWebhookRoutes, { deps: deps.telegramWebhook });
  await app.register(incidentRoutes, { deps, prefix: "/api/v1" });
  await app.register(analyzeRoutes, { deps, prefix: "/api/v1" });
  await app.register(approvalRoutes, { deps, prefix: "/api/v1" });
  await app.register(playbookRoutes, { deps, prefix: "/api/v1" });
  await app.register(healthRoutes, { deps, prefix: "/api/v1" });
  await app.register(metricsRoutes, { deps: { ...deps, metricsToken: deps.config.http.metricsToken } });
  return app;
}

/**
 * The health routes alone, for a process without the `http` role (a worker or bot pod), so its
 * liveness and readiness probes have something to ask (HEALTH_PORT).
 */
export async function buildHealthApp(deps: HealthDeps & { logger: Logger }): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 10_000,
    return503OnClosing: true,
  });
  endKeepAliveOnClose(app);
  await app.register(healthRoutes, { deps, prefix: "/api/v1" });
  return app;
}

// Webhook receivers. A 2xx means the payload is in the ingest queue (Redis); anything that
// cannot be queued gets a 503 so the sender retries.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { randomUUID } from "node:crypto";
import type { Metrics } from "../../gateways/metrics.js";
import { AlertmanagerPayloadSchema } from "../../handlers/sources/alertmanager.js";
import {
  isActionable,
  SENTRY_RESOURCES,
  SENTRY_SCHEMAS,
  type SentryPayload,
} from "../../handlers/sources/sentry.js";
import type { IngestJob, Queues } from "../../jobs/queues.js";
import type { Config } from "../../registry/config.js";
import { basicAuthChecker, checkSentrySignature } from "../auth.js";
import { ApiError } from "../errors.js";
import { withDeadline } from "../../domain/deadline.js";
import { parseInput } from "../validate.js";

export interface WebhookDeps {
  config: Readonly<Config>;
  queues: Pick<Queues, "ingest">;
  metrics: Metrics;
  /** Longest wait for Redis to take a job before answering 503. */
  enqueueTimeoutMs?: number;
}

async function enqueue(deps: WebhookDeps, name: string, data: IngestJob): Promise<string> {
  const jobId = randomUUID();
  try {
    await withDeadline(
      deps.enqueueTimeoutMs ?? 3_000,
      () => deps.queues.ingest.add(name, data, { jobId }),
      () => new Error("enqueue timed out"),
    );
    return jobId;
  } catch (error) {
    throw new ApiError("queue_unavailable", undefined, { cause: (error as Error).message });
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export const webhookRoutes: FastifyPluginAsync<{ deps: WebhookDeps }> = async (app, { deps }) => {
  const { config, metrics } = deps;
  const checkAlertmanagerAuth = basicAuthChecker("alertmanager", config.alertmanager.webhookSecret);

  app.post("/alertmanager", {
    onRequest: async (request) => {
      checkAlertmanagerAuth(request.headers.authorization);
    },
    handler: async (request, reply) => {
      const payload = parseInput(AlertmanagerPayloadSchema, request.body);
      const jobId = await enqueue(deps, "alertmanager", {
        source: "alertmanager",
        receivedAt: new Date().toISOString(),
        payload,
      });
      metrics.alertsReceived.inc({ source: "alertmanager" }, payload.alerts.length);
      request.log.info(
        {
          job: jobId,
          source: "alertmanager",
          alerts: payload.alerts.length,
          firing: payload.alerts.filter((alert) => alert.status === "firing").length,
          receiver: payload.receiver,
        },
        "alerts accepted",
      );
      return reply.status(202).send({ status: "queued", jobId, alerts: payload.alerts.length });
    },
  });

  // Sentry signs the exact bytes it sent, so this route keeps the raw body.
  await app.register(async (sentry) => {
    sentry.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
      done(null, body);
    });
    sentry.post("/sentry", async (request, reply) => {
      const secret = config.sentry.webhookSecret;
      if (secret === undefined)
        throw new ApiError("not_configured", "SENTRY_WEBHOOK_SECRET is not set on this bot");
      const raw = request.body;
      if (!Buffer.isBuffer(raw) || raw.length === 0) throw new ApiError("empty_body");
      checkSentrySignature(header(request, "sentry-hook-signature"), raw, secret);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch (error) {
        throw new ApiError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
      }
      const resource = header(request, "sentry-hook-resource");
      if (resource === undefined) throw new ApiError("missing_resource_header");
      if (!(SENTRY_RESOURCES as readonly string[]).includes(resource)) {
        return reply.status(200).send({ status: "ignored", reason: `resource ${resource} is not handled` });
      }
      const typed = resource as SentryPayload["resource"];
      const payload = { resource: typed, body: parseInput(SENTRY_SCHEMAS[typed], body) } as SentryPayload;
      if (!isActionable(payload)) {
        return reply
          .status(200)
          .send({ status: "ignored", reason: `action ${payload.body.action} is not handled` });
      }
      const jobId = await enqueue(deps, "sentry", {
        source: "sentry",
        resource: typed,
        receivedAt: new Date().toISOString(),
        payload: payload.body,
      });
      metrics.alertsReceived.inc({ source: "sentry" });
      request.log.info(
        { job: jobId, source: "sentry", resource: typed, action: payload.body.action, alerts: 1 },
        "alerts accepted",
      );
      return reply.status(202).send({ status: "queued", jobId, alerts: 1 });
    });
  });
};

// Webhook receivers. A 2xx means the payload is in the ingest queue (Redis); anything that
// cannot be queued gets a 503 so the sender retries. Bad input is a 4xx: bodies are checked for
// depth before they are parsed (http/validate.ts).
//
// - POST /alertmanager: Alertmanager's webhook (version "4"), basic auth `alertmanager`; Grafana's
//   webhook contact point (version "1") is taken here too.
// - POST /grafana: Grafana-managed alerting's webhook contact point, basic auth `grafana`
//   (GRAFANA_WEBHOOK_SECRET, else ALERTMANAGER_WEBHOOK_SECRET).
//   Both take bodies up to ALERTMANAGER_MAX_BODY_BYTES (32 MiB by default).
// - POST /sentry: Sentry's integration platform, signed (Sentry-Hook-Signature); a delivery outside
//   the timestamp window (Sentry-Hook-Timestamp) or with a Request-ID already seen is a replay.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { randomUUID } from "node:crypto";
import type { Metrics } from "../../gateways/metrics.js";
import { z } from "zod";
import {
  AlertmanagerAlertSchema,
  AlertmanagerPayloadSchema,
  MAX_GROUP_ALERTS,
  type AlertmanagerAlert,
  type AlertmanagerPayload,
} from "../../handlers/sources/alertmanager.js";
import { acceptAlerts, acceptGroupEnvelope } from "../../handlers/sources/alertmanager-fast.js";
import {
  isActionable,
  SENTRY_RESOURCES,
  SENTRY_SCHEMAS,
  type SentryPayload,
} from "../../handlers/sources/sentry.js";
import { BATCH_DEADLINE_MS, EnqueueBatch, type BulkJob } from "../../domain/enqueue-batch.js";
import { packIngestJobs, type IngestJob, type Queues } from "../../jobs/queues.js";
import type { SentryReplayGuard } from "../../kv/sentry-replay.js";
import type { Config } from "../../registry/config.js";
import { basicAuthChecker, checkSentrySignature } from "../auth.js";
import { ApiError } from "../errors.js";
import { describeIssues, parseInput, parseJsonBody } from "../validate.js";

export interface WebhookDeps {
  config: Readonly<Config>;
  queues: Pick<Queues, "ingest">;
  metrics: Metrics;
  /** Longest wait for Redis to take a job before answering 503. */
  enqueueTimeoutMs?: number;
  /** Request-IDs of Sentry deliveries already accepted (kv/sentry-replay.ts); without it, no replay check by id. */
  sentryReplay?: Pick<SentryReplayGuard, "claim" | "release">;
  /** The clock the Sentry timestamp window is measured against (tests pass their own). */
  now?: () => number;
}

/** One job's id once it is in Redis (not an async function: its frame would hold `data` meanwhile). */
function enqueue(batch: EnqueueBatch<IngestJob>, name: string, data: IngestJob): Promise<string> {
  return enqueueAll(batch, [{ name, data, opts: { jobId: randomUUID() } }]).then(([jobId]) => {
    if (jobId === undefined) throw new ApiError("internal");
    return jobId;
  });
}

const GroupEnvelopeSchema = AlertmanagerPayloadSchema.extend({
  alerts: z.array(z.unknown()).min(1, { error: "must hold at least one alert" }).max(MAX_GROUP_ALERTS),
});
/** Built once: a zod schema built per request costs more than checking a small group with it. */
const AlertChunkSchema = z.array(AlertmanagerAlertSchema);

/**
 * The group as its schema's output, or a 400 naming the first problems. The alerts are checked
 * GROUP_CHUNK at a time with a turn of the event loop in between, so a group of thousands does not
 * hold every other request (and the health check) for the whole validation.
 */
async function parseGroup(body: unknown): Promise<AlertmanagerPayload> {
  // the common case checked in place, without the schema's copies (alertmanager-fast.ts)
  const envelope = acceptGroupEnvelope(body, MAX_GROUP_ALERTS) ?? parseInput(GroupEnvelopeSchema, body);
  const alerts: AlertmanagerAlert[] = [];
  for (let offset = 0; offset < envelope.alerts.length; offset += GROUP_CHUNK) {
    if (offset > 0) await new Promise((resolve) => setImmediate(resolve));
    const part =
      envelope.alerts.length <= GROUP_CHUNK
        ? envelope.alerts
        : envelope.alerts.slice(offset, offset + GROUP_CHUNK);
    const accepted = acceptAlerts(part);
    if (accepted !== undefined) {
      if (part === envelope.alerts) return { ...envelope, alerts: accepted };
      alerts.push(...accepted);
      continue;
    }
    const result = AlertChunkSchema.safeParse(part);
    if (!result.success) {
      // the paths as the whole body has them: alerts[1234].labels
      const issues = result.error.issues.map((issue) => ({
        ...issue,
        path: ["alerts", offset + Number(issue.path[0]), ...issue.path.slice(1)],
      }));
      const { message, issues: described } = describeIssues(new z.ZodError(issues));
      throw new ApiError("invalid_payload", message, { issues: described });
    }
    alerts.push(...result.data);
  }
  return { ...envelope, alerts };
}

/** Alerts per ingest job: a group larger than this is shared among the ingest workers. */
export const GROUP_CHUNK = 250;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * Adds the jobs, with those of concurrent requests, in one Redis round trip (domain/enqueue-batch.ts),
 * and returns the ids of the jobs that carry them once they are in Redis; answers 503 when that
 * batch failed or took too long. Not an async function: its frame would hold `jobs` over the wait.
 */
function enqueueAll(batch: EnqueueBatch<IngestJob>, jobs: BulkJob<IngestJob>[]): Promise<string[]> {
  return batch.add(jobs).catch((error: unknown) => {
    throw new ApiError("queue_unavailable", undefined, { cause: (error as Error).message });
  });
}

/**
 * The batch's jobs are added by one script call each, all written in the same turn, so they still
 * share one round trip; not as one MULTI pipeline (`addBulk`). Under the 100-alert load (two paired
 * runs each) an intake-only process took 81-91k alerts/s with `addBulk` and 120-134k this way, every
 * role 47-55k against 48-61k; single alerts, packed into one job a turn, are unchanged. Where the
 * pipeline's cost goes was not pinned down: ioredis copies every BullMQ script onto each pipeline it
 * makes, and in a bare fastify + BullMQ server the GC trace showed 56-69 full collections in 10 s
 * with `addBulk` against 12-14 with separate calls (scavenges up to 7.5 ms against 1 ms), so more of
 * each request outlived the young generation. A MULTI was all-or-nothing only against a connection
 * lost before its EXEC (Redis does not roll one back); now such a loss may leave some of a batch's
 * jobs queued, which the retried delivery meets as a repeat (domain/enqueue-batch.ts).
 *
 * Each job's data is written as JSON here, the string BullMQ would write, so that nothing holds the
 * objects while Redis answers (BullMQ's Job would keep them; jobs/serialized-data-queue.ts). With the
 * http pod's smaller young generation (deploy/k8s/base/deployment-http.yaml), 100-alert load, three
 * alternating pairs: this, the batch and the route letting go of a delivery before the wait took
 * 86-92k against 64-69k alerts/s in two (64k against 66k in the third); this alone 72-81k against
 * 70-78k in three.
 */
function addIngestJobs(queue: Queues["ingest"], jobs: BulkJob<IngestJob>[]): Promise<unknown> {
  return Promise.all(jobs.map((job) => queue.addSerialized(job.name, JSON.stringify(job.data), job.opts)));
}

/** Levels at which the "alerts accepted" line of each delivery is not written. */
const QUIET_LEVELS = new Set(["warn", "error", "fatal", "silent"]);

/** A group being queued: what its answer and its log line need, and nothing of the group itself. */
interface AcceptedGroup {
  /** The ids of the jobs that carry it, once they are in Redis (ApiError otherwise). */
  jobIds: Promise<string[]>;
  alerts: number;
  /** The "alerts accepted" line's fields; undefined when the line is not written. */
  line: Record<string, unknown> | undefined;
}

/**
 * Reads, checks and starts queueing a delivery's alert group. The route then waits for Redis
 * holding only what this returns. Whatever an async function's frame holds stays alive across its
 * awaits (the interpreter keeps even locals no longer used), so the body, its parsed JSON and the
 * jobs' data live here, in a frame that ends before the wait: with the jobs written as JSON before
 * they are sent (addIngestJobs, domain/enqueue-batch.ts), a delivery is garbage by the young
 * generation's next collection instead of outliving it over the round trip and being promoted.
 */
async function acceptGroup(
  batch: EnqueueBatch<IngestJob>,
  source: "alertmanager" | "grafana",
  request: FastifyRequest,
): Promise<AcceptedGroup> {
  const raw = request.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new ApiError("empty_body");
  // the request would hold the bytes until it is answered
  request.body = undefined;
  const payload = await parseGroup(parseJsonBody(raw));
  const receivedAt = new Date().toISOString();
  // A large group (a node loss: thousands of alerts) becomes several ingest jobs, added in one
  // round trip, so the ingest workers share it instead of one working through it alone.
  const jobs = chunk(payload.alerts, GROUP_CHUNK).map((alerts) => ({
    name: source,
    data: { source: "alertmanager" as const, receivedAt, payload: { ...payload, alerts } },
    opts: { jobId: randomUUID() },
  }));
  // the line's fields (a pass over the alerts among them) only when the line is written
  const line = QUIET_LEVELS.has(request.log.level)
    ? undefined
    : {
        source,
        alerts: payload.alerts.length,
        firing: payload.alerts.filter((alert) => alert.status === "firing").length,
        receiver: payload.receiver,
        ...(payload.truncatedAlerts > 0 ? { truncatedAlerts: payload.truncatedAlerts } : {}),
      };
  return { jobIds: enqueueAll(batch, jobs), alerts: payload.alerts.length, line };
}

/** What `check` threw, for a callback hook's `done` (undefined when it passed). */
function failureOf(check: () => void): Error | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export const webhookRoutes: FastifyPluginAsync<{ deps: WebhookDeps }> = async (app, { deps }) => {
  const { config, metrics } = deps;
  const batch = new EnqueueBatch<IngestJob>((jobs) => addIngestJobs(deps.queues.ingest, jobs), {
    deadlineMs: deps.enqueueTimeoutMs ?? BATCH_DEADLINE_MS,
    // concurrent small groups share ingest jobs, GROUP_CHUNK alerts a job at most
    pack: (jobs) => packIngestJobs(jobs, GROUP_CHUNK),
  });
  const checkAlertmanagerAuth = basicAuthChecker("alertmanager", config.alertmanager.webhookSecret);
  const checkGrafanaAuth = basicAuthChecker("grafana", config.grafana.webhookSecret);

  const receiveGroup =
    (source: "alertmanager" | "grafana") => async (request: FastifyRequest, reply: FastifyReply) => {
      const accepted = await acceptGroup(batch, source, request);
      const jobIds = await accepted.jobIds;
      metrics.alertsReceived.inc({ source }, accepted.alerts);
      if (accepted.line !== undefined)
        request.log.info(
          { job: jobIds[0], ...(jobIds.length > 1 ? { jobs: jobIds } : {}), ...accepted.line },
          "alerts accepted",
        );
      return reply.status(202).send({ status: "queued", jobId: jobIds[0], jobIds, alerts: accepted.alerts });
    };

  // Alert groups: large bodies, parsed here after a depth check (never by a recursive parser first).
  await app.register(async (groups) => {
    groups.addContentTypeParser(
      "application/json",
      { parseAs: "buffer", bodyLimit: config.alertmanager.maxBodyBytes },
      (_request, body, done) => {
        done(null, body);
      },
    );
    groups.post("/alertmanager", {
      bodyLimit: config.alertmanager.maxBodyBytes,
      onRequest: (request, _reply, done) => {
        done(failureOf(() => checkAlertmanagerAuth(request.headers.authorization)));
      },
      handler: receiveGroup("alertmanager"),
    });
    groups.post("/grafana", {
      bodyLimit: config.alertmanager.maxBodyBytes,
      onRequest: (request, _reply, done) => {
        done(failureOf(() => checkGrafanaAuth(request.headers.authorization)));
      },
      handler: receiveGroup("grafana"),
    });
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
      // The signature covers the body only: a replayed body is caught by its timestamp and id.
      const stamp = header(request, "sentry-hook-timestamp");
      const requestId = header(request, "request-id");
      if (stamp === undefined || requestId === undefined || !/^\d{1,12}(\.\d+)?$/.test(stamp.trim()))
        throw new ApiError("missing_delivery_headers");
      const window = config.sentry.replayWindowSeconds;
      const ageSeconds = ((deps.now ?? Date.now)() - Number(stamp.trim()) * 1000) / 1000;
      if (Math.abs(ageSeconds) > window)
        throw new ApiError(
          "stale_delivery",
          `the Sentry-Hook-Timestamp is ${Math.round(ageSeconds)} s from now (window ±${window} s): refused as a replay`,
        );
      const body = parseJsonBody(raw);
      const resource = header(request, "sentry-hook-resource");
      if (resource === undefined) throw new ApiError("missing_resource_header");
      if (!(SENTRY_RESOURCES as readonly string[]).includes(resource)) {
        return reply.status(200).send({ status: "ignored", reason: `resource ${resource} is not an alert` });
      }
      const typed = resource as SentryPayload["resource"];
      const payload = { resource: typed, body: parseInput(SENTRY_SCHEMAS[typed], body) } as SentryPayload;
      if (!isActionable(payload)) {
        return reply
          .status(200)
          .send({ status: "ignored", reason: `action ${payload.body.action} is not handled` });
      }
      const claimKey = requestId.trim().slice(0, 128);
      if (deps.sentryReplay !== undefined) {
        const claim = await deps.sentryReplay.claim(claimKey).catch((error: unknown) => {
          throw new ApiError("queue_unavailable", undefined, { cause: (error as Error).message });
        });
        if (claim === "seen") throw new ApiError("replayed_delivery");
      }
      let jobId: string;
      try {
        jobId = await enqueue(batch, "sentry", {
          source: "sentry",
          resource: typed,
          receivedAt: new Date().toISOString(),
          payload: payload.body,
        });
      } catch (error) {
        // not accepted: a retry of this delivery must not count as a replay
        await deps.sentryReplay?.release(claimKey).catch(() => undefined);
        throw error;
      }
      metrics.alertsReceived.inc({ source: "sentry" });
      request.log.info(
        { job: jobId, source: "sentry", resource: typed, action: payload.body.action, alerts: 1 },
        "alerts accepted",
      );
      return reply.status(202).send({ status: "queued", jobId, alerts: 1 });
    });
  });
};

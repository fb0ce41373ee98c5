import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { Agent, get as httpGet, type IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createMetrics } from "../../gateways/metrics.js";
import { budgetDay, RedisBudgetStore } from "../../kv/llm-budget.js";
import { budgetRemaining } from "../../ai/chain.js";
import { sentrySignature } from "../../http/auth.js";
import { buildApp, type AppDeps } from "../../http/app.js";
import { ingestAlert } from "../../handlers/ingest-alert.js";
import { normalizeAlertmanager } from "../../handlers/sources/alertmanager.js";
import { createQueues, type Queues } from "../../jobs/queues.js";
import { parseConfig } from "../../registry/config.js";
import { alertmanagerPayload, sentryIssueCreated } from "../../dev/alerts.js";
import { TEST_SECRETS, testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { DedupWindow } from "../../kv/dedup.js";
import { SentryReplayGuard } from "../../kv/sentry-replay.js";

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
let prefix: string;
let deps: AppDeps;
let app: FastifyInstance;

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const AM_AUTH = basic("alertmanager", TEST_SECRETS.alertmanager);
const BEARER = `Bearer ${TEST_SECRETS.apiToken}`;

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = uniquePrefix();
  redis = new Redis(TEST_REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  await redis.connect();
  queues = createQueues(redis, { prefix, installation: "0123456789ab" });
  deps = {
    config: parseConfig(testEnv({ REDIS_PREFIX: prefix })),
    queues,
    db: db.pool,
    redis,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: "silent" }),
    sentryReplay: new SentryReplayGuard(redis, prefix, 600),
    llmBudgets: async () => {
      const store = new RedisBudgetStore(redis, prefix);
      await store.add("gemini", budgetDay(Date.now()), 500_000, 0.1);
      return budgetRemaining(store);
    },
  };
  app = await buildApp(deps);
});
afterAll(async () => {
  await app.close();
  await queues.close();
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});

function postAlertmanager(body: string | object, headers: Record<string, string> = {}) {
  return app.inject({
    method: "POST",
    url: "/api/v1/webhooks/alertmanager",
    headers: { "content-type": "application/json", authorization: AM_AUTH, ...headers },
    payload: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function postSentry(body: string, headers: Record<string, string | undefined> = {}) {
  const signed = {
    "content-type": "application/json",
    "sentry-hook-resource": "issue",
    "sentry-hook-signature": sentrySignature(Buffer.from(body), TEST_SECRETS.sentry),
    "sentry-hook-timestamp": String(Math.floor(Date.now() / 1000)),
    "request-id": randomUUID().replaceAll("-", ""),
    ...headers,
  };
  const defined = Object.fromEntries(
    Object.entries(signed).filter(([, value]) => value !== undefined),
  ) as Record<string, string>;
  return app.inject({ method: "POST", url: "/api/v1/webhooks/sentry", headers: defined, payload: body });
}

async function rejected(source: string, reason: string): Promise<number> {
  const metric = await deps.metrics.webhooksRejected.get();
  return (
    metric.values.find((value) => value.labels.source === source && value.labels.reason === reason)?.value ??
    0
  );
}

describe("POST /api/v1/webhooks/alertmanager", () => {
  it("answers 202 only with the payload in the ingest queue", async () => {
    const payload = alertmanagerPayload({ count: 3 });
    const response = await postAlertmanager(payload);
    expect(response.statusCode).toBe(202);
    const body = response.json<{ status: string; jobId: string; alerts: number }>();
    expect(body).toMatchObject({ status: "queued", alerts: 3 });
    const job = await queues.ingest.getJob(body.jobId);
    expect(job?.data).toMatchObject({ source: "alertmanager", payload: { alerts: payload.alerts } });
  });

  it("answers concurrent deliveries (one Redis round trip) each with the job that carries its group", async () => {
    const payloads = Array.from({ length: 12 }, (_, index) =>
      alertmanagerPayload({ fingerprint: `batched-${index}`, count: 1 + (index % 3) }),
    );
    const responses = await Promise.all(payloads.map((payload) => postAlertmanager(payload)));
    expect(responses.map((response) => response.statusCode)).toEqual(payloads.map(() => 202));
    const ids = responses.map((response) => response.json<{ jobId: string }>().jobId);
    const jobs = await Promise.all(ids.map((id) => queues.ingest.getJob(id)));
    // a packed job is one group holding every packed group's alerts, in order
    const carried = jobs.map((job) => (job?.data.source === "alertmanager" ? job.data.payload.alerts : []));
    payloads.forEach((payload, index) => {
      const alerts = carried[index] ?? [];
      const at = alerts.findIndex((alert) => alert.fingerprint === payload.alerts[0]?.fingerprint);
      expect(alerts.slice(at, at + payload.alerts.length)).toEqual(payload.alerts);
    });
    // packed: the small groups share jobs rather than taking one each
    expect(new Set(ids).size).toBeLessThan(payloads.length);
  });

  it.each([
    ["no credentials", {}, "missing_credentials"],
    ["a wrong password", { authorization: basic("alertmanager", "wrong-password") }, "invalid_credentials"],
    [
      "a wrong user",
      { authorization: basic("prometheus", TEST_SECRETS.alertmanager) },
      "invalid_credentials",
    ],
    ["a bearer token instead", { authorization: BEARER }, "missing_credentials"],
  ])("refuses %s with 401", async (_case, headers, code) => {
    const before = await rejected("alertmanager", code);
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/webhooks/alertmanager",
      headers: { "content-type": "application/json", ...headers },
      payload: JSON.stringify(alertmanagerPayload()),
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code } });
    if (code === "missing_credentials") expect(response.headers["www-authenticate"]).toContain("Basic");
    expect(await rejected("alertmanager", code)).toBe(before + 1);
  });

  it("refuses invalid JSON with 400 invalid_json", async () => {
    const response = await postAlertmanager('{"version": "4", "alerts": [');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "invalid_json" } });
    expect(await rejected("alertmanager", "invalid_json")).toBeGreaterThan(0);
  });

  it("refuses an empty body with 400", async () => {
    const response = await postAlertmanager("");
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "empty_body" } });
  });

  it.each([
    ["version 3", { ...alertmanagerPayload(), version: "3" }, 'version: version must be "4"'],
    ["no alerts", { ...alertmanagerPayload(), alerts: [] }, "alerts: must hold at least one alert"],
    [
      "an alert without labels",
      { ...alertmanagerPayload(), alerts: [{ status: "firing", labels: {} }] },
      "alerts[0].labels: must not be empty",
    ],
    [
      "a bad status",
      { ...alertmanagerPayload(), alerts: [{ status: "burning", labels: { a: "b" } }] },
      "alerts[0].status",
    ],
    [
      "a bad timestamp",
      { ...alertmanagerPayload(), alerts: [{ status: "firing", labels: { a: "b" }, startsAt: "yesterday" }] },
      "alerts[0].startsAt: must be an RFC 3339 timestamp",
    ],
    ["a JSON array", [1, 2, 3], "body:"],
  ])("refuses %s with 400 naming the field", async (_case, body, message) => {
    const response = await postAlertmanager(body);
    expect(response.statusCode).toBe(400);
    const error = response.json<{ error: { code: string; message: string } }>().error;
    expect(error.code).toBe("invalid_payload");
    expect(error.message).toContain(message);
  });

  it("takes a 2 MiB group by default (32 MiB), and refuses one over ALERTMANAGER_MAX_BODY_BYTES with 413", async () => {
    const big = alertmanagerPayload();
    big.commonAnnotations = { padding: "x".repeat(2 * 1024 * 1024) };
    expect((await postAlertmanager(big)).statusCode).toBe(202);
    expect(deps.config.alertmanager.maxBodyBytes).toBe(32 * 1024 * 1024);

    const small = await buildApp({
      ...deps,
      config: parseConfig(
        testEnv({ REDIS_PREFIX: prefix, ALERTMANAGER_MAX_BODY_BYTES: String(1024 * 1024) }),
      ),
    });
    try {
      const response = await small.inject({
        method: "POST",
        url: "/api/v1/webhooks/alertmanager",
        headers: { "content-type": "application/json", authorization: AM_AUTH },
        payload: JSON.stringify(big),
      });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toMatchObject({ error: { code: "body_too_large" } });
    } finally {
      await small.close();
    }
  });

  it("names the alert at fault in a large group, checked in parts", async () => {
    const payload = alertmanagerPayload({ count: 600 });
    const alerts = payload.alerts as unknown as Record<string, unknown>[];
    alerts[555] = { ...alerts[555], status: "burning" };
    const response = await postAlertmanager(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { message: string } }>().error.message).toMatch(/^alerts\[555\]\.status/);
  });

  it("refuses a body nested 10,000 deep with 400, before parsing it", async () => {
    const deep = `{"version":"4","x":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const response = await postAlertmanager(deep);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "invalid_json" } });
    expect(response.json<{ error: { message: string } }>().error.message).toContain("nests deeper than 64");
  });

  it("takes Grafana's contact point (version 1) on /grafana with basic auth user grafana", async () => {
    const grafana = { ...alertmanagerPayload(), version: "1", orgId: 1 };
    const post = (authorization: string) =>
      app.inject({
        method: "POST",
        url: "/api/v1/webhooks/grafana",
        headers: { "content-type": "application/json", authorization },
        payload: JSON.stringify(grafana),
      });
    expect((await post(basic("grafana", TEST_SECRETS.alertmanager))).statusCode).toBe(202);
    expect((await post(basic("alertmanager", TEST_SECRETS.alertmanager))).statusCode).toBe(401);
    // and on the Alertmanager route, for a contact point pointed there
    expect((await postAlertmanager(grafana)).statusCode).toBe(202);
  });

  it("refuses a body that is not JSON with 415", async () => {
    const response = await postAlertmanager("alertname=Down", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  it("answers 503 when Redis cannot take the payload, so Alertmanager retries", async () => {
    const down = new Redis("redis://127.0.0.1:1", {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const offline = createQueues(down, { prefix, installation: "0123456789ab" });
    const broken = await buildApp({ ...deps, queues: offline });
    try {
      const response = await broken.inject({
        method: "POST",
        url: "/api/v1/webhooks/alertmanager",
        headers: { "content-type": "application/json", authorization: AM_AUTH },
        payload: JSON.stringify(alertmanagerPayload()),
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers["retry-after"]).toBe("5");
      expect(response.json()).toMatchObject({ error: { code: "queue_unavailable" } });
      // the body names the code and the request id, never the inside story (that goes to the log)
      const body = response.json<{ error: Record<string, unknown> }>();
      expect(body).toEqual({
        error: {
          code: "queue_unavailable",
          message: "the ingest queue is unavailable; retry later",
          request_id: response.headers["x-request-id"],
        },
      });
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|timed out/);
      const health = await broken.inject({ method: "GET", url: "/api/v1/health" });
      expect(health.statusCode).toBe(503);
      expect(health.json<{ down: string[] }>().down).toEqual(
        expect.arrayContaining(["queue_ingest", "queue_notify"]),
      );
    } finally {
      await broken.close();
      await offline.close().catch(() => undefined);
      down.disconnect();
    }
  });
});

describe("POST /api/v1/webhooks/sentry", () => {
  const body = JSON.stringify(sentryIssueCreated());

  it("queues a signed issue webhook", async () => {
    const response = await postSentry(body);
    expect(response.statusCode).toBe(202);
    const { jobId } = response.json<{ jobId: string }>();
    expect((await queues.ingest.getJob(jobId))?.data).toMatchObject({ source: "sentry", resource: "issue" });
  });

  it("refuses a missing signature and a wrong one with 401", async () => {
    const missing = await postSentry(body, { "sentry-hook-signature": undefined });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: "missing_signature" } });
    const wrong = await postSentry(body, {
      "sentry-hook-signature": sentrySignature(Buffer.from(body), "another-secret-xyz"),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: "invalid_signature" } });
    // a signature of other bytes: the HMAC covers the raw body, not its parsed form
    const reformatted = await postSentry(JSON.stringify(JSON.parse(body), null, 2), {
      "sentry-hook-signature": sentrySignature(Buffer.from(body), TEST_SECRETS.sentry),
    });
    expect(reformatted.statusCode).toBe(401);
    expect(await rejected("sentry", "invalid_signature")).toBe(2);
  });

  it("refuses invalid JSON, a missing resource header and a wrong shape with 400", async () => {
    expect((await postSentry("{not json")).json()).toMatchObject({ error: { code: "invalid_json" } });
    expect((await postSentry(body, { "sentry-hook-resource": undefined })).json()).toMatchObject({
      error: { code: "missing_resource_header" },
    });
    const shapeless = await postSentry(JSON.stringify({ action: "created", data: { issue: { title: 5 } } }));
    expect(shapeless.statusCode).toBe(400);
    expect(shapeless.json<{ error: { message: string } }>().error.message).toContain("data.issue.id");
  });

  it("acknowledges deliveries it does not act on without queueing them", async () => {
    const installation = await postSentry(JSON.stringify({ action: "created", data: {} }), {
      "sentry-hook-resource": "installation",
    });
    expect(installation.statusCode).toBe(200);
    expect(installation.json()).toMatchObject({ status: "ignored" });
    const assigned = await postSentry(JSON.stringify({ ...sentryIssueCreated(), action: "assigned" }));
    expect(assigned.json()).toMatchObject({ status: "ignored" });
  });

  it("refuses a replayed delivery: a Request-ID already seen (409), a timestamp outside the window (400)", async () => {
    const headers = { "request-id": randomUUID().replaceAll("-", "") };
    expect((await postSentry(body, headers)).statusCode).toBe(202);
    const again = await postSentry(body, headers);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: "replayed_delivery" } });
    // the signature is valid, the stamp from 2001
    const old = await postSentry(body, { "sentry-hook-timestamp": "1000000000" });
    expect(old.statusCode).toBe(400);
    expect(old.json()).toMatchObject({ error: { code: "stale_delivery" } });
    const future = await postSentry(body, {
      "sentry-hook-timestamp": String(Math.floor(Date.now() / 1000) + 3600),
    });
    expect(future.json()).toMatchObject({ error: { code: "stale_delivery" } });
    const unstamped = await postSentry(body, { "sentry-hook-timestamp": undefined });
    expect(unstamped.json()).toMatchObject({ error: { code: "missing_delivery_headers" } });
  });

  it("refuses a signed body nested 10,000 deep with 400, never a 5xx", async () => {
    const deep = `{"action":"created","data":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const response = await postSentry(deep);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "invalid_json" } });
  });

  it("answers 404 when no Sentry secret is configured", async () => {
    const unconfigured = await buildApp({
      ...deps,
      config: parseConfig(testEnv({ SENTRY_WEBHOOK_SECRET: undefined })),
    });
    try {
      const response = await unconfigured.inject({
        method: "POST",
        url: "/api/v1/webhooks/sentry",
        headers: { "content-type": "application/json", "sentry-hook-resource": "issue" },
        payload: body,
      });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ error: { code: "not_configured" } });
    } finally {
      await unconfigured.close();
    }
  });
});

describe("GET /api/v1/incidents", () => {
  let incidentId: string;
  beforeAll(async () => {
    for (const [index, severity] of ["critical", "warning", "high"].entries()) {
      const [alert] = normalizeAlertmanager(
        alertmanagerPayload({ fingerprint: `api-${index}`, labels: { severity } }),
      );
      if (alert === undefined) throw new Error("no alert");
      const result = await ingestAlert(
        {
          pool: db.pool,
          dedup: new DedupWindow(redis, prefix, { alertmanager: 600, sentry: 600, signoz: 600 }),
        },
        { deliveryKey: `api-${index}`, alert, receivedAt: new Date() },
      );
      incidentId = result.incidentId ?? "";
    }
  });

  const get = (url: string, authorization: string | null = BEARER) =>
    app.inject({ method: "GET", url, headers: authorization === null ? {} : { authorization } });

  it("needs the bearer token", async () => {
    expect((await get("/api/v1/incidents", null)).json()).toMatchObject({ error: { code: "missing_token" } });
    const wrong = await get("/api/v1/incidents", "Bearer nope");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: "invalid_token" } });
  });

  it("lists newest first, filters by severity and status, and pages", async () => {
    const all = (await get("/api/v1/incidents")).json<{ incidents: { id: string; severity: string }[] }>();
    expect(all.incidents.map((incident) => incident.severity)).toEqual(["P1", "P2", "P0"]);
    const p0 = (await get("/api/v1/incidents?severity=P0,P1&status=active")).json<{
      incidents: { severity: string }[];
    }>();
    expect(p0.incidents.map((incident) => incident.severity).sort()).toEqual(["P0", "P1"]);
    const page = (await get("/api/v1/incidents?limit=2")).json<{
      incidents: { id: string }[];
      next: string;
    }>();
    expect(page.incidents).toHaveLength(2);
    const rest = (await get(`/api/v1/incidents?limit=2&before=${page.next}`)).json<{
      incidents: { id: string }[];
      next: null;
    }>();
    expect(rest.incidents.map((incident) => incident.id)).toEqual([all.incidents[2]?.id]);
    expect(rest.next).toBeNull();
  });

  it.each(["status=burning", "limit=0", "severity=P9", "unknown=1"])(
    "refuses ?%s with 400",
    async (query) => {
      const response = await get(`/api/v1/incidents?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: "invalid_query" } });
    },
  );

  it("shows one incident with its timeline and alerts", async () => {
    const response = await get(`/api/v1/incidents/${incidentId}`);
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      incident: { id: string };
      timeline: { kind: string }[];
      alerts: unknown[];
    }>();
    expect(body.incident.id).toBe(incidentId);
    expect(body.timeline.map((event) => event.kind)).toEqual(["opened"]);
    expect(body.alerts).toHaveLength(1);
    expect((await get("/api/v1/incidents/INC-20200101-9999")).statusCode).toBe(404);
    expect((await get("/api/v1/incidents/42")).json()).toMatchObject({ error: { code: "invalid_query" } });
  });
});

describe("health, metrics and unknown routes", () => {
  it("reports Redis, PostgreSQL and the queues as up", async () => {
    const response = await app.inject({ method: "GET", url: "/api/v1/health" });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ status: string; checks: Record<string, { ok: boolean }> }>();
    expect(body.status).toBe("ok");
    expect(Object.keys(body.checks).sort()).toEqual([
      "postgres",
      "queue_analyze",
      "queue_ingest",
      "queue_notify",
      "redis",
    ]);
  });

  it("says degraded (still 200) while Telegram has a problem, with its warning", async () => {
    const problem = {
      kind: "token_rejected" as const,
      since: new Date().toISOString(),
      warning: "Telegram: token rejected (getMe: 401 Unauthorized); check TELEGRAM_BOT_TOKEN with @BotFather",
    };
    const withProblem = await buildApp({ ...deps, telegramProblems: async () => [problem] });
    try {
      const response = await withProblem.inject({ method: "GET", url: "/api/v1/health" });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ status: string; warnings: string[]; telegram: { problems: unknown[] } }>();
      expect(body.status).toBe("degraded");
      expect(body.warnings).toContain(problem.warning);
      expect(body.telegram.problems).toEqual([problem]);
    } finally {
      await withProblem.close();
    }
  });

  it("exposes the bot's metrics", async () => {
    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    for (const name of [
      "chatops_alerts_received_total",
      "chatops_webhooks_rejected_total",
      "chatops_alerts_deduplicated_total",
      "chatops_incidents_opened_total",
      "chatops_card_latency_seconds",
      'chatops_queue_depth{queue="ingest",state="waiting"}',
      // the names registry/services.yaml's generated LLM rules alert on
      "# TYPE chatops_llm_requests_total counter",
      // 500,000 of Gemini's 2,000,000 daily tokens used; $0.10 of $2 is the smaller share
      'chatops_llm_budget_remaining_ratio{provider="gemini"} 0.75',
      'chatops_llm_budget_remaining_ratio{provider="claude"} 1',
    ]) {
      expect(response.body).toContain(name);
    }
  });

  it("answers an unknown route with a JSON 404", async () => {
    const response = await app.inject({ method: "GET", url: "/api/v1/nothing" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("POST /api/v1/execute", () => {
  it("answers 404 for an incident that does not exist, not a 500", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/execute",
      headers: { "content-type": "application/json", authorization: BEARER },
      payload: JSON.stringify({ incident_id: "INC-20991231-9999", approved_by: "bob" }),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: "not_found", message: "incident INC-20991231-9999 does not exist" },
    });
  });
});

describe("closing", () => {
  // Without it, a keep-alive connection answering when close() began stayed open for fastify's
  // keep-alive timeout (72 s) and held SIGTERM's HTTP step to its limit.
  it("ends a keep-alive connection whose request was in flight once it is answered", async () => {
    const closing = await buildApp(deps);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered = (): void => undefined;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    closing.get("/slow", async () => {
      entered();
      await released;
      return { done: true };
    });
    const url = await closing.listen({ port: 0, host: "127.0.0.1" });
    const agent = new Agent({ keepAlive: true });
    try {
      const response = new Promise<IncomingMessage>((resolve, reject) =>
        httpGet(`${url}/slow`, { agent }, resolve).on("error", reject),
      );
      await inFlight;
      const closed = closing.close();
      // answered after the server stopped listening, as a slow webhook is during SIGTERM
      await vi.waitFor(() => expect(closing.server.listening).toBe(false));
      release();
      const answer = await response;
      answer.resume();
      expect([answer.statusCode, answer.headers.connection]).toEqual([200, "close"]);
      await closed;
    } finally {
      agent.destroy();
    }
  });
});

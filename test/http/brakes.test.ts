// Brakes on the HTTP API, on real Redis: a burst of wrong credentials from one address is refused
// with 429 and Retry-After and logged once, not once per guess; /metrics can require a token.
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../gateways/metrics.js";
import { buildApp } from "../../http/app.js";
import { createQueues, type Queues } from "../../jobs/queues.js";
import { AuthBrake } from "../../kv/auth-brake.js";
import { parseConfig } from "../../registry/config.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { TEST_SECRETS, testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
let app: FastifyInstance;
const prefix = uniquePrefix();
const lines: { level: number; msg: string }[] = [];
const METRICS_TOKEN = "metrics-scrape-token-0123456789";

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
  queues = createQueues(redis, { prefix, installation: "0123456789ab" });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  app = await buildApp({
    config: parseConfig(testEnv({ REDIS_PREFIX: prefix, METRICS_TOKEN })),
    queues,
    db: db.pool,
    redis,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: "info" }, stream),
    authBrake: new AuthBrake(redis, prefix, { failures: 20, windowMs: 60_000 }),
  });
});
afterAll(async () => {
  await app.close();
  await queues.close();
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});

const post = (password: string, address: string) =>
  app.inject({
    method: "POST",
    url: "/api/v1/webhooks/alertmanager",
    remoteAddress: address,
    headers: {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`alertmanager:${password}`).toString("base64")}`,
    },
    payload: JSON.stringify(alertmanagerPayload()),
  });

describe("failed authentication", () => {
  it("is braked per address after a burst: 429 with Retry-After, one log line, others unaffected", async () => {
    const statuses: number[] = [];
    for (let guess = 0; guess < 300; guess++)
      statuses.push((await post(`guess-${guess}`, "10.9.8.7")).statusCode);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(new Set(statuses.slice(20))).toEqual(new Set([429]));
    const refused = await post(TEST_SECRETS.alertmanager, "10.9.8.7");
    // even the right password waits out the window
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: "too_many_failures" } });
    // another address is not punished for this one
    expect((await post(TEST_SECRETS.alertmanager, "10.1.2.3")).statusCode).toBe(202);
    const warned = lines.filter((line) => line.level >= 40);
    expect(warned.map((line) => line.msg)).toEqual(["authentication failures: braking this address"]);
  });
});

describe("GET /metrics with METRICS_TOKEN", () => {
  it("wants the token, and serves with it", async () => {
    expect((await app.inject({ method: "GET", url: "/metrics", remoteAddress: "10.5.5.5" })).statusCode).toBe(
      401,
    );
    const scraped = await app.inject({
      method: "GET",
      url: "/metrics",
      remoteAddress: "10.5.5.5",
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toContain("chatops_alerts_received_total");
  });
});

// The Telegram webhook route of the http role: the secret header checked (401, braked like any
// failed credential), the update handed to the bot, a failure answered 500 so Telegram resends,
// and a slow update answered anyway so that Telegram does not send it twice.
import { Redis } from "ioredis";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../gateways/metrics.js";
import { buildApp } from "../../http/app.js";
import { sameSecret } from "../../http/routes/telegram-webhook.js";
import { createQueues, type Queues } from "../../jobs/queues.js";
import { parseConfig } from "../../registry/config.js";
import { testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const PATH = "/telegram/webhook";

let db: TestDatabase;
let redis: Redis;
let queues: Queues;
let app: FastifyInstance;
const prefix = uniquePrefix();
const handled: number[] = [];
let behaviour: (update: { update_id: number }) => Promise<void> = async (update) => {
  handled.push(update.update_id);
};

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
  queues = createQueues(redis, { prefix, installation: "0123456789ab" });
  const metrics = createMetrics({ defaultMetrics: false });
  app = await buildApp({
    config: parseConfig(testEnv({ REDIS_PREFIX: prefix })),
    queues,
    db: db.pool,
    redis,
    metrics,
    logger: pino({ level: "silent" }),
    telegramWebhook: {
      path: PATH,
      secret: SECRET,
      handle: (update) => behaviour(update),
      answerWithinMs: 100,
    },
  });
});
afterAll(async () => {
  await app.close();
  await queues.close();
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});

const post = (headers: Record<string, string>, payload: Record<string, unknown>) =>
  app.inject({
    method: "POST",
    url: PATH,
    headers: { "content-type": "application/json", ...headers },
    payload,
  });

describe("POST <path of TELEGRAM_WEBHOOK_URL>", () => {
  it("hands an update with the right secret to the bot and answers 200", async () => {
    const response = await post({ "x-telegram-bot-api-secret-token": SECRET }, { update_id: 41 });
    expect(response.statusCode).toBe(200);
    expect(handled).toContain(41);
  });

  it("answers 401 to a missing or wrong secret, and hands nothing over", async () => {
    const before = handled.length;
    const missing = await post({}, { update_id: 42 });
    const wrong = await post({ "x-telegram-bot-api-secret-token": `${SECRET}x` }, { update_id: 43 });
    expect(missing.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: "invalid_secret_token" } });
    expect(handled).toHaveLength(before);
  });

  it("refuses a body that is not an update", async () => {
    const response = await post({ "x-telegram-bot-api-secret-token": SECRET }, { hello: "world" });
    expect(response.statusCode).toBe(400);
  });

  it("answers 500 when the update could not be handled, so that Telegram sends it again", async () => {
    behaviour = () => Promise.reject(new Error("bot not initialized"));
    try {
      const response = await post({ "x-telegram-bot-api-secret-token": SECRET }, { update_id: 44 });
      expect(response.statusCode).toBe(500);
    } finally {
      behaviour = async (update) => void handled.push(update.update_id);
    }
  });

  it("answers 200 to an update still being handled, and lets its handling finish", async () => {
    let finish: () => void = () => undefined;
    behaviour = (update) =>
      new Promise<void>((resolve) => {
        finish = () => {
          handled.push(update.update_id);
          resolve();
        };
      });
    try {
      const response = await post({ "x-telegram-bot-api-secret-token": SECRET }, { update_id: 45 });
      expect(response.statusCode).toBe(200);
      expect(handled).not.toContain(45);
      finish();
      expect(handled).toContain(45);
    } finally {
      behaviour = async (update) => void handled.push(update.update_id);
    }
  });

  it("has no such route without webhook mode", async () => {
    const plain = await buildApp({
      config: parseConfig(testEnv({ REDIS_PREFIX: prefix })),
      queues,
      db: db.pool,
      redis,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: pino({ level: "silent" }),
    });
    try {
      const response = await plain.inject({ method: "POST", url: PATH, payload: { update_id: 1 } });
      expect(response.statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe("sameSecret", () => {
  it("is true only for the same string, whatever the lengths", () => {
    expect(sameSecret(SECRET, SECRET)).toBe(true);
    expect(sameSecret(SECRET.slice(0, -1), SECRET)).toBe(false);
    expect(sameSecret(`${SECRET}0`, SECRET)).toBe(false);
    expect(sameSecret("", SECRET)).toBe(false);
  });
});

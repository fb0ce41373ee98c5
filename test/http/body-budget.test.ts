// Webhook bodies in flight are bounded (WEBHOOK_BODIES_IN_FLIGHT_BYTES): a request past the budget
// waits, unread, for its turn; none is lost, and one that waits too long is a 503 its sender retries.
import { Redis } from "ioredis";
import { connect, type AddressInfo, type Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { EnqueueBatch, type BulkJob } from "../../domain/enqueue-batch.js";
import { createMetrics } from "../../gateways/metrics.js";
import { buildApp, type AppDeps } from "../../http/app.js";
import { BodyBudget, BodyBudgetBusy } from "../../http/body-budget.js";
import { createQueues, type IngestJob, type Queues } from "../../jobs/queues.js";
import { parseConfig } from "../../registry/config.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { TEST_SECRETS, testEnv } from "../../dev/env.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { collectGarbage } from "../support/collect-garbage.js";

describe("the body budget", () => {
  it("lets bodies in while they fit, then one in for each that leaves, first come first served", async () => {
    const budget = new BodyBudget({ bytes: 100, waitMs: 60_000 });
    const first = await budget.take(60);
    const second = await budget.take(40);
    const order: string[] = [];
    const third = budget.take(50).then((release) => (order.push("third"), release));
    const fourth = budget.take(10).then((release) => (order.push("fourth"), release));
    expect(budget.queued).toBe(2);
    first();
    await Promise.all([third, fourth]);
    // the small one fitted from the start, and still waited behind the one before it
    expect(order).toEqual(["third", "fourth"]);
    expect(budget.inFlight).toBe(3);
    second();
    (await third)();
    (await fourth)();
    expect(budget.inFlight).toBe(0);
  });

  it("grants at once only while nobody waits, so a small body never overtakes the line", async () => {
    const budget = new BodyBudget({ bytes: 100, waitMs: 60_000 });
    const first = budget.takeNow(90);
    expect(first).toBeDefined();
    const waiting = budget.take(50);
    // 10 bytes would fit, but the 50-byte body came first
    expect(budget.takeNow(10)).toBeUndefined();
    first?.();
    (await waiting)();
    expect(budget.takeNow(10)).toBeDefined();
  });

  it("takes a body larger than the whole budget once it is alone", async () => {
    const budget = new BodyBudget({ bytes: 100, waitMs: 60_000 });
    const small = await budget.take(10);
    const huge = budget.take(Number.POSITIVE_INFINITY);
    expect(budget.queued).toBe(1);
    small();
    (await huge)();
    expect(budget.inFlight).toBe(0);
  });

  it("gives up the place of a sender that went away, so the next one goes in", async () => {
    const budget = new BodyBudget({ bytes: 100, waitMs: 60_000 });
    const held = await budget.take(100);
    const gone = new AbortController();
    const abandoned = budget.take(100, gone.signal);
    const next = budget.take(100);
    gone.abort();
    await abandoned;
    expect(budget.queued).toBe(1);
    held();
    (await next)();
    expect(budget.inFlight).toBe(0);
  });

  it("refuses after the longest wait, and the line moves on", async () => {
    const budget = new BodyBudget({ bytes: 100, waitMs: 20 });
    const held = await budget.take(100);
    await expect(budget.take(1)).rejects.toBeInstanceOf(BodyBudgetBusy);
    expect(budget.queued).toBe(0);
    held();
    (await budget.take(100))();
  });
});

const AUTHORIZATION = `Basic ${Buffer.from(`alertmanager:${TEST_SECRETS.alertmanager}`).toString("base64")}`;

describe("webhook bodies in flight", () => {
  let db: TestDatabase;
  let redis: Redis;
  let queues: Queues;
  let prefix: string;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = uniquePrefix();
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    queues = createQueues(redis, { prefix, installation: "0123456789ab" });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
    await deleteKeys(prefix);
    await db.drop();
  });

  /** The app on this file's database and queues, closed after the test. */
  async function appWith(env: Record<string, string>, deps: Partial<AppDeps>): Promise<FastifyInstance> {
    const app = await buildApp({
      config: parseConfig(testEnv({ REDIS_PREFIX: prefix, ...env })),
      queues,
      db: db.pool,
      redis,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: pino({ level: "silent" }),
      ...deps,
    });
    apps.push(app);
    return app;
  }

  /**
   * A webhook delivery written on a socket of its own, so the test decides when its sender goes
   * away; `contentLength` larger than the body leaves the server waiting for the rest.
   */
  function rawPost(port: number, body: string, contentLength = Buffer.byteLength(body)): Socket {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write(
      "POST /api/v1/webhooks/alertmanager HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n" +
        `Authorization: ${AUTHORIZATION}\r\nContent-Length: ${contentLength}\r\n\r\n${body}`,
    );
    return socket;
  }

  /** The app with the budget from the settings, or `budget`; ingest held until `open` resolves. */
  async function intake(
    env: Record<string, string>,
    open: Promise<void>,
    budget?: BodyBudget,
    deps: Partial<AppDeps> = {},
  ) {
    let queued = 0;
    let most = 0;
    const add = queues.ingest.addSerialized.bind(queues.ingest);
    /** The alerts of the requests parsed and now being queued, held until `open` (concurrent small
     * groups share a job, so jobs do not count requests; each job is added on its own). */
    const held = async <T>(jobs: { data: IngestJob }[], send: () => Promise<T>): Promise<T> => {
      const alerts = jobs.reduce(
        (sum, job) => sum + (job.data.source === "alertmanager" ? job.data.payload.alerts.length : 0),
        0,
      );
      queued += alerts;
      most = Math.max(most, queued);
      await open;
      try {
        return await send();
      } finally {
        queued -= alerts;
      }
    };
    // the intake adds its jobs as JSON (jobs/serialized-data-queue.ts)
    vi.spyOn(queues.ingest, "addSerialized").mockImplementation((name, json, opts) =>
      held([{ data: JSON.parse(json) as IngestJob }], () => add(name, json, opts)),
    );
    const app = await appWith(env, budget === undefined ? deps : { ...deps, bodyBudget: budget });
    const post = (alerts: number) =>
      app.inject({
        method: "POST",
        url: "/api/v1/webhooks/alertmanager",
        headers: { "content-type": "application/json", authorization: AUTHORIZATION },
        payload: JSON.stringify(alertmanagerPayload({ count: alerts })),
      });
    return { post, queued: () => queued, most: () => most };
  }

  it("holds nothing of a delivery's alerts while Redis answers (they die young instead of being promoted)", async () => {
    // each job's data as the route hands it to the batch, weakly
    const data: WeakRef<object>[] = [];
    const prototype = EnqueueBatch.prototype as EnqueueBatch<IngestJob>;
    const { value: add } = Object.getOwnPropertyDescriptor(EnqueueBatch.prototype, "add") as {
      value: EnqueueBatch<IngestJob>["add"];
    };
    prototype.add = function (this: EnqueueBatch<IngestJob>, jobs: BulkJob<IngestJob>[]) {
      for (const job of jobs) data.push(new WeakRef<object>(job.data));
      return add.call(this, jobs);
    };
    let answer = () => undefined as void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const addSerialized = queues.ingest.addSerialized.bind(queues.ingest);
    const sent = vi
      .spyOn(queues.ingest, "addSerialized")
      .mockImplementation(async (name, json, opts) => (await answered, addSerialized(name, json, opts)));
    try {
      const app = await appWith({}, {});
      const response = app.inject({
        method: "POST",
        url: "/api/v1/webhooks/alertmanager",
        headers: { "content-type": "application/json", authorization: AUTHORIZATION },
        payload: JSON.stringify(alertmanagerPayload({ count: 300 })),
      });
      // two jobs (250 alerts a job), written as JSON and waiting for Redis
      await vi.waitFor(() => expect(sent).toHaveBeenCalledTimes(2));
      collectGarbage();
      expect(data.map((each) => each.deref())).toEqual([undefined, undefined]);
      answer();
      expect((await response).statusCode).toBe(202);
    } finally {
      answer();
      prototype.add = add;
    }
  });

  it("parses and queues only as many bodies as the budget holds; the rest wait and are all taken", async () => {
    let open = () => undefined as void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const bodyBytes = JSON.stringify(alertmanagerPayload({ count: 50 })).length;
    const budget = new BodyBudget({ bytes: 2 * bodyBytes, waitMs: 60_000 });
    const bot = await intake({}, opened, budget);

    const answers = Promise.all(Array.from({ length: 6 }, () => bot.post(50)));
    // two bodies (50 alerts each) parsed and held at the queue; four unread, waiting for their turn
    // (looked for within 2 s: the enqueue deadline answers the held ones 503 after 3 s)
    await vi.waitFor(() => expect([bot.queued(), budget.queued]).toEqual([100, 4]), { timeout: 2_000 });
    open();
    const statuses = (await answers).map((answer) => answer.statusCode);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 202]);
    expect(bot.most()).toBe(100);
    const waiting = await queues.ingest.getWaiting();
    const alerts = waiting.reduce(
      (sum, job) => sum + (job.data.source === "alertmanager" ? job.data.payload.alerts.length : 0),
      0,
    );
    expect(alerts).toBeGreaterThanOrEqual(6 * 50);
  });

  it("reads the budget from WEBHOOK_BODIES_IN_FLIGHT_BYTES", async () => {
    let open = () => undefined as void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const bodyBytes = JSON.stringify(alertmanagerPayload({ count: 100 })).length;
    expect(bodyBytes).toBeGreaterThan((64 * 1024) / 2);
    // the smallest budget allowed: one 100-alert body at a time
    const bot = await intake({ WEBHOOK_BODIES_IN_FLIGHT_BYTES: String(64 * 1024) }, opened);
    const answers = Promise.all(Array.from({ length: 3 }, () => bot.post(100)));
    await vi.waitFor(() => expect(bot.queued()).toBe(100), { timeout: 2_000 });
    open();
    expect((await answers).map((answer) => answer.statusCode)).toEqual([202, 202, 202]);
    expect(bot.most()).toBe(100);
  });

  it("takes no share for a sender that went away before its body's turn (while the auth brake asked Redis)", async () => {
    const budget = new BodyBudget({ bytes: 1_000_000, waitMs: 60_000 });
    let asked = () => undefined as void;
    const braking = new Promise<void>((resolve) => (asked = resolve));
    let answer = (_wait: number) => undefined as void;
    const app = await appWith(
      {},
      {
        bodyBudget: budget,
        // an address not known clear: the brake asks Redis, which answers once the sender is gone
        authBrake: {
          knownClear: () => false,
          waitFor: () => {
            asked();
            return new Promise<number>((resolve) => (answer = resolve));
          },
          failed: async () => undefined,
          firstRefusal: async () => false,
        },
      },
    );
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const closedHere = new Promise((resolve) =>
      app.server.once("connection", (socket: Socket) => socket.once("close", resolve)),
    );
    // the headers only: the body never comes
    const socket = rawPost(port, "", 100);
    await braking;
    socket.destroy();
    await closedHere;
    answer(0);
    // the request goes on to its body's turn (a few turns of the event loop, all in this process)
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([budget.inFlight, budget.queued]).toEqual([0, 0]);
  });

  it("gives back the place of a sender that went away while its body waited, and the share of one let in after a wait", async () => {
    // room for one body of this size: A is held at the queue, B and C wait their turn
    const bodyBytes = JSON.stringify(alertmanagerPayload()).length;
    const budget = new BodyBudget({ bytes: bodyBytes, waitMs: 60_000 });
    let open = () => undefined as void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    // held bodies are not answered 503 by the enqueue deadline while the test looks
    const bot = await intake({}, opened, budget, { enqueueTimeoutMs: 60_000 });
    const app = apps.at(-1)!;
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const closedHere: Promise<unknown>[] = [];
    app.server.on("connection", (socket: Socket) =>
      closedHere.push(new Promise((resolve) => socket.once("close", resolve))),
    );
    const body = JSON.stringify(alertmanagerPayload());
    const send = () => rawPost(port, body);
    try {
      const a = send();
      await vi.waitFor(() => expect(bot.queued()).toBe(1), { timeout: 5_000 });
      const b = send();
      await vi.waitFor(() => expect(budget.queued).toBe(1), { timeout: 5_000 });
      const c = send();
      await vi.waitFor(() => expect(budget.queued).toBe(2), { timeout: 5_000 });
      // B leaves while it waits: its place goes, C is next
      b.destroy();
      await vi.waitFor(() => expect(closedHere.length).toBe(3), { timeout: 5_000 });
      await closedHere[1];
      expect([budget.inFlight, budget.queued]).toEqual([1, 1]);
      // A leaves while its body is held at the queue: its share comes back and C is let in after its wait
      a.destroy();
      await closedHere[0];
      await vi.waitFor(() => expect(bot.queued()).toBe(2), { timeout: 5_000 });
      expect([budget.inFlight, budget.queued]).toEqual([1, 0]);
      // C leaves while its body is held at the queue: the share it waited for comes back too
      c.destroy();
      await closedHere[2];
      expect([budget.inFlight, budget.queued]).toEqual([0, 0]);
    } finally {
      open();
    }
  });

  it("answers 503 with Retry-After to a body that waited too long, which its sender retries", async () => {
    let open = () => undefined as void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    // room for one single-alert body
    const budget = new BodyBudget({ bytes: JSON.stringify(alertmanagerPayload()).length, waitMs: 50 });
    const bot = await intake({}, opened, budget);
    const held = bot.post(1);
    await vi.waitFor(() => expect(bot.queued()).toBe(1), { timeout: 10_000 });
    const refused = await bot.post(1);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("5");
    expect(refused.json()).toMatchObject({ error: { code: "intake_busy" } });
    expect(bot.most()).toBe(1);
    open();
    expect((await held).statusCode).toBe(202);
  });
});

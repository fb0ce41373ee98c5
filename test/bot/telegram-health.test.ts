// This process's Telegram report, on real Redis, from what real Bot API calls (to the emulator) got.
import { Api } from "grammy";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TelegramHealthReporter } from "../../bot/telegram-health.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { TelegramHealthStore } from "../../kv/telegram-health.js";

const TOKEN = "123456:TEST-TOKEN";
const CHAT = -1001234567890;
const prefix = uniquePrefix();
let redis: Redis;
let telegram: TelegramEmulator;
let store: TelegramHealthStore;
const reporters: TelegramHealthReporter[] = [];

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  telegram = await TelegramEmulator.start({ token: TOKEN });
  store = new TelegramHealthStore(redis, prefix, 123456);
});
afterEach(async () => {
  for (const reporter of reporters.splice(0)) await reporter.stop();
  telegram.reset();
});
afterAll(async () => {
  await telegram.close();
  await deleteKeys(prefix);
  redis.disconnect();
});

function reporterWithApi(token = TOKEN) {
  const reporter = new TelegramHealthReporter(
    store,
    pino({ level: "silent" }),
    `p${reporters.length}`,
    60_000,
  );
  reporters.push(reporter);
  const api = new Api(token, { apiRoot: telegram.apiRoot });
  api.config.use(reporter.watch());
  return { reporter, api };
}

const reportOf = async (process: string) => (await store.readAll()).find((r) => r.process === process);

describe("TelegramHealthReporter", () => {
  it("writes nothing for a process whose calls go through and that does not poll", async () => {
    const { api } = reporterWithApi();
    await api.sendMessage(CHAT, "fine");
    await api.getMe();
    expect(await reportOf("p0")).toBeUndefined();
  });

  it("reports a 401 as a rejected token, and forgets it once a call goes through", async () => {
    const { reporter, api } = reporterWithApi("123456:REVOKED");
    await expect(api.sendMessage(CHAT, "refused")).rejects.toThrow("Unauthorized");
    await expect
      .poll(async () => (await reportOf(reporter.process))?.tokenRejected)
      .toMatchObject({
        method: "sendMessage",
        description: "Unauthorized",
      });
    const good = new Api(TOKEN, { apiRoot: telegram.apiRoot });
    good.config.use(reporter.watch());
    await good.getMe();
    await expect.poll(() => reportOf(reporter.process)).toBeUndefined();
  });

  it("counts 5xx answers until one call is answered", async () => {
    const { reporter, api } = reporterWithApi();
    telegram.outage({ error_code: 500, description: "Internal Server Error" });
    await expect(api.sendMessage(CHAT, "one")).rejects.toThrow("Internal Server Error");
    await expect(api.editMessageText(CHAT, 1, "two")).rejects.toThrow("Internal Server Error");
    await expect
      .poll(async () => (await reportOf(reporter.process))?.callsFailing)
      .toMatchObject({
        failures: 2,
        method: "editMessageText",
        error: "500 Internal Server Error",
      });
    telegram.outage(undefined);
    await api.sendMessage(CHAT, "answered");
    await expect.poll(() => reportOf(reporter.process)).toBeUndefined();
  });

  it("keeps a poller's state with its heartbeat, and removes it on a clean stop", async () => {
    const { reporter } = reporterWithApi();
    reporter.pollingState("starting");
    reporter.pollingState("polling");
    await expect.poll(async () => (await reportOf(reporter.process))?.polling?.state).toBe("polling");
    expect((await reportOf(reporter.process))?.everyMs).toBe(60_000);
    await reporter.stop();
    expect(await reportOf(reporter.process)).toBeUndefined();
  });
});

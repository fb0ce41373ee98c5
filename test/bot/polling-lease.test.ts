// Polling with the poller lease (bot/polling.ts + kv/poller-lease.ts): of two bots sharing a Redis
// only one polls; a graceful stop hands over at once (the lease is released); a poller that finds
// its lease taken by another stops polling instead of fighting it with 409s.
import { Bot } from "grammy";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPolling, type Polling } from "../../bot/polling.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { PollerLease } from "../../kv/poller-lease.js";

const TOKEN = "123456:TEST-TOKEN";
const BOT_ID = 123456;
const TTL_MS = 1_500;
const prefix = uniquePrefix();
let redis: Redis;
let telegram: TelegramEmulator;
const running: Polling[] = [];

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});
afterEach(async () => {
  for (const polling of running.splice(0)) await polling.stop();
  await telegram.close();
});

function pollingBot(name: string, scope: string, seen: string[]) {
  const bot = new Bot(TOKEN, { client: { apiRoot: telegram.apiRoot } });
  bot.on("message:text", (ctx) => void seen.push(`${name}:${ctx.message.text}`));
  const lease = new PollerLease(redis, `${prefix}:${scope}`, BOT_ID);
  const polling = startPolling(bot, pino({ level: "silent" }), undefined, { lease, ttlMs: TTL_MS });
  running.push(polling);
  return { bot, lease, polling };
}

describe("polling with a lease", () => {
  it("lets one of two bots poll, and hands over at once on a graceful stop", async () => {
    telegram = await TelegramEmulator.start({ token: TOKEN });
    const seen: string[] = [];
    const a = pollingBot("a", "graceful", seen);
    const b = pollingBot("b", "graceful", seen);
    await expect.poll(() => [a.bot, b.bot].filter((bot) => bot.isRunning()).length).toBe(1);
    telegram.sendUserMessage({ chatId: 42, fromUserId: 42, text: "first" });
    await expect.poll(() => seen.length).toBe(1);

    const [leader, standby] = a.bot.isRunning() ? [a, b] : [b, a];
    await leader.polling.stop();
    const stoppedAt = Date.now();
    running.splice(running.indexOf(leader.polling), 1);
    await expect.poll(() => standby.bot.isRunning(), { timeout: 5_000 }).toBe(true);
    telegram.sendUserMessage({ chatId: 42, fromUserId: 42, text: "second" });
    await expect.poll(() => seen.length).toBe(2);
    expect(seen[1]?.endsWith(":second")).toBe(true);
    expect(seen[0]?.slice(0, 1)).not.toBe(seen[1]?.slice(0, 1));
    // grammY's bot.stop() confirms the offset with one more getUpdates, which may end the leader's own
    // abandoned long poll with 409 before the server noticed the abort; the standby never gets one
    const conflicts = telegram.callsOf("getUpdates").filter((call) => call.status === 409);
    expect(conflicts.filter((call) => call.at >= stoppedAt)).toHaveLength(0);
  });

  it("stops polling when another process holds its lease now", async () => {
    telegram = await TelegramEmulator.start({ token: TOKEN });
    const only = pollingBot("a", "stolen", []);
    await expect.poll(() => only.bot.isRunning()).toBe(true);
    // another holder took the lease (as if this process had stalled past the lease)
    await redis.set(`${prefix}:stolen:lease:telegram-poller:${BOT_ID}`, "someone-else", "PX", 60_000);
    await expect.poll(() => only.bot.isRunning(), { timeout: 5_000 }).toBe(false);
    // and stays on standby while the other holds it
    expect(await only.lease.renew(TTL_MS)).toBe(false);
  });
});

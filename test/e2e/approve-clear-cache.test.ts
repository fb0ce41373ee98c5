// The loop closed for a configured target: a Redis memory alert, CLEAR_CACHE proposed for the
// Redis the alert names, an approver's press, a real FLUSHDB on the database the targets file
// gives for that name (Redis DB 12 here), verification, a resolved card.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail, latestAction } from "../../db/actions.js";
import { getIncident } from "../../db/incidents.js";
import { alertmanagerFiring } from "../../dev/alerts.js";
import { TEST_REDIS_URL } from "../../dev/redis.js";
import {
  buttonData,
  alertmanagerAuth,
  CHAT_ID,
  postJson,
  startStack,
  waitForChat,
  type Stack,
} from "../../dev/stack.js";

const cacheUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, "")}/12`;
let dir: string;
let stack: Stack;
let cache: Redis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "approve-clear-cache-"));
  const targets = join(dir, "auto-repair.yaml");
  await writeFile(targets, `clear_cache:\n  sessions: { url: "${cacheUrl}", aliases: [redis] }\n`);
  cache = new Redis(cacheUrl);
  await cache.flushdb();
  await cache.mset("session:1", "a", "session:2", "b");
  stack = await startStack({
    env: { AUTO_REPAIR_CONFIG: targets, TELEGRAM_APPROVER_IDS: "1001" },
    // Telegram's flood limits lifted: this file is about CLEAR_CACHE, not pacing (which
    // test/e2e/storm.test.ts, test/kv/chat-budget.test.ts and the emulator's own tests keep)
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    runtime: { verify: { verifyEveryMs: 200, verifyWithinMs: 15_000 } },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await cache?.flushdb();
  cache?.disconnect();
  await rm(dir, { recursive: true, force: true });
});

describe("approving a proposed cache flush", () => {
  it("flushes the configured database on approval, verifies it, and resolves the card", async () => {
    const payload = alertmanagerFiring();
    const [template] = payload.alerts;
    if (template === undefined) throw new Error("fixture has no alert");
    const labels = { alertname: "RedisMemoryHigh", severity: "high", service: "redis", container: "redis" };
    const response = await postJson(
      `${stack.url}/api/v1/webhooks/alertmanager`,
      { ...payload, commonLabels: labels, alerts: [{ ...template, fingerprint: "redis-mem", labels }] },
      alertmanagerAuth,
    );
    expect(response.status).toBe(202);
    const [card] = await waitForChat(
      stack.telegram,
      (all) => all[0]?.text.includes("needs approval") ?? false,
      15_000,
    );
    expect(card?.text).toContain("CLEAR_CACHE · Redis redis");
    const incidentId = /INC-\d{8}-\d{4}/.exec(card?.text ?? "")?.[0] ?? "";
    await expect.poll(async () => (await latestAction(stack.db.pool, incidentId))?.status).toBe("pending");
    expect(await cache.dbsize()).toBe(2);

    const press = stack.telegram.pressButton({
      chatId: CHAT_ID,
      messageId: card?.message_id ?? 0,
      fromUserId: 1001,
      username: "alice",
      data: buttonData(stack.telegram, card?.message_id ?? 0, "approve"),
    });
    await expect
      .poll(() => stack.telegram.answerOf(press)?.text, { timeout: 5_000 })
      .toBe("Approved: CLEAR_CACHE. Running it now.");
    await waitForChat(stack.telegram, (all) => all[0]?.text.includes("RESOLVED") ?? false, 20_000);
    expect(await cache.dbsize()).toBe(0);
    expect((await getIncident(stack.db.pool, incidentId))?.status).toBe("resolved");
    expect((await latestAction(stack.db.pool, incidentId))?.status).toBe("succeeded");
    const trail = (await auditTrail(stack.db.pool, incidentId)).map(
      (row) => `${row.actor} ${row.what}: ${row.outcome}`,
    );
    expect(trail).toEqual(
      expect.arrayContaining(["system CLEAR_CACHE: executed", "system verify CLEAR_CACHE: recovered"]),
    );
  });
});

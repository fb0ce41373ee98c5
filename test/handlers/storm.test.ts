// The shared counters behind storm-proof delivery, on the real Redis; the end of a storm on real
// PostgreSQL too.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertIncident } from "../../db/incidents.js";
import { foldOf } from "../../db/storms.js";
import type { ChatNotices, StormSummary } from "../../domain/notices.js";
import { placeIncident, syncStormCard } from "../../handlers/storm.js";
import { promotionLimit, StormGate } from "../../kv/storm-gate.js";
import { ChatBudget } from "../../kv/chat-budget.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

const prefix = uniquePrefix();
let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});

describe("ChatBudget", () => {
  it("keeps the last slots of a group's minute for urgent sends", async () => {
    const budget = new ChatBudget(redis, `${prefix}:a`, { groupPerMinute: 6, privatePerMinute: 60 });
    expect(await budget.take("-100")).toBe(0);
    expect(await budget.take("-100")).toBe(0);
    const wait = await budget.take("-100");
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_001);
    for (let slot = 0; slot < 4; slot++) expect(await budget.take("-100", "urgent")).toBe(0);
    expect(await budget.take("-100", "urgent")).toBeGreaterThan(0);
  });

  it("counts each chat on its own, with the private chat limit for user ids", async () => {
    const budget = new ChatBudget(redis, `${prefix}:b`, { groupPerMinute: 5, privatePerMinute: 6 });
    expect(await budget.take("-200")).toBe(0);
    expect(await budget.take("-200")).toBeGreaterThan(0);
    expect(await budget.take("1001")).toBe(0);
    expect(await budget.take("1001")).toBe(0);
    expect(await budget.take("1001")).toBeGreaterThan(0);
  });
});

describe("StormGate", () => {
  it("gives the first `threshold` incidents of a window their own card and folds the rest", async () => {
    const gate = new StormGate(redis, `${prefix}:c`, { threshold: 2, windowSeconds: 60 });
    expect(await gate.arrive("-1", "INC-1")).toBe(true);
    expect(await gate.arrive("-1", "INC-2")).toBe(true);
    expect(await gate.arrive("-1", "INC-3")).toBe(false);
    // an incident asked again keeps its decision, and is counted once
    expect(await gate.arrive("-1", "INC-1")).toBe(true);
    expect(await gate.arrive("-1", "INC-3")).toBe(false);
    expect(await gate.arrivals("-1")).toBe(3);
    // another chat has its own count
    expect(await gate.arrive("-2", "INC-3")).toBe(true);
  });

  it("ends the window after its seconds", async () => {
    const gate = new StormGate(redis, `${prefix}:d`, { threshold: 1, windowSeconds: 1 });
    expect(await gate.arrive("-1", "INC-1")).toBe(true);
    expect(await gate.arrive("-1", "INC-2")).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await gate.arrivals("-1")).toBe(0);
    expect(await gate.arrive("-1", "INC-4")).toBe(true);
  });

  it("allows only a few promotions per window", async () => {
    expect(promotionLimit(10)).toBe(5);
    expect(promotionLimit(1)).toBe(1);
    const gate = new StormGate(redis, `${prefix}:e`, { threshold: 4, windowSeconds: 60 });
    expect(await gate.promote("-1", "INC-1")).toBe(true);
    expect(await gate.promote("-1", "INC-2")).toBe(true);
    expect(await gate.promote("-1", "INC-3")).toBe(false);
  });
});

describe("the end of a storm", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** The chat, as the storm card sees it: what was posted and edited. */
  const shown: StormSummary[] = [];
  const notices: ChatNotices = {
    postStorm: (_chatId, summary) => Promise.resolve({ messageId: shown.push(summary) }),
    updateStorm: (_chatId, _messageId, summary) =>
      Promise.resolve(shown.push(summary) > 0 ? "updated" : "gone"),
    postEscalation: () => Promise.reject(new Error("not expected")),
  };

  async function incident(id: string, status: "open" | "awaiting_approval") {
    await insertIncident(
      db.pool,
      id,
      {
        source: "alertmanager",
        fingerprint: id,
        severity: "P2",
        title: `Alert ${id}`,
        labels: { alertname: id },
        annotations: {},
        links: [],
      },
      new Date(),
    );
    await db.pool.query("UPDATE incidents SET status = $2 WHERE id = $1", [id, status]);
    return { id, severity: "P2" as const, status };
  }

  it("gives a folded incident still waiting for an approval its own card, once the storm is over", async () => {
    const gate = new StormGate(redis, `${prefix}:f`, { threshold: 2, windowSeconds: 1 });
    const deps = { db: db.pool, gate, refresh: () => Promise.resolve() };
    const place = async (id: string, status: "open" | "awaiting_approval") =>
      (await placeIncident(deps, "-1", await incident(id, status))).kind;
    expect(await place("INC-20261124-0001", "open")).toBe("card");
    expect(await place("INC-20261124-0002", "open")).toBe("card");
    // folded, but a decision to take: promoted while the window has promotions left (1 of 1)
    expect(await place("INC-20261124-0003", "awaiting_approval")).toBe("card");
    expect(await place("INC-20261124-0004", "awaiting_approval")).toBe("folded");
    expect(await place("INC-20261124-0005", "open")).toBe("folded");
    const fold = await foldOf(db.pool, "INC-20261124-0004", "-1");

    // nothing more arrives: the next refresh ends the storm and names who still needs a person
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const synced = await syncStormCard({ db: db.pool, gate, notices }, fold?.stormId ?? 0);
    expect(synced).toMatchObject({ ended: true, endedNow: ["INC-20261124-0004"] });
    expect(shown.at(-1)?.endedAt).not.toBeNull();
    // asked again for its card, it gets one; the open P2 stays in the summary
    expect(
      (
        await placeIncident(deps, "-1", {
          id: "INC-20261124-0004",
          severity: "P2",
          status: "awaiting_approval",
        })
      ).kind,
    ).toBe("card");
    expect(
      (await placeIncident(deps, "-1", { id: "INC-20261124-0005", severity: "P2", status: "open" })).kind,
    ).toBe("folded");
    // a later refresh of the ended storm asks for nothing again
    expect(await syncStormCard({ db: db.pool, gate, notices }, fold?.stormId ?? 0)).not.toHaveProperty(
      "endedNow",
    );
  });
});

import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getIncident, listEvents } from "../../db/incidents.js";
import { ingestAlert, type IngestDeps } from "../../handlers/ingest-alert.js";
import { normalizeAlertmanager } from "../../handlers/sources/alertmanager.js";
import type { NormalizedAlert } from "../../domain/normalized-alert.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";
import { DedupWindow } from "../../kv/dedup.js";

let db: TestDatabase;
let redis: Redis;
let deps: IngestDeps;
let prefix: string;
let delivery = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
  prefix = uniquePrefix();
  deps = {
    pool: db.pool,
    dedup: new DedupWindow(redis, prefix, { alertmanager: 600, sentry: 600, signoz: 600 }),
  };
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
});

function alert(options: Parameters<typeof alertmanagerPayload>[0]): NormalizedAlert {
  const [first] = normalizeAlertmanager(alertmanagerPayload(options));
  if (first === undefined) throw new Error("no alert");
  return first;
}

const ingest = (value: NormalizedAlert, deliveryKey = `d-${++delivery}`) =>
  ingestAlert(deps, { deliveryKey, alert: value, receivedAt: new Date() });

describe("ingestAlert", () => {
  it("opens an incident with a sequential INC-YYYYMMDD-NNNN id and P0 for severity=critical", async () => {
    const first = await ingest(alert({ fingerprint: "open-1" }));
    const second = await ingest(alert({ fingerprint: "open-2" }));
    expect(first.outcome).toBe("opened");
    const today = new Date().toISOString().slice(0, 10).replaceAll("-", "");
    expect(first.incidentId).toMatch(new RegExp(`^INC-${today}-\\d{4}$`));
    const seq = (id: string | undefined) => Number(id?.slice(-4));
    expect(seq(second.incidentId)).toBe(seq(first.incidentId) + 1);
    const incident = await getIncident(db.pool, first.incidentId ?? "");
    expect(incident).toMatchObject({
      severity: "P0",
      status: "open",
      source: "alertmanager",
      occurrences: 1,
      service: "awoooi-api",
    });
    expect(incident?.target).toEqual({
      kind: "Pod",
      name: "awoooi-api-7d4b8c9f5-abc12",
      namespace: "awoooi-prod",
    });
  });

  it("folds a repeat within the window into the same incident", async () => {
    const opened = await ingest(alert({ fingerprint: "repeat" }));
    const repeated = await ingest(alert({ fingerprint: "repeat" }));
    expect(repeated).toEqual({ outcome: "deduplicated", incidentId: opened.incidentId, changed: true });
    const incident = await getIncident(db.pool, opened.incidentId ?? "");
    expect(incident?.occurrences).toBe(2);
    expect(incident?.version).toBe(2);
    expect((await listEvents(db.pool, opened.incidentId ?? "")).map((event) => event.kind)).toEqual([
      "opened",
      "repeated",
    ]);
  });

  it("still updates the live incident after the dedup window, without calling it a duplicate", async () => {
    const opened = await ingest(alert({ fingerprint: "late" }));
    await redis.del(`${prefix}:dedup:alertmanager:late`);
    const later = await ingest(alert({ fingerprint: "late" }));
    expect(later.outcome).toBe("repeated");
    expect(later.incidentId).toBe(opened.incidentId);
  });

  it("changes nothing when the same delivery is processed twice", async () => {
    const value = alert({ fingerprint: "twice" });
    const once = await ingest(value, "same-delivery");
    const before = await getIncident(db.pool, once.incidentId ?? "");
    const again = await ingest(value, "same-delivery");
    expect(again).toEqual({ outcome: "redelivered", incidentId: once.incidentId, changed: false });
    expect(await getIncident(db.pool, once.incidentId ?? "")).toEqual(before);
  });

  it("resolves the live incident, reopens it when it fires again within the window, and opens a new one after", async () => {
    const opened = await ingest(alert({ fingerprint: "flap" }));
    const resolved = await ingest(alert({ fingerprint: "flap", status: "resolved" }));
    expect(resolved.outcome).toBe("resolved");
    const incident = await getIncident(db.pool, opened.incidentId ?? "");
    expect(incident?.status).toBe("resolved");
    expect(incident?.resolvedAt?.toISOString()).toBe("2026-03-29T12:10:00.000Z");

    const again = await ingest(alert({ fingerprint: "flap", status: "resolved" }));
    expect(again.outcome).toBe("already_resolved");

    const reopened = await ingest(alert({ fingerprint: "flap" }));
    expect(reopened).toMatchObject({ outcome: "reopened", incidentId: opened.incidentId });
    expect((await getIncident(db.pool, opened.incidentId ?? ""))?.status).toBe("open");

    await ingest(alert({ fingerprint: "flap", status: "resolved" }));
    await redis.del(`${prefix}:dedup:alertmanager:flap`);
    const fresh = await ingest(alert({ fingerprint: "flap" }));
    expect(fresh.outcome).toBe("opened");
    expect(fresh.incidentId).not.toBe(opened.incidentId);
  });

  it("ignores the resolution of an alert it never saw", async () => {
    expect(await ingest(alert({ fingerprint: "never", status: "resolved" }))).toEqual({
      outcome: "unknown_resolved",
      changed: false,
    });
  });

  it("opens exactly one incident when the same new alert is processed concurrently", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => ingest(alert({ fingerprint: "race" }))),
    );
    const ids = new Set(results.map((result) => result.incidentId));
    expect(ids.size).toBe(1);
    expect(results.filter((result) => result.outcome === "opened")).toHaveLength(1);
    expect((await getIncident(db.pool, [...ids][0] ?? ""))?.occurrences).toBe(8);
  });

  it("fingerprints by sorted labels when Alertmanager sent none", () => {
    const a = alert({ fingerprint: null, labels: { b: "2", a: "1" } });
    const b = alert({ fingerprint: null, labels: { a: "1", b: "2" } });
    const c = alert({ fingerprint: null, labels: { a: "1", b: "3" } });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });
});

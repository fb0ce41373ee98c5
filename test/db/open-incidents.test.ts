// The query behind `/incidents` and its filters: a severity, a service (any case), and "mine" (who
// took the incident last with "I'm on it"; an earlier taker it was taken over from no longer counts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addEvent, insertIncident, markResolved, openIncidentsPage } from "../../db/incidents.js";
import type { Severity } from "../../domain/incident.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const rows: [string, Severity, string][] = [
    ["INC-20260329-0001", "P0", "awoooi-api"],
    ["INC-20260329-0002", "P1", "awoooi-api"],
    ["INC-20260329-0003", "P0", "billing"],
    ["INC-20260329-0004", "P0", "billing"],
  ];
  for (const [id, severity, service] of rows) {
    await insertIncident(
      db.pool,
      id,
      {
        source: "alertmanager",
        fingerprint: id,
        title: id,
        severity,
        service,
        labels: {},
        annotations: {},
        links: [],
      },
      new Date(),
    );
  }
  await markResolved(db.pool, "INC-20260329-0004", new Date());
  await addEvent(db.pool, "INC-20260329-0001", "taken", {}, "@alice");
  await addEvent(db.pool, "INC-20260329-0002", "taken", {}, "@alice");
  await addEvent(db.pool, "INC-20260329-0002", "taken", { from: "@alice" }, "@bob");
  // taken, then it resolved and fired again: the reopening cleared the acknowledgement
  await addEvent(db.pool, "INC-20260329-0003", "taken", {}, "@alice");
  await addEvent(db.pool, "INC-20260329-0003", "reopened", {});
}, 30_000);
afterAll(async () => {
  await db?.drop();
});

const ids = async (filter: Parameters<typeof openIncidentsPage>[2]) => {
  const { incidents, total } = await openIncidentsPage(db.pool, { limit: 10, offset: 0 }, filter);
  return { ids: incidents.map((incident) => incident.id).sort(), total };
};

describe("openIncidentsPage filters", () => {
  it("lists every open incident without a filter", async () => {
    expect(await ids({})).toEqual({
      ids: ["INC-20260329-0001", "INC-20260329-0002", "INC-20260329-0003"],
      total: 3,
    });
  });

  it("narrows to a severity and to a service, resolved ones left out", async () => {
    expect(await ids({ severity: "P0" })).toEqual({
      ids: ["INC-20260329-0001", "INC-20260329-0003"],
      total: 2,
    });
    expect(await ids({ service: "AWOOOI-API" })).toEqual({
      ids: ["INC-20260329-0001", "INC-20260329-0002"],
      total: 2,
    });
    expect(await ids({ service: "billing", severity: "P1" })).toEqual({ ids: [], total: 0 });
  });

  it("counts as mine only what I took last, since its latest reopening", async () => {
    expect(await ids({ takenBy: ["@alice", "tg:1001"] })).toEqual({ ids: ["INC-20260329-0001"], total: 1 });
    expect(await ids({ takenBy: ["@bob", "tg:1002"] })).toEqual({ ids: ["INC-20260329-0002"], total: 1 });
    expect(await ids({ takenBy: [] })).toEqual({ ids: [], total: 0 });
  });
});

// Approving through the API takes the same refusals as the card's button, on real PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditTrail, getAction } from "../../db/actions.js";
import { insertIncident, markResolved } from "../../db/incidents.js";
import { approveAction } from "../../handlers/approve-action.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

const INCIDENT = "INC-20261124-0001";

describe("approving through POST /api/v1/execute", () => {
  it("refuses an action of an incident that resolved meanwhile, as the card's button does", async () => {
    await insertIncident(
      db.pool,
      INCIDENT,
      {
        source: "alertmanager",
        fingerprint: "fp-1",
        severity: "P1",
        title: "ContainerNotRunning",
        labels: { alertname: "ContainerNotRunning", container: "cache-redis" },
        annotations: {},
        links: [],
      },
      new Date(),
    );
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO pending_actions (incident_id, action, params)
       VALUES ($1, 'RESTART_CONTAINER', '{"container":"cache-redis"}') RETURNING id`,
      [INCIDENT],
    );
    // the alert resolved by itself before anyone decided
    await markResolved(db.pool, INCIDENT, new Date());
    const queued: number[] = [];
    const deps = {
      db: db.pool,
      approverIds: [],
      enqueueExecution: (actionId: number) => Promise.resolve(queued.push(actionId)),
    };
    const result = await approveAction(deps, { incidentId: INCIDENT, apiActor: "bob" });
    expect(result).toEqual({ outcome: "resolved", text: `${INCIDENT} is already resolved.` });
    expect(queued).toEqual([]);
    expect((await getAction(db.pool, Number(rows[0]?.id)))?.status).toBe("pending");
    expect(
      (await auditTrail(db.pool, INCIDENT)).map((row) => `${row.actor} ${row.what}: ${row.outcome}`),
    ).toEqual(["api:bob approve: resolved"]);
  });
});

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

describe("approving from the card", () => {
  const ALICE = { userId: 1001, username: "alice" };
  const MALLORY = { userId: 3003, username: "mallory" };

  async function pendingAction(): Promise<number> {
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
    return Number(rows[0]?.id);
  }

  function deps() {
    const queued: number[] = [];
    return {
      queued,
      deps: {
        db: db.pool,
        approverIds: [ALICE.userId],
        enqueueExecution: (actionId: number) => Promise.resolve(queued.push(actionId)),
      },
    };
  }

  it("refuses someone who is not on the approver list, changes nothing, and audits it", async () => {
    const actionId = await pendingAction();
    const { deps: approve, queued } = deps();
    const result = await approveAction(approve, { incidentId: INCIDENT, ...MALLORY, actionId });
    expect(result).toEqual({ outcome: "not_allowed", text: "You are not on the approver list." });
    expect(queued).toEqual([]);
    expect(await getAction(db.pool, actionId)).toMatchObject({ status: "pending", decidedBy: null });
    expect((await auditTrail(db.pool, INCIDENT)).map((row) => `${row.actor} ${row.outcome}`)).toEqual([
      "@mallory not_allowed",
    ]);
  });

  it("approves once: a second approval of an approved action neither queues it again nor changes who decided", async () => {
    const actionId = await pendingAction();
    const { deps: approve, queued } = deps();
    expect((await approveAction(approve, { incidentId: INCIDENT, ...ALICE, actionId })).outcome).toBe(
      "approved",
    );
    // the worker has not picked it up yet: the action is still "approved", not "executing"
    const second = await approveAction(approve, {
      incidentId: INCIDENT,
      userId: ALICE.userId,
      username: "alice-again",
      actionId,
    });
    expect(second).toEqual({
      outcome: "nothing_pending",
      text: "Nothing is waiting for approval: RESTART_CONTAINER was already approved by @alice.",
    });
    expect(queued).toEqual([actionId]);
    expect(await getAction(db.pool, actionId)).toMatchObject({ status: "approved", decidedBy: "@alice" });
  });

  it("acts on nothing when the worker already moved the action on while the press was under way", async () => {
    const actionId = await pendingAction();
    const { deps: approve, queued } = deps();
    expect((await approveAction(approve, { incidentId: INCIDENT, ...ALICE, actionId })).outcome).toBe(
      "approved",
    );
    await db.pool.query(`UPDATE pending_actions SET status = 'executing' WHERE id = $1`, [actionId]);
    const late = await approveAction(approve, { incidentId: INCIDENT, ...ALICE, actionId });
    expect(late.outcome).toBe("nothing_pending");
    expect(queued).toEqual([actionId]);
    expect((await getAction(db.pool, actionId))?.status).toBe("executing");
  });
});

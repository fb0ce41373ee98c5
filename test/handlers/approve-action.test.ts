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

/** An open incident with one proposal waiting for approval; resolves with the proposal's id. */
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

describe("approving through POST /api/v1/execute", () => {
  it("refuses an action of an incident that resolved meanwhile, as the card's button does", async () => {
    const actionId = await pendingAction();
    // the alert resolved by itself before anyone decided
    await markResolved(db.pool, INCIDENT, new Date());
    const queued: number[] = [];
    const deps = {
      db: db.pool,
      approverIds: [],
      enqueueExecution: (id: number) => Promise.resolve(queued.push(id)),
    };
    const result = await approveAction(deps, { incidentId: INCIDENT, apiActor: "bob" });
    expect(result).toEqual({ outcome: "resolved", text: `${INCIDENT} is already resolved.` });
    expect(queued).toEqual([]);
    expect((await getAction(db.pool, actionId))?.status).toBe("pending");
    expect(
      (await auditTrail(db.pool, INCIDENT)).map((row) => `${row.actor} ${row.what}: ${row.outcome}`),
    ).toEqual(["api:bob approve: resolved"]);
  });
});

describe("approving from the card", () => {
  const ALICE = { userId: 1001, username: "alice" };
  const MALLORY = { userId: 3003, username: "mallory" };

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

  const trail = async () =>
    (await auditTrail(db.pool, INCIDENT)).map((row) => ({
      actor: row.actor,
      what: row.what,
      outcome: row.outcome,
      detail: row.detail,
    }));

  it("records the approval: the event, the audit row with its params, the acknowledgement", async () => {
    const actionId = await pendingAction();
    const { deps: approve, queued } = deps();
    const result = await approveAction(approve, { incidentId: INCIDENT, ...ALICE, actionId });
    expect(result).toEqual({
      outcome: "approved",
      text: "Approved: RESTART_CONTAINER. Running it now.",
      actionId,
    });
    expect(queued).toEqual([actionId]);
    expect(await trail()).toEqual([
      {
        actor: "@alice",
        what: "approve RESTART_CONTAINER",
        outcome: "approved",
        detail: { actionId, params: { container: "cache-redis" } },
      },
    ]);
    const { rows } = await db.pool.query<{ kind: string; actor: string; detail: unknown }>(
      "SELECT kind, actor, detail FROM incident_events WHERE incident_id = $1 AND kind = 'approved'",
      [INCIDENT],
    );
    expect(rows).toEqual([
      {
        kind: "approved",
        actor: "@alice",
        detail: { action: "RESTART_CONTAINER", params: { container: "cache-redis" } },
      },
    ]);
    const { rows: incident } = await db.pool.query<{ acknowledged_by: string | null }>(
      "SELECT acknowledged_by FROM incidents WHERE id = $1",
      [INCIDENT],
    );
    expect(incident[0]?.acknowledged_by).toBe("@alice");
  });

  it("approves the one pending proposal from a card too old to name it", async () => {
    const actionId = await pendingAction();
    const { deps: approve, queued } = deps();
    expect((await approveAction(approve, { incidentId: INCIDENT, ...ALICE })).outcome).toBe("approved");
    expect(queued).toEqual([actionId]);
  });

  it("approves nothing from a card that showed an older proposal, naming the one proposed now", async () => {
    const older = await pendingAction();
    await db.pool.query("UPDATE pending_actions SET status = 'rejected' WHERE id = $1", [older]);
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO pending_actions (incident_id, action, params)
       VALUES ($1, 'RESTART_POD', '{"pod":"cache-0"}') RETURNING id`,
      [INCIDENT],
    );
    const newer = Number(rows[0]?.id);
    const { deps: approve, queued } = deps();
    const result = await approveAction(approve, { incidentId: INCIDENT, ...ALICE, actionId: older });
    expect(result).toEqual({
      outcome: "stale_card",
      text: "This card showed an older proposal; RESTART_POD is proposed now. Nothing changed: look at the updated card and press again.",
    });
    expect(queued).toEqual([]);
    expect((await getAction(db.pool, newer))?.status).toBe("pending");
    expect(await trail()).toEqual([
      {
        actor: "@alice",
        what: "approve",
        outcome: "stale_card",
        detail: { shownActionId: older, pendingActionId: newer },
      },
    ]);
  });

  it("says who decided, in the words of each state, when nothing is pending", async () => {
    const actionId = await pendingAction();
    const { deps: approve } = deps();
    const cases: [string, string][] = [
      ["executing", "approved"],
      ["verifying", "approved"],
      ["succeeded", "approved"],
      ["failed", "approved"],
      ["rejected", "rejected"],
    ];
    for (const [status, word] of cases) {
      await db.pool.query("UPDATE pending_actions SET status = $2, decided_by = '@bob' WHERE id = $1", [
        actionId,
        status,
      ]);
      const result = await approveAction(approve, { incidentId: INCIDENT, ...ALICE, actionId });
      expect(result).toEqual({
        outcome: "nothing_pending",
        text: `Nothing is waiting for approval: RESTART_CONTAINER was already ${word} by @bob.`,
      });
    }
    expect((await trail()).at(-1)).toEqual({
      actor: "@alice",
      what: "approve",
      outcome: "nothing_pending",
      detail: { actionId, status: "rejected" },
    });
  });

  it("says so when no action was ever proposed", async () => {
    await pendingAction();
    await db.pool.query("DELETE FROM pending_actions WHERE incident_id = $1", [INCIDENT]);
    const { deps: approve } = deps();
    const result = await approveAction(approve, { incidentId: INCIDENT, ...ALICE });
    expect(result).toEqual({
      outcome: "nothing_pending",
      text: "Nothing is waiting for approval: no action is proposed.",
    });
    expect(await trail()).toEqual([
      { actor: "@alice", what: "approve", outcome: "nothing_pending", detail: {} },
    ]);
  });

  it("approves nothing that cannot run here, says why, and audits it", async () => {
    const actionId = await pendingAction();
    const { deps: approve, queued } = deps();
    const result = await approveAction(
      {
        ...approve,
        cannotRun: (action: string) => (action === "RESTART_CONTAINER" ? "DOCKER_HOST not set" : undefined),
      },
      { incidentId: INCIDENT, ...ALICE, actionId },
    );
    expect(result).toEqual({
      outcome: "cannot_run",
      text: "RESTART_CONTAINER can't run here: DOCKER_HOST not set. Nothing changed.",
    });
    expect(queued).toEqual([]);
    expect((await getAction(db.pool, actionId))?.status).toBe("pending");
    expect(await trail()).toEqual([
      {
        actor: "@alice",
        what: "approve RESTART_CONTAINER",
        outcome: "cannot_run",
        detail: { actionId, reason: "DOCKER_HOST not set" },
      },
    ]);
    // an executor that can run it: approved as usual
    const runs = await approveAction(
      { ...approve, cannotRun: () => undefined },
      { incidentId: INCIDENT, ...ALICE, actionId },
    );
    expect(runs.outcome).toBe("approved");
  });
});

describe("approving through the API while the incident is still open", () => {
  it("approves the pending action under the API actor's name", async () => {
    const actionId = await pendingAction();
    const queued: number[] = [];
    const result = await approveAction(
      { db: db.pool, approverIds: [], enqueueExecution: (id: number) => Promise.resolve(queued.push(id)) },
      { incidentId: INCIDENT, apiActor: "bob" },
    );
    expect(result.outcome).toBe("approved");
    expect(queued).toEqual([actionId]);
    expect((await getAction(db.pool, actionId))?.decidedBy).toBe("api:bob");
  });
});

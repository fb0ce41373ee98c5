import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { insertIncident } from "../../db/incidents.js";
import {
  incidentSignatures,
  learnFromOutcome,
  listPlaybooks,
  playbookHistory,
  playbooksFor,
  recordRejection,
} from "../../db/playbooks.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

const labels = { alertname: "KubePodCrashLooping", namespace: "awoooi-prod", pod: "api-7d9f8c6b5-abcde" };

async function incident(id: string, extra: Record<string, string> = {}) {
  return insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: `fp-${id}`,
      severity: "P1",
      title: "KubePodCrashLooping",
      labels: { ...labels, ...extra },
      annotations: {},
      links: [],
    },
    new Date(),
  );
}

describe("playbooks", () => {
  it("learn from verified outcomes under the incident's most specific signature", async () => {
    const first = await incident("INC-20261124-0001");
    await learnFromOutcome(db.pool, { incidentId: first.id, action: "RESTART_POD", outcome: "success" });
    await learnFromOutcome(db.pool, { incidentId: first.id, action: "RESTART_POD", outcome: "success" });
    await learnFromOutcome(db.pool, { incidentId: first.id, action: "RESTART_POD", outcome: "failure" });
    const signatures = incidentSignatures(first);
    expect(signatures[0]).toBe("alertmanager:KubePodCrashLooping:awoooi-prod:api");
    expect(await playbooksFor(db.pool, signatures)).toEqual([
      { signature: signatures[0], action: "RESTART_POD", successes: 2, failures: 1 },
    ]);
    const page = await listPlaybooks(db.pool, { limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ lastOutcome: "failure", lastIncidentId: first.id });
    expect(page.items[0]?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("count one action once however often its outcome is reported", async () => {
    const first = await incident("INC-20261124-0001");
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO pending_actions (incident_id, action, params) VALUES ($1, 'RESTART_POD', '{}') RETURNING id`,
      [first.id],
    );
    const actionId = Number(rows[0]?.id);
    const once = { incidentId: first.id, action: "RESTART_POD", outcome: "success", actionId } as const;
    const [a, b] = await Promise.all([learnFromOutcome(db.pool, once), learnFromOutcome(db.pool, once)]);
    expect([a, b].filter((row) => row !== undefined)).toHaveLength(1);
    expect((await playbooksFor(db.pool, incidentSignatures(first)))[0]?.successes).toBe(1);
  });

  it("remember a rejection with its reason and count it against the action", async () => {
    const first = await incident("INC-20261124-0001");
    await recordRejection(db.pool, {
      incidentId: first.id,
      action: "SCALE_UP",
      params: { namespace: "awoooi-prod", deployment: "api" },
      reason: "the node pool is full",
      actor: "@alice",
    });
    const [playbook] = await playbooksFor(db.pool, incidentSignatures(first));
    expect(playbook).toMatchObject({ action: "SCALE_UP", successes: 0, failures: 1 });
    const stored = (await listPlaybooks(db.pool, { limit: 5 })).items[0];
    expect(stored).toMatchObject({ rejections: 1, failures: 0, lastOutcome: "rejected" });
    const history = await playbookHistory(db.pool, stored?.id ?? 0);
    expect(history).toEqual([
      expect.objectContaining({
        outcome: "rejected",
        reason: "the node pool is full",
        actor: "@alice",
        params: { namespace: "awoooi-prod", deployment: "api" },
      }),
    ]);
  });

  it("match a similar incident of the same workload and page through the list", async () => {
    const first = await incident("INC-20261124-0001");
    const other = await incident("INC-20261124-0002", { alertname: "KubeDeploymentReplicasMismatch" });
    await learnFromOutcome(db.pool, { incidentId: first.id, action: "RESTART_POD", outcome: "success" });
    await learnFromOutcome(db.pool, { incidentId: other.id, action: "SCALE_UP", outcome: "success" });
    const similar = await incident("INC-20261124-0003", { pod: "api-7d9f8c6b5-zzzzz" });
    expect((await playbooksFor(db.pool, incidentSignatures(similar))).map((p) => p.action)).toEqual([
      "RESTART_POD",
    ]);
    const one = await listPlaybooks(db.pool, { limit: 1 });
    expect(one.items.map((p) => p.action)).toEqual(["SCALE_UP"]);
    expect(one.nextCursor).toBeDefined();
    const two = await listPlaybooks(db.pool, { limit: 1, cursor: one.nextCursor as string });
    expect(two.items.map((p) => p.action)).toEqual(["RESTART_POD"]);
    expect(two.nextCursor).toBeUndefined();
  });
});

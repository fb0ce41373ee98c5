// AUTO_REPAIR_AUTO_ROLLBACK undoes a rollout the repair started, and nothing else: on real
// PostgreSQL and the Kubernetes emulator, through the real executors.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listEvents, insertIncident } from "../../db/incidents.js";
import { getAction } from "../../db/actions.js";
import { ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import { type KubeExecutorDeps, scaleUp, rollback } from "../../executors/kubernetes.js";
import { executeAction, verifyAction, type ExecuteDeps } from "../../handlers/execute-action.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { bindExecutor, bindExecutors } from "../../executors/executor.js";

const NS = "awoooi-prod";
const INCIDENT = "INC-20261124-0001";
let kube: KubeEmulator;
let db: TestDatabase;

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 0 });
});
afterAll(async () => {
  await kube.close();
});
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

async function approved(action: string, deployment: string): Promise<number> {
  await insertIncident(
    db.pool,
    INCIDENT,
    {
      source: "alertmanager",
      fingerprint: `fp-${deployment}`,
      severity: "P1",
      title: "HighLatency",
      labels: { alertname: "HighLatency", namespace: NS, deployment },
      annotations: {},
      links: [],
    },
    new Date(),
  );
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO pending_actions (incident_id, action, params, status, decided_by, decided_at)
     VALUES ($1, $2, $3, 'approved', 'guardrails', now()) RETURNING id`,
    [INCIDENT, action, JSON.stringify({ namespace: NS, deployment })],
  );
  return Number(rows[0]?.id);
}

describe("automatic rollback after a failed repair", () => {
  it("does not undo the last release when a scale-up's new pods are slow to become ready", async () => {
    const gateway = ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath);
    kube.seedDeployment({ namespace: NS, name: "checkout", replicas: 1 });
    // the current release is revision 2, rolled out and healthy
    await gateway.restartDeployment(NS, "checkout", new Date());
    await expect.poll(() => gateway.rolloutComplete(NS, "checkout")).toBe(true);
    expect((await gateway.getDeployment(NS, "checkout")).revision).toBe(2);

    const kubeDeps: KubeExecutorDeps = { kube: gateway, minHealthyReplicas: 1, maxReplicas: 5 };
    const escalations: string[] = [];
    const deps: ExecuteDeps = {
      db: db.pool,
      executors: bindExecutors([bindExecutor(scaleUp, kubeDeps), bindExecutor(rollback, kubeDeps)]),
      dryRun: false,
      executionTimeoutMs: 5_000,
      autoRollback: true,
      escalate: (_incidentId, detail) => {
        escalations.push(detail);
        return Promise.resolve();
      },
      startCooldown: () => Promise.resolve(),
    };
    const actionId = await approved("SCALE_UP", "checkout");
    kube.podReadyDelayMs = 60_000; // the new replica waits for a node
    try {
      expect(await executeAction(deps, actionId)).toBe("verifying");
      expect(await verifyAction(deps, actionId, true)).toBe("failed");
    } finally {
      kube.podReadyDelayMs = 0;
    }

    expect((await getAction(db.pool, actionId))?.status).toBe("failed");
    const kinds = (await listEvents(db.pool, INCIDENT)).map((event) => event.kind);
    expect(kinds).not.toContain("rolled_back");
    // still the release that was running: no `rollout undo` to revision 1
    const state = await gateway.getDeployment(NS, "checkout");
    expect(state.revision).toBe(2);
    expect(state.replicas).toBe(2);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).not.toContain("rolled back");
  });
});

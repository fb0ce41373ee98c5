// The automatic branch of the analysis use case on real PostgreSQL and Redis: the shared budget
// decides at the moment of reservation, not at the moment the counters were read.
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AnalysisSchema } from "../../domain/analysis.js";
import { auditTrail, latestAction, pendingApprovals } from "../../db/actions.js";
import { getIncident, insertIncident, markResolved } from "../../db/incidents.js";
import { learnFromOutcome } from "../../db/playbooks.js";
import type { GuardrailPolicy } from "../../domain/decide.js";
import { RepairCountersStore } from "../../kv/repair-counters.js";
import { analyzeIncident, type AnalyzeDeps } from "../../handlers/analyze-incident.js";
import { validAnswer } from "../../dev/llm-incident.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../dev/redis.js";

let db: TestDatabase;
let redis: Redis;
let prefix: string;
beforeEach(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
  prefix = uniquePrefix();
});
afterEach(async () => {
  await db.drop();
  redis.disconnect();
  await deleteKeys(prefix);
});

const POLICY: GuardrailPolicy = {
  enabled: true,
  maxPerHour: 5,
  maxPerResourcePerHour: 3,
  minConfidence: 0.85,
  maxAffectedPods: 3,
  minHealthyReplicas: 1,
  allowedNamespaces: ["awoooi-prod"],
  autoMaxRisk: "LOW",
};
const RESOURCE = "Deployment/awoooi-prod/awoooi-api";

async function incident(id: string) {
  return insertIncident(
    db.pool,
    id,
    {
      source: "alertmanager",
      fingerprint: `fp-${id}`,
      severity: "P1",
      title: "HighErrorRate",
      labels: {
        alertname: "HighErrorRate",
        namespace: "awoooi-prod",
        deployment: "awoooi-api",
        pod: "awoooi-api-7d9f8b6c5-x2k4q",
      },
      annotations: {},
      links: [],
    },
    new Date(),
  );
}

/** The analysis use case with a model that proposes a confident LOW-risk rollout restart. */
function deps(counters: AnalyzeDeps["guardrails"]["counters"], queued: number[], seen: unknown[] = []) {
  const analysis = AnalysisSchema.parse({
    ...validAnswer(),
    provider: "ollama",
    model: "qwen2.5:7b",
    tokens: { input: 100, output: 50 },
    cost_usd: 0,
    engine: "llm",
  });
  const analyzeDeps: AnalyzeDeps = {
    pool: db.pool,
    chain: {
      analyze: (context) => {
        seen.push(context);
        return Promise.resolve({ analysis, attempts: [], warnings: [] });
      },
    },
    guardrails: { policy: POLICY, counters, registryAllows: () => ["RESTART_POD"] },
    enqueueExecution: (actionId) => {
      queued.push(actionId);
      return Promise.resolve();
    },
  };
  return analyzeDeps;
}

describe("analyzing an incident the guardrails may repair by themselves", () => {
  it("approves the action in one insert, audits the verdicts and queues it once", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const queued: number[] = [];
    const seen: { playbooks: unknown[] }[] = [];
    const first = await incident("INC-20261124-0001");
    await learnFromOutcome(db.pool, { incidentId: first.id, action: "RESTART_POD", outcome: "success" });
    const second = await incident("INC-20261124-0002");
    const result = await analyzeIncident(deps(store, queued, seen), {
      incidentId: second.id,
      requestedBy: "system",
    });
    expect(result).toMatchObject({ outcome: "analyzed" });
    const action = await latestAction(db.pool, second.id);
    expect(action).toMatchObject({ status: "approved", decidedBy: "guardrails", action: "RESTART_POD" });
    expect(queued).toEqual([action?.id]);
    expect((await getIncident(db.pool, second.id))?.status).toBe("executing");
    expect((await store.read(RESOURCE)).lastHour).toBe(1);
    const approval = (await auditTrail(db.pool, second.id)).find(
      (entry) => entry.what === "approve RESTART_POD",
    );
    expect(approval?.actor).toBe("guardrails");
    expect(approval?.detail.summary).toBe("auto: confidence 0.90 ≥ 0.85, risk LOW, 1/5 this hour");
    // the analysis saw what was learned from the first incident
    expect(seen[0]?.playbooks).toEqual([
      {
        signature: "alertmanager:HighErrorRate:awoooi-prod:awoooi-api",
        action: "RESTART_POD",
        successes: 1,
        failures: 0,
      },
    ]);
  });

  it("asks a human when another process takes the last slot between the read and the reservation", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const other = new RepairCountersStore(redis, prefix);
    const racing = {
      read: async (resource: string) => {
        const counters = await store.read(resource);
        // another bot process spends the rest of the hour's budget right after our read
        for (let n = 0; (await other.reserve(`Deployment/monitoring/elsewhere-${n}`, POLICY)).reserved; n++);
        return counters;
      },
      reserve: store.reserve.bind(store),
    };
    const queued: number[] = [];
    const id = (await incident("INC-20261124-0001")).id;
    await analyzeIncident(deps(racing, queued), { incidentId: id, requestedBy: "system" });
    expect(queued).toEqual([]);
    expect(await latestAction(db.pool, id)).toMatchObject({ status: "pending", decidedBy: null });
    expect((await getIncident(db.pool, id))?.status).toBe("awaiting_approval");
    const decision = (await auditTrail(db.pool, id)).find(
      (entry) => entry.what === "decision on RESTART_POD",
    );
    expect(decision?.outcome).toBe("approval");
    expect(decision?.detail.summary).toBe("needs approval: hourly budget spent meanwhile: 5/5 this hour");
    expect(decision?.detail.verdicts).toContainEqual({
      rule: "budget_reserved",
      kind: "soft",
      ok: false,
      detail: "hourly budget spent meanwhile: 5/5 this hour",
      params: { spent: "hourly", used: 5, max: 5, seconds: 0, resource: RESOURCE },
    });
    // nothing of ours was kept in the budget
    expect((await store.read(RESOURCE)).resourceLastHour).toBe(0);
  });

  it("asks a human instead of running an action with no target configured here", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const queued: number[] = [];
    const id = (await incident("INC-20261124-0001")).id;
    await analyzeIncident(
      { ...deps(store, queued), canExecute: (action) => action !== "RESTART_POD" },
      { incidentId: id, requestedBy: "system" },
    );
    expect(queued).toEqual([]);
    expect((await latestAction(db.pool, id))?.status).toBe("pending");
    const decision = (await auditTrail(db.pool, id)).find(
      (entry) => entry.what === "decision on RESTART_POD",
    );
    expect(decision?.detail.summary).toBe("needs approval: RESTART_POD has no target configured here");
    expect((await store.read(RESOURCE)).lastHour).toBe(0);
  });

  it("counts the pods a rollout restart replaces from the cluster, not from the model's blast radius", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const queued: number[] = [];
    const asked: string[] = [];
    const id = (await incident("INC-20261124-0001")).id;
    await analyzeIncident(
      {
        ...deps(store, queued),
        // the model declared a small blast radius; the deployment runs 10 replicas
        workload: (namespace, deployment) => {
          asked.push(`${namespace}/${deployment}`);
          return Promise.resolve({ replicas: 10, readyReplicas: 10 });
        },
      },
      { incidentId: id, requestedBy: "system" },
    );
    expect(asked).toEqual(["awoooi-prod/awoooi-api"]);
    expect(queued).toEqual([]);
    expect((await latestAction(db.pool, id))?.status).toBe("pending");
    const decision = (await auditTrail(db.pool, id)).find(
      (entry) => entry.what === "decision on RESTART_POD",
    );
    expect(decision?.outcome).toBe("approval");
    expect(decision?.detail.verdicts).toContainEqual(
      expect.objectContaining({ rule: "max_affected_pods", ok: false }),
    );
    expect((await store.read(RESOURCE)).lastHour).toBe(0);
  });

  it("gives the reserved slot back when the incident already has a running action", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const id = (await incident("INC-20261124-0001")).id;
    await db.pool.query(
      `INSERT INTO pending_actions (incident_id, action, params, status) VALUES ($1, 'RESTART_POD', '{}', 'executing')`,
      [id],
    );
    const queued: number[] = [];
    await analyzeIncident(deps(store, queued), { incidentId: id, requestedBy: "system" });
    expect(queued).toEqual([]);
    expect((await store.read(RESOURCE)).lastHour).toBe(0);
  });

  it("runs nothing and proposes nothing when the incident resolved while the model was thinking", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const id = (await incident("INC-20261124-0001")).id;
    const queued: number[] = [];
    const base = deps(store, queued);
    const resolvingMeanwhile: AnalyzeDeps = {
      ...base,
      chain: {
        analyze: async (context, options) => {
          // the alert resolves (ingest) during a slow model call
          await markResolved(db.pool, id, new Date());
          return base.chain.analyze(context, options);
        },
      },
    };
    await analyzeIncident(resolvingMeanwhile, { incidentId: id, requestedBy: "system" });
    expect(queued).toEqual([]);
    expect(await latestAction(db.pool, id)).toBeUndefined();
    expect((await getIncident(db.pool, id))?.status).toBe("resolved");
    // the reserved slot went back
    expect((await store.read(RESOURCE)).lastHour).toBe(0);
  });

  it("leaves no proposal waiting for approval on an incident that resolved during the analysis", async () => {
    const store = new RepairCountersStore(redis, prefix);
    const id = (await incident("INC-20261124-0001")).id;
    const queued: number[] = [];
    const base = { ...deps(store, queued), canExecute: () => false };
    const resolvingMeanwhile: AnalyzeDeps = {
      ...base,
      chain: {
        analyze: async (context, options) => {
          await markResolved(db.pool, id, new Date());
          return base.chain.analyze(context, options);
        },
      },
    };
    await analyzeIncident(resolvingMeanwhile, { incidentId: id, requestedBy: "system" });
    expect(await pendingApprovals(db.pool)).toEqual([]);
  });
});

describe("removing one pod", () => {
  /** A confident LOW-risk DELETE_POD of the incident's pod, with the cluster reporting `ready` of 3. */
  function deletePodDeps(ready: number, queued: number[], asked: string[]): AnalyzeDeps {
    const base = deps(new RepairCountersStore(redis, prefix), queued);
    const analysis = AnalysisSchema.parse({
      ...validAnswer(),
      suggested_action: "DELETE_POD",
      target: { kind: "Pod", namespace: "awoooi-prod", name: "awoooi-api-7d9f8b6c5-x2k4q" },
      blast_radius: { affected_pods: 1, estimated_downtime_seconds: 0 },
      confidence: 0.93,
      provider: "ollama",
      model: "qwen2.5:7b",
      tokens: { input: 100, output: 50 },
      cost_usd: 0,
      engine: "llm",
    });
    return {
      ...base,
      chain: { analyze: () => Promise.resolve({ analysis, attempts: [], warnings: [] }) },
      guardrails: { ...base.guardrails, registryAllows: () => ["DELETE_POD"] },
      workload: (namespace, deployment) => {
        asked.push(`${namespace}/${deployment}`);
        return Promise.resolve({ replicas: 3, readyReplicas: ready });
      },
    };
  }

  it("runs by itself when the pod's deployment keeps enough ready replicas", async () => {
    const queued: number[] = [];
    const asked: string[] = [];
    const id = (await incident("INC-20261124-0001")).id;
    await analyzeIncident(deletePodDeps(3, queued, asked), { incidentId: id, requestedBy: "system" });
    // the pod's own deployment was asked, by the pod's name
    expect(asked).toEqual(["awoooi-prod/awoooi-api"]);
    expect(await latestAction(db.pool, id)).toMatchObject({ status: "approved", action: "DELETE_POD" });
    expect(queued).toHaveLength(1);
    const decision = (await auditTrail(db.pool, id)).find((entry) => entry.what === "decision on DELETE_POD");
    expect(decision?.detail.verdicts).toContainEqual(
      expect.objectContaining({
        rule: "min_healthy_replicas",
        ok: true,
        detail: "2 healthy replica(s) would remain, at least 1 must",
      }),
    );
  });

  it("is refused when it would take the last ready replica", async () => {
    const queued: number[] = [];
    const id = (await incident("INC-20261124-0001")).id;
    await analyzeIncident(deletePodDeps(1, queued, []), { incidentId: id, requestedBy: "system" });
    expect(queued).toEqual([]);
    expect(await latestAction(db.pool, id)).toBeUndefined();
    const decision = (await auditTrail(db.pool, id)).find((entry) => entry.what === "decision on DELETE_POD");
    expect(decision?.outcome).toBe("refused");
    expect(decision?.detail.summary).toContain("0 healthy replica(s) would remain, at least 1 must");
  });
});

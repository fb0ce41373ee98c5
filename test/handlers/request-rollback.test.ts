// `/rollback`'s request on real PostgreSQL against the Kubernetes API emulator: the incident and
// the human "analysis" it files are written in BOT_LANGUAGE (title, summary, cause, reasoning), so
// a zh-TW chat's card does not switch to English for a rollback somebody asked for.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { latestAnalysis } from "../../db/analyses.js";
import { getIncident } from "../../db/incidents.js";
import type { GuardrailPolicy } from "../../domain/decide.js";
import type { Language } from "../../domain/i18n/index.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { ClusterKubeGateway } from "../../gateways/kube-gateway.js";
import { requestRollback, type RollbackDeps } from "../../handlers/request-rollback.js";

const APPROVER = 1001;
const NS = "shop";

let kube: KubeEmulator;
let gateway: ClusterKubeGateway;
let db: TestDatabase;

beforeAll(async () => {
  kube = await startKubeEmulator({ podReadyDelayMs: 20 });
  gateway = ClusterKubeGateway.fromKubeconfig(kube.kubeconfigPath);
  // two revisions: seeded, then restarted by a rollout
  kube.seedDeployment({ namespace: NS, name: "web", replicas: 2, image: "registry.example/web:1.0" });
  await gateway.restartDeployment(NS, "web", new Date());
  const deadline = Date.now() + 5_000;
  while (!(await gateway.rolloutComplete(NS, "web"))) {
    if (Date.now() > deadline) throw new Error(`${NS}/web did not roll out`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
afterAll(async () => {
  await kube?.close();
});
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

const POLICY: GuardrailPolicy = {
  enabled: true,
  maxPerHour: 5,
  maxPerResourcePerHour: 2,
  minConfidence: 0.8,
  maxAffectedPods: 3,
  minHealthyReplicas: 1,
  allowedNamespaces: [NS],
  autoMaxRisk: "LOW",
};

function deps(language: Language): RollbackDeps {
  return {
    db: db.pool,
    approverIds: [APPROVER],
    kube: gateway,
    guardrails: {
      policy: POLICY,
      counters: { read: () => Promise.resolve({ lastHour: 0, resourceLastHour: 0, cooldownSeconds: 0 }) },
      registryAllows: () => undefined,
    },
    enqueueCard: () => Promise.resolve(),
    language,
  };
}

async function filed(language: Language) {
  const request = await requestRollback(deps(language), {
    namespace: NS,
    deployment: "web",
    userId: APPROVER,
    actor: "@mei",
  });
  if (request.outcome !== "proposed") throw new Error(`not filed: ${JSON.stringify(request)}`);
  const incident = await getIncident(db.pool, request.incidentId);
  const analysis = (await latestAnalysis(db.pool, request.incidentId))?.analysis;
  return { incident, analysis };
}

describe("a rollback request", () => {
  it("is written in English by default, the words the audit log and the API have always had", async () => {
    const { incident, analysis } = await filed("en");
    expect(incident?.title).toBe("Rollback requested: shop/web");
    expect(incident?.summary).toBe(
      "@mei asked to roll back from revision 2 (registry.example/web:1.0) to revision 1 (registry.example/web:1.0)",
    );
    expect(analysis?.cause).toBe("rollback requested in the chat by @mei");
    expect(analysis?.reasoning).toBe(
      `${incident?.summary}. A person asked for this with /rollback; no model was involved.`,
    );
  });

  it("is written in Traditional Chinese when BOT_LANGUAGE is zh-TW, names and images as they are", async () => {
    const { incident, analysis } = await filed("zh-TW");
    expect(incident?.title).toBe("要求回滾：shop/web");
    expect(incident?.summary).toBe(
      "@mei 要求從版本 2（registry.example/web:1.0）回滾至版本 1（registry.example/web:1.0）",
    );
    expect(analysis?.cause).toBe("@mei 在聊天室要求回滾");
    expect(analysis?.reasoning).toContain("未經模型分析");
    for (const text of [incident?.title, incident?.summary, analysis?.cause, analysis?.reasoning]) {
      expect(text).not.toMatch(/requested|asked|revision|no model/);
    }
  });
});

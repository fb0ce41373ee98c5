import { describe, expect, it } from "vitest";
import { REMEDIATION_ACTIONS } from "../../domain/actions.js";
import { AnalysisContextSchema } from "../../domain/analysis-context.js";
import { analyzeOffline } from "../../ai/offline-analyzer.js";
import { EXECUTORS, proposalFor, registerExecutors } from "../../executors/index.js";
import { restartContainer } from "../../executors/restart-container.js";

describe("the executor list", () => {
  it("refuses two executors for one action", () => {
    expect(() => registerExecutors([restartContainer, restartContainer])).toThrow(
      "two executors claim RESTART_CONTAINER",
    );
  });

  it("holds only actions of the action list (domain/actions.ts), and none of the blacklisted ones", () => {
    expect([...EXECUTORS.keys()]).toEqual([
      "RESTART_CONTAINER",
      "RESTART_POD",
      "DELETE_POD",
      "SCALE_UP",
      "SCALE_DOWN",
      "ROLLBACK",
      "CLEAR_CACHE",
      "VACUUM_DB",
      "RENEW_CERT",
      "CLEANUP_LOGS",
      "SWITCH_MODEL",
      "FALLBACK_AI",
    ]);
    expect([...EXECUTORS.keys()].sort()).toEqual([...REMEDIATION_ACTIONS].sort());
    for (const name of ["DROP_DATABASE", "DELETE_NAMESPACE", "FORCE_DELETE_PVC", "DELETE_SECRET"]) {
      expect(EXECUTORS.has(name as never)).toBe(false);
    }
  });

  it("rejects params a model could smuggle a command into", () => {
    expect(restartContainer.params.safeParse({ container: "postgres; rm -rf /" }).success).toBe(false);
    expect(restartContainer.params.safeParse({ container: "postgres", command: "sh" }).success).toBe(false);
    expect(restartContainer.params.safeParse({ container: "postgres" }).success).toBe(true);
  });

  it("proposes no Deployment action for a StatefulSet target: a namesake Deployment is not the incident's", () => {
    const context = AnalysisContextSchema.parse({
      source: "alertmanager",
      title: "KubeStatefulSetReplicasMismatch",
      severity: "P2",
      status: "firing",
      labels: {
        alertname: "KubeStatefulSetReplicasMismatch",
        namespace: "awoooi-prod",
        statefulset: "redis",
      },
      annotations: {},
    });
    const analysis = analyzeOffline(context, []);
    for (const action of ["RESTART_POD", "SCALE_UP", "SCALE_DOWN"] as const) {
      const proposal = proposalFor({
        ...analysis,
        suggested_action: action,
        target: { kind: "StatefulSet", namespace: "awoooi-prod", name: "redis" },
      });
      expect(proposal).toBeUndefined();
    }
    expect(
      proposalFor({
        ...analysis,
        suggested_action: "RESTART_POD",
        target: { kind: "Deployment", namespace: "awoooi-prod", name: "redis" },
      }),
    ).toEqual({ action: "RESTART_POD", params: { namespace: "awoooi-prod", deployment: "redis" } });
  });

  it.each([
    [
      { alertname: "RedisMemoryHigh", container: "redis-sessions" },
      "CLEAR_CACHE",
      { target: "redis-sessions" },
    ],
    [
      { alertname: "PostgreSQLTableBloat", schemaname: "public", relname: "events" },
      "VACUUM_DB",
      { table: "public.events" },
    ],
    [{ alertname: "DiskSpaceLow", instance: "app-1:9100" }, "CLEANUP_LOGS", { host: "app-1" }],
    [
      { alertname: "CertificateExpiringSoon", domain: "api.example.com" },
      "RENEW_CERT",
      { certificate: "api.example.com" },
    ],
    [{ alertname: "OllamaSlowInference", model: "qwen2.5:14b" }, "SWITCH_MODEL", { model: "qwen2.5:14b" }],
    [{ alertname: "GeminiRateLimit", provider: "gemini" }, "FALLBACK_AI", { provider: "gemini" }],
  ])("turns the analyzer's target for %j into %s params naming it", (labels, action, params) => {
    const context = AnalysisContextSchema.parse({
      source: "alertmanager",
      title: labels.alertname,
      severity: "P2",
      status: "firing",
      labels,
      annotations: {},
    });
    expect(proposalFor(analyzeOffline(context, []))).toEqual({ action, params });
  });
});

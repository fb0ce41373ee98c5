// /rollback's answer once the request was filed or refused: the guardrails' verdicts in the chat's
// language (the rules' figures and names as they are), the same English words as the audit log;
// and why a deployment cannot be rolled back, in the chat's language too.
import { describe, expect, it } from "vitest";
import { renderPreview, renderRequest } from "../../bot/commands/rollback.js";
import type { Analysis } from "../../domain/analysis.js";
import { decide, type DecisionInput } from "../../domain/decide.js";
import { messagesFor } from "../../domain/i18n/index.js";

const input = (namespace: string): DecisionInput => ({
  analysis: {
    suggested_action: "ROLLBACK",
    target: { kind: "Deployment", namespace, name: "awoooi-api" },
    confidence: 1,
    risk_level: "MEDIUM",
    blast_radius: { affected_pods: 2, estimated_downtime_seconds: 0 },
    owner_team: "on-call",
    cause: "rollback requested in the chat by @alice",
    reasoning: "A person asked for this with /rollback; no model was involved.",
    provider: "human",
    model: "@alice",
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    engine: "human",
  } satisfies Analysis,
  incident: {
    source: "chatops",
    title: "rollback",
    labels: { namespace, deployment: "awoooi-api" },
    annotations: {},
  },
  registryAllows: ["ROLLBACK"],
  policy: {
    enabled: true,
    maxPerHour: 5,
    maxPerResourcePerHour: 3,
    minConfidence: 0.85,
    maxAffectedPods: 3,
    minHealthyReplicas: 1,
    allowedNamespaces: ["awoooi-prod"],
    autoMaxRisk: "LOW",
  },
  counters: { lastHour: 0, resourceLastHour: 0, cooldownSeconds: 0 },
});

describe("renderRequest", () => {
  const filed = { outcome: "proposed" as const, incidentId: "INC-20260329-0001", actionId: 7 };

  it("says in English what decide() recorded", () => {
    const decision = decide(input("awoooi-prod"));
    expect(renderRequest({ ...filed, decision }, messagesFor("en"))).toContain(`\n${decision.summary}`);
  });

  it("says the verdicts in Traditional Chinese", () => {
    const decision = decide(input("awoooi-prod"));
    expect(renderRequest({ ...filed, decision }, messagesFor("zh-TW"))).toContain(
      "\n需要簽核：風險 MEDIUM，高於 LOW",
    );
    const refused = decide(input("kube-system"));
    const failed = refused.verdicts.filter((verdict) => verdict.kind === "hard" && !verdict.ok);
    const text = renderRequest(
      { outcome: "refused", summary: refused.summary, failed },
      messagesFor("zh-TW"),
    );
    expect(text).toContain("• namespace_allowed: 命名空間 kube-system 不在 awoooi-prod 之中");
  });
});

describe("a deployment that cannot be read", () => {
  const target = { namespace: "awoooi-prod", deployment: "awoooi-apj" };
  const missing = { outcome: "not_found" as const, ...target };

  it("says it does not exist in the chat's language", () => {
    expect(renderPreview(target, missing, messagesFor("en"))).toBe(
      "Cannot roll back <b>awoooi-prod/awoooi-apj</b>: deployment awoooi-prod/awoooi-apj does not exist",
    );
    expect(renderPreview(target, missing, messagesFor("zh-TW"))).toBe(
      "無法回滾 <b>awoooi-prod/awoooi-apj</b>：deployment awoooi-prod/awoooi-apj 不存在",
    );
    expect(renderRequest({ outcome: "unavailable", preview: missing }, messagesFor("zh-TW"))).toContain(
      "deployment awoooi-prod/awoooi-apj 不存在",
    );
  });

  it("quotes the API server's message, escaped, when it could not ask", () => {
    const unreachable = { outcome: "unreachable" as const, detail: "connect ECONNREFUSED <api>" };
    expect(renderPreview(target, unreachable, messagesFor("zh-TW"))).toBe(
      "無法回滾 <b>awoooi-prod/awoooi-apj</b>：connect ECONNREFUSED &lt;api&gt;",
    );
  });
});

// The analyzer that always answers: learned playbooks first, then built-in rules for the seed's
// alerts, then "a human must look". Deterministic and free; used when every model failed or
// none is configured. Its confidence is deliberately modest.
import {
  ACTION_RISK,
  ACTION_TARGET_KINDS,
  higherRisk,
  type RiskLevel,
  type SuggestedAction,
  type TargetKind,
} from "../domain/actions.js";
import { AnalysisSchema, type Analysis } from "../domain/analysis.js";
import { stripControl, truncateText } from "./context.js";
import { type AnalysisContext, type Playbook } from "../domain/analysis-context.js";
import { MAX_RULE_CONFIDENCE, OFFLINE_RULES, type OfflineRule } from "./offline-rules.js";
import { failingPlaybook, matchPlaybooks } from "../domain/playbooks.js";
import { firstTarget, scopeFromContext, type IncidentScope, type TargetRef } from "../domain/scope.js";

const BLAST_RADIUS: Record<SuggestedAction, { pods: number; downtime: number }> = {
  RESTART_POD: { pods: 1, downtime: 0 },
  DELETE_POD: { pods: 1, downtime: 30 },
  SCALE_UP: { pods: 0, downtime: 0 },
  SCALE_DOWN: { pods: 1, downtime: 0 },
  ROLLBACK: { pods: 2, downtime: 0 },
  RESTART_CONTAINER: { pods: 0, downtime: 15 },
  CLEAR_CACHE: { pods: 0, downtime: 5 },
  VACUUM_DB: { pods: 0, downtime: 0 },
  RENEW_CERT: { pods: 0, downtime: 0 },
  CLEANUP_LOGS: { pods: 0, downtime: 0 },
  SWITCH_MODEL: { pods: 0, downtime: 30 },
  FALLBACK_AI: { pods: 0, downtime: 0 },
  NONE: { pods: 0, downtime: 0 },
  NOTIFY_ONLY: { pods: 0, downtime: 0 },
};

/** What a human-only proposal points at: the most specific resource the alert names. */
const NOTIFY_TARGET_ORDER: readonly TargetKind[] = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "Container",
  "Redis",
  "PostgresTable",
  "Model",
  "Certificate",
  "AiProvider",
  "Host",
  "Service",
  "Alert",
];

interface Proposal {
  action: SuggestedAction;
  confidence: number;
  risk?: RiskLevel | undefined;
  ownerTeam: string;
  cause: string;
  reasoning: string;
  model: string;
}

const UNKNOWN: Proposal = {
  action: "NOTIFY_ONLY",
  confidence: 0.2,
  risk: "MEDIUM",
  ownerTeam: "sre",
  cause: "沒有對應規則的告警",
  reasoning: "離線分析器沒有此告警的規則或 Playbook，需人工判斷。",
  model: "rules",
};

export function analyzeOffline(
  context: AnalysisContext,
  playbooks: readonly Playbook[] = context.playbooks,
): Analysis {
  try {
    const scope = scopeFromContext(context);
    const proposal = propose(context, playbooks, scope);
    return finish(context, scope, proposal);
  } catch (error) {
    return lastResort(error);
  }
}

function propose(
  context: AnalysisContext,
  playbooks: readonly Playbook[],
  scope: IncidentScope,
): Proposal & { target: TargetRef } {
  if (context.status === "resolved") {
    return withTarget(scope, {
      action: "NONE",
      confidence: 0.7,
      ownerTeam: "sre",
      cause: "告警已恢復",
      reasoning: "告警狀態為 resolved，服務已自行恢復，不需要執行任何動作。",
      model: "rules",
    });
  }

  for (const match of matchPlaybooks(context, playbooks)) {
    const { playbook } = match;
    const target = targetFor(scope, playbook.action);
    if (target === undefined) continue;
    return {
      action: playbook.action,
      confidence: match.confidence,
      ownerTeam: "sre",
      cause: `符合已學習的 Playbook（${playbook.action}）`,
      reasoning: `此事件符合 Playbook「${playbook.signature}」：過去成功 ${playbook.successes} 次、失敗 ${playbook.failures} 次，建議沿用 ${playbook.action}。`,
      model: "playbook",
      target,
    };
  }

  const rule = findRule(context);
  if (rule === undefined) return withTarget(scope, signalProposal(context, scope) ?? UNKNOWN);
  const failedBefore = failedBeforeReason(context, playbooks, rule.action);
  if (failedBefore !== undefined) {
    return withTarget(scope, {
      action: "NOTIFY_ONLY",
      confidence: 0.5,
      risk: "MEDIUM",
      ownerTeam: rule.ownerTeam,
      cause: rule.cause,
      reasoning: `規則建議 ${rule.action}，但${failedBefore}，重複執行可能無效，改由人工判斷。`,
      model: `rules:${rule.id}`,
    });
  }
  const proposal: Proposal = {
    action: rule.action,
    confidence: Math.min(rule.confidence, MAX_RULE_CONFIDENCE),
    risk: rule.risk,
    ownerTeam: rule.ownerTeam,
    cause: rule.cause,
    reasoning: rule.reasoning,
    model: `rules:${rule.id}`,
  };
  return withTarget(scope, proposal);
}

function findRule(context: AnalysisContext): OfflineRule | undefined {
  const name = context.labels.alertname ?? context.title;
  return OFFLINE_RULES.find(
    (rule) => (rule.source === undefined || rule.source === context.source) && rule.alert.test(name),
  );
}

/** Why the rule's action is known not to work here: a failing playbook or a failed similar incident. */
function failedBeforeReason(
  context: AnalysisContext,
  playbooks: readonly Playbook[],
  action: SuggestedAction,
): string | undefined {
  const playbook = failingPlaybook(context, playbooks, action);
  if (playbook !== undefined) {
    return `此事件的 Playbook 記錄該動作成功 ${playbook.successes} 次、失敗 ${playbook.failures} 次`;
  }
  const similar = context.similarIncidents.find(
    (i) => i.action === action && /fail|escalat/i.test(i.outcome ?? ""),
  );
  return similar === undefined ? undefined : `相似事件 ${similar.id} 執行 ${action} 後仍未恢復`;
}

/** For alerts without a rule: what the Kubernetes events say about the pod. */
function signalProposal(context: AnalysisContext, scope: IncidentScope): Proposal | undefined {
  const evidence = [...context.events.map((e) => `${e.reason} ${e.message}`), context.podLogs ?? ""].join(
    "\n",
  );
  if (scope.names.Pod.length > 0 && /OOMKill/i.test(evidence)) {
    return {
      action: "DELETE_POD",
      confidence: 0.5,
      ownerTeam: "backend",
      cause: "Pod 事件顯示 OOMKilled",
      reasoning:
        "告警名稱沒有對應規則，但 Kubernetes 事件或日誌顯示容器因記憶體不足被終止；刪除該 Pod 讓控制器重建。",
      model: "rules:signals",
    };
  }
  if (
    scope.names.Deployment.length > 0 &&
    /CrashLoopBackOff|Back-off restarting failed container/i.test(evidence)
  ) {
    return {
      action: "ROLLBACK",
      confidence: 0.45,
      ownerTeam: "backend",
      cause: "Pod 事件顯示 CrashLoopBackOff",
      reasoning: "告警名稱沒有對應規則，但 Kubernetes 事件顯示容器反覆崩潰；回滾屬 MEDIUM 風險，需人工簽核。",
      model: "rules:signals",
    };
  }
  return undefined;
}

function targetFor(scope: IncidentScope, action: SuggestedAction): TargetRef | undefined {
  const kinds =
    action === "NONE" || action === "NOTIFY_ONLY" ? NOTIFY_TARGET_ORDER : ACTION_TARGET_KINDS[action];
  return firstTarget(scope, kinds);
}

function withTarget(scope: IncidentScope, proposal: Proposal): Proposal & { target: TargetRef } {
  const target = targetFor(scope, proposal.action);
  if (target !== undefined) return { ...proposal, target };
  // The rule's action needs a resource the alert does not name: a human decides instead.
  const fallback = targetFor(scope, "NOTIFY_ONLY") ?? { kind: "Alert", name: "alert" };
  const needed = ACTION_TARGET_KINDS[proposal.action].join("/");
  return {
    ...proposal,
    action: "NOTIFY_ONLY",
    confidence: Math.min(proposal.confidence, 0.4),
    reasoning: `${proposal.reasoning}\n規則建議 ${proposal.action}，但告警沒有標示可操作的 ${needed}，改由人工處理。`,
    target: fallback,
  };
}

function finish(
  context: AnalysisContext,
  scope: IncidentScope,
  proposal: Proposal & { target: TargetRef },
): Analysis {
  const blast = BLAST_RADIUS[proposal.action];
  const analysis: Analysis = {
    suggested_action: proposal.action,
    target: toTarget(proposal.target),
    confidence: round(proposal.confidence),
    risk_level: higherRisk(proposal.risk ?? "LOW", ACTION_RISK[proposal.action]),
    blast_radius: { affected_pods: blast.pods, estimated_downtime_seconds: blast.downtime },
    owner_team: ownerTeam(context, proposal.ownerTeam),
    cause: proposal.cause,
    reasoning: truncateText(`${proposal.reasoning}\n${evidence(context, scope)}`.trim(), 2000),
    provider: "offline",
    model: proposal.model,
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    engine: "offline",
  };
  const checked = AnalysisSchema.safeParse(analysis);
  return checked.success ? checked.data : lastResort(checked.error);
}

function toTarget(target: TargetRef): Analysis["target"] {
  return target.namespace === undefined
    ? { kind: target.kind, name: target.name }
    : { kind: target.kind, name: target.name, namespace: target.namespace };
}

function ownerTeam(context: AnalysisContext, fallback: string): string {
  const declared =
    context.labels.team ??
    context.labels.owner ??
    context.labels.owner_team ??
    context.annotations.owner_team;
  const clean =
    declared === undefined
      ? ""
      : stripControl(declared)
          .replace(/[\n\t]/g, " ")
          .trim();
  return clean === "" ? fallback : truncateText(clean, 64);
}

function evidence(context: AnalysisContext, scope: IncidentScope): string {
  const lines = [`依據：告警 ${scope.names.Alert[0] ?? "alert"}（${context.severity ?? "未標示嚴重度"}）`];
  const warnings = [...new Set(context.events.filter((e) => e.type === "Warning").map((e) => e.reason))];
  if (warnings.length > 0) lines.push(`Kubernetes 警告事件：${warnings.slice(0, 5).join("、")}`);
  if (context.similarIncidents.length > 0) lines.push(`相似歷史事件 ${context.similarIncidents.length} 件`);
  lines.push("（離線規則分析，未經 AI 模型判斷）");
  return stripControl(lines.join("\n"));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function lastResort(error: unknown): Analysis {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    suggested_action: "NOTIFY_ONLY",
    target: { kind: "Alert", name: "alert" },
    confidence: 0,
    risk_level: "MEDIUM",
    blast_radius: { affected_pods: 0, estimated_downtime_seconds: 0 },
    owner_team: "sre",
    cause: "離線分析失敗",
    reasoning: truncateText(
      `離線分析器無法處理此事件，需人工判斷。（${stripControl(detail).replace(/\n/g, " ")}）`,
      2000,
    ),
    provider: "offline",
    model: "rules",
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    engine: "offline",
  };
}

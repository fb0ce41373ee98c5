// The analyzer that always answers: learned playbooks first, then built-in rules for the common
// alerts, then "a human must look"; in the chat's language (BOT_LANGUAGE). Deterministic and free; used when every model failed or
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
import { DEFAULT_LANGUAGE, type Language } from "../domain/i18n/index.js";

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

const unknown = (language: Language): Proposal => ({
  action: "NOTIFY_ONLY",
  confidence: 0.2,
  risk: "MEDIUM",
  ownerTeam: "sre",
  cause: { en: "No rule for this alert", "zh-TW": "沒有對應規則的告警" }[language],
  reasoning: {
    en: "The offline analyzer has no rule or playbook for this alert; a human decides.",
    "zh-TW": "離線分析器沒有此告警的規則或 Playbook，需人工判斷。",
  }[language],
  model: "rules",
});

/**
 * The analysis without a model. Its cause and reasoning are written in `language` (BOT_LANGUAGE),
 * like the models are asked to write theirs, so the card never mixes languages.
 */
export function analyzeOffline(
  context: AnalysisContext,
  playbooks: readonly Playbook[] = context.playbooks,
  language: Language = DEFAULT_LANGUAGE,
): Analysis {
  try {
    const scope = scopeFromContext(context);
    const proposal = propose(context, playbooks, scope, language);
    return finish(context, scope, proposal, language);
  } catch (error) {
    return lastResort(error, language);
  }
}

function propose(
  context: AnalysisContext,
  playbooks: readonly Playbook[],
  scope: IncidentScope,
  language: Language,
): Proposal & { target: TargetRef } {
  const zh = language === "zh-TW";
  if (context.status === "resolved") {
    return withTarget(
      scope,
      {
        action: "NONE",
        confidence: 0.7,
        ownerTeam: "sre",
        cause: zh ? "告警已恢復" : "The alert resolved",
        reasoning: zh
          ? "告警狀態為 resolved，服務已自行恢復，不需要執行任何動作。"
          : "The alert's status is resolved: the service recovered by itself and nothing needs to run.",
        model: "rules",
      },
      language,
    );
  }

  for (const match of matchPlaybooks(context, playbooks)) {
    const { playbook } = match;
    const target = targetFor(scope, playbook.action);
    if (target === undefined) continue;
    return {
      action: playbook.action,
      confidence: match.confidence,
      ownerTeam: "sre",
      cause: zh
        ? `符合已學習的 Playbook（${playbook.action}）`
        : `Matches a learned playbook (${playbook.action})`,
      reasoning: zh
        ? `此事件符合 Playbook「${playbook.signature}」：過去成功 ${playbook.successes} 次、失敗 ${playbook.failures} 次，建議沿用 ${playbook.action}。`
        : `This incident matches the playbook "${playbook.signature}": ${playbook.successes} successes and ${playbook.failures} failures so far, so ${playbook.action} again.`,
      model: "playbook",
      target,
    };
  }

  const rule = findRule(context);
  if (rule === undefined) {
    return withTarget(scope, signalProposal(context, scope, language) ?? unknown(language), language);
  }
  const failedBefore = failedBeforeReason(context, playbooks, rule.action, language);
  if (failedBefore !== undefined) {
    return withTarget(
      scope,
      {
        action: "NOTIFY_ONLY",
        confidence: 0.5,
        risk: "MEDIUM",
        ownerTeam: rule.ownerTeam,
        cause: rule.cause[language],
        reasoning: zh
          ? `規則建議 ${rule.action}，但${failedBefore}，重複執行可能無效，改由人工判斷。`
          : `The rule suggests ${rule.action}, but ${failedBefore}; running it again may not help, so a human decides.`,
        model: `rules:${rule.id}`,
      },
      language,
    );
  }
  const proposal: Proposal = {
    action: rule.action,
    confidence: Math.min(rule.confidence, MAX_RULE_CONFIDENCE),
    risk: rule.risk,
    ownerTeam: rule.ownerTeam,
    cause: rule.cause[language],
    reasoning: rule.reasoning[language],
    model: `rules:${rule.id}`,
  };
  return withTarget(scope, proposal, language);
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
  language: Language,
): string | undefined {
  const zh = language === "zh-TW";
  const playbook = failingPlaybook(context, playbooks, action);
  if (playbook !== undefined) {
    return zh
      ? `此事件的 Playbook 記錄該動作成功 ${playbook.successes} 次、失敗 ${playbook.failures} 次`
      : `this incident's playbook records ${playbook.successes} successes and ${playbook.failures} failures of it`;
  }
  const similar = context.similarIncidents.find(
    (i) => i.action === action && /fail|escalat/i.test(i.outcome ?? ""),
  );
  if (similar === undefined) return undefined;
  return zh
    ? `相似事件 ${similar.id} 執行 ${action} 後仍未恢復`
    : `the similar incident ${similar.id} did not recover after ${action}`;
}

/** For alerts without a rule: what the Kubernetes events say about the pod. */
function signalProposal(
  context: AnalysisContext,
  scope: IncidentScope,
  language: Language,
): Proposal | undefined {
  const zh = language === "zh-TW";
  const evidence = [...context.events.map((e) => `${e.reason} ${e.message}`), context.podLogs ?? ""].join(
    "\n",
  );
  if (scope.names.Pod.length > 0 && /OOMKill/i.test(evidence)) {
    return {
      action: "DELETE_POD",
      confidence: 0.5,
      ownerTeam: "backend",
      cause: zh ? "Pod 事件顯示 OOMKilled" : "The pod's events show OOMKilled",
      reasoning: zh
        ? "告警名稱沒有對應規則，但 Kubernetes 事件或日誌顯示容器因記憶體不足被終止；刪除該 Pod 讓控制器重建。"
        : "No rule names this alert, but the Kubernetes events or logs show the container killed for lack of memory; deleting the pod lets its controller recreate it.",
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
      cause: zh ? "Pod 事件顯示 CrashLoopBackOff" : "The pod's events show CrashLoopBackOff",
      reasoning: zh
        ? "告警名稱沒有對應規則，但 Kubernetes 事件顯示容器反覆崩潰；回滾屬 MEDIUM 風險，需人工簽核。"
        : "No rule names this alert, but the Kubernetes events show the container crashing again and again; a rollback is MEDIUM risk and needs approval.",
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

function withTarget(
  scope: IncidentScope,
  proposal: Proposal,
  language: Language,
): Proposal & { target: TargetRef } {
  const target = targetFor(scope, proposal.action);
  if (target !== undefined) return { ...proposal, target };
  // The rule's action needs a resource the alert does not name: a human decides instead.
  const fallback = targetFor(scope, "NOTIFY_ONLY") ?? { kind: "Alert", name: "alert" };
  const needed = ACTION_TARGET_KINDS[proposal.action].join("/");
  return {
    ...proposal,
    action: "NOTIFY_ONLY",
    confidence: Math.min(proposal.confidence, 0.4),
    reasoning:
      language === "zh-TW"
        ? `${proposal.reasoning}\n規則建議 ${proposal.action}，但告警沒有標示可操作的 ${needed}，改由人工處理。`
        : `${proposal.reasoning}\nThe rule suggests ${proposal.action}, but the alert names no ${needed} to act on, so a human handles it.`,
    target: fallback,
  };
}

function finish(
  context: AnalysisContext,
  scope: IncidentScope,
  proposal: Proposal & { target: TargetRef },
  language: Language,
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
    reasoning: truncateText(`${proposal.reasoning}\n${evidence(context, scope, language)}`.trim(), 2000),
    provider: "offline",
    model: proposal.model,
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    engine: "offline",
  };
  const checked = AnalysisSchema.safeParse(analysis);
  return checked.success ? checked.data : lastResort(checked.error, language);
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

function evidence(context: AnalysisContext, scope: IncidentScope, language: Language): string {
  const alert = scope.names.Alert[0] ?? "alert";
  const warnings = [...new Set(context.events.filter((e) => e.type === "Warning").map((e) => e.reason))];
  const similar = context.similarIncidents.length;
  const lines =
    language === "zh-TW"
      ? [
          `依據：告警 ${alert}（${context.severity ?? "未標示嚴重度"}）`,
          ...(warnings.length > 0 ? [`Kubernetes 警告事件：${warnings.slice(0, 5).join("、")}`] : []),
          ...(similar > 0 ? [`相似歷史事件 ${similar} 件`] : []),
          "（離線規則分析，未經 AI 模型判斷）",
        ]
      : [
          `Evidence: alert ${alert} (${context.severity ?? "no severity"})`,
          ...(warnings.length > 0 ? [`Kubernetes warning events: ${warnings.slice(0, 5).join(", ")}`] : []),
          ...(similar > 0 ? [`${similar} similar past incident(s)`] : []),
          "(offline rules, no AI model involved)",
        ];
  return stripControl(lines.join("\n"));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function lastResort(error: unknown, language: Language = DEFAULT_LANGUAGE): Analysis {
  const detail = stripControl(error instanceof Error ? error.message : String(error)).replace(/\n/g, " ");
  const zh = language === "zh-TW";
  return {
    suggested_action: "NOTIFY_ONLY",
    target: { kind: "Alert", name: "alert" },
    confidence: 0,
    risk_level: "MEDIUM",
    blast_radius: { affected_pods: 0, estimated_downtime_seconds: 0 },
    owner_team: "sre",
    cause: zh ? "離線分析失敗" : "The offline analysis failed",
    reasoning: truncateText(
      zh
        ? `離線分析器無法處理此事件，需人工判斷。（${detail}）`
        : `The offline analyzer could not handle this incident; a human decides. (${detail})`,
      2000,
    ),
    provider: "offline",
    model: "rules",
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    engine: "offline",
  };
}

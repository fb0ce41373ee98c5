// Built-in remediation rules for the common alerts and the action table, each cause and reasoning
// in both chat languages.
// Their confidence stays at or below 0.75: a rule alone never reaches the auto-run threshold.
import type { RiskLevel, SuggestedAction } from "../domain/actions.js";
import type { Language } from "../domain/i18n/index.js";

/** A text in each language the chat speaks (BOT_LANGUAGE). */
export type Bilingual = Readonly<Record<Language, string>>;

export interface OfflineRule {
  id: string;
  /** Tested against the alert name (Alertmanager `alertname`, or the title). */
  alert: RegExp;
  /** Only for alerts from this source. */
  source?: "alertmanager" | "sentry" | "signoz";
  action: SuggestedAction;
  confidence: number;
  /** Raised above the action's own risk, e.g. CRITICAL for "a node is down, a human must look". */
  risk?: RiskLevel;
  ownerTeam: string;
  /** In both chat languages: the card shows the one of BOT_LANGUAGE. */
  cause: Bilingual;
  reasoning: Bilingual;
}

export const MAX_RULE_CONFIDENCE = 0.75;

export const OFFLINE_RULES: readonly OfflineRule[] = [
  {
    id: "node-down",
    alert: /^(NodeDown|NodeNotReady|KubeNodeNotReady|KubeNodeUnreachable|NodeUnreachable)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.7,
    risk: "CRITICAL",
    ownerTeam: "infra",
    cause: { en: "The node is down or unreachable", "zh-TW": "節點離線或失聯" },
    reasoning: {
      en: "A node-level failure (power, network, kubelet) is not something the bot can repair safely; NodeDown needs a human.",
      "zh-TW":
        "節點層級故障（電源、網路、kubelet）無法由機器人安全修復；修復規則表規定 NodeDown 需人工介入。",
    },
  },
  {
    id: "control-plane-down",
    alert: /^(K3sAPIServerDown|KubeAPIDown|KubeAPIServerDown|etcd\w*|PrometheusDown|AlertmanagerDown)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.65,
    risk: "CRITICAL",
    ownerTeam: "infra",
    cause: { en: "The control plane or a monitoring component failed", "zh-TW": "控制平面或監控元件失效" },
    reasoning: {
      en: "With the control plane or monitoring down, automatic repair itself is unreliable; a human confirms first.",
      "zh-TW": "控制平面與監控元件失效時自動修復本身不可靠，須由人工確認後處理。",
    },
  },
  {
    id: "database-down",
    alert: /^(PostgreSQLDown|PostgresDown|PgDown|DBConnectionFailed)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.75,
    ownerTeam: "data",
    cause: { en: "PostgreSQL does not answer", "zh-TW": "PostgreSQL 無回應" },
    reasoning: {
      en: "The PostgreSQL probe failed; the remediation table restarts the container (restart_container). Check the disk and WAL before restarting.",
      "zh-TW":
        "PostgreSQL 探測失敗，修復規則表建議重啟容器（restart_container）；重啟前應確認磁碟與 WAL 狀態。",
    },
  },
  {
    id: "redis-down",
    alert: /^(RedisDown|RedisUnavailable)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.75,
    ownerTeam: "data",
    cause: { en: "Redis does not answer", "zh-TW": "Redis 無回應" },
    reasoning: {
      en: "redis_up is 0; the remediation table restarts the Redis container (restart_container).",
      "zh-TW": "redis_up 為 0，修復規則表建議重啟 Redis 容器（restart_container）。",
    },
  },
  {
    id: "redis-memory",
    alert: /^(RedisMemoryHigh|RedisMemoryExhausted|RedisOutOfMemory|StaleCache)$/i,
    action: "CLEAR_CACHE",
    confidence: 0.6,
    ownerTeam: "data",
    cause: { en: "Redis memory use is too high", "zh-TW": "Redis 記憶體使用過高" },
    reasoning: {
      en: "Redis memory is above its threshold; clearing the cache (FLUSHDB) frees memory but empties the whole cache: MEDIUM risk, needs approval.",
      "zh-TW":
        "Redis 記憶體超過門檻；清除快取（FLUSHDB）可釋放記憶體，但會讓快取全部失效，屬 MEDIUM 風險，需人工簽核。",
    },
  },
  {
    id: "postgres-bloat",
    alert: /^(PostgreSQLTableBloat|TableBloat|PostgreSQLSlowQuer(y|ies)|SlowQuery|PostgresDeadTuples\w*)$/i,
    action: "VACUUM_DB",
    confidence: 0.6,
    ownerTeam: "data",
    cause: { en: "Table bloat or slow queries", "zh-TW": "資料表膨脹或慢查詢" },
    reasoning: {
      en: "Table bloat (dead tuples) often causes slow queries; VACUUM ANALYZE reclaims space and refreshes statistics: MEDIUM risk, needs approval.",
      "zh-TW":
        "資料表膨脹（dead tuples）常導致慢查詢；VACUUM ANALYZE 可回收空間並更新統計資訊，屬 MEDIUM 風險，需人工簽核。",
    },
  },
  {
    id: "connection-pool",
    alert: /^(PostgreSQLConnectionPoolHigh|ConnectionPoolExhausted)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.6,
    risk: "MEDIUM",
    ownerTeam: "data",
    cause: { en: "The database connection pool is near its limit", "zh-TW": "資料庫連線池接近上限" },
    reasoning: {
      en: "Connections near the limit usually mean the application leaks them (analyze_connection_leaks); no automatic action is safe, a human analyses it.",
      "zh-TW":
        "連線數接近上限通常是應用程式連線洩漏；修復規則表為 analyze_connection_leaks，沒有安全的自動動作，需人工分析。",
    },
  },
  {
    id: "api-down",
    alert: /^(AWOOOIAPIDown|APIHealthCheckFailed|ApiDown|ServiceDown)$/i,
    action: "RESTART_POD",
    confidence: 0.7,
    ownerTeam: "backend",
    cause: { en: "The API health check failed", "zh-TW": "API 健康檢查失敗" },
    reasoning: {
      en: "The API probe failed; the remediation table does a rollout restart of the deployment (restart_pod), which keeps the other replicas serving.",
      "zh-TW":
        "API 探測失敗，修復規則表建議對 deployment 進行 rollout restart（restart_pod），滾動重啟不中斷其他副本。",
    },
  },
  {
    id: "crash-loop",
    alert: /^(PodCrashLoopBackOff|KubePodCrashLooping|CrashLoopBackOff)$/i,
    action: "ROLLBACK",
    confidence: 0.65,
    ownerTeam: "backend",
    cause: { en: "The pod is in CrashLoopBackOff", "zh-TW": "Pod 持續 CrashLoopBackOff" },
    reasoning: {
      en: "The container keeps crashing, most often because of a new version or a bad setting; the remediation table collects the logs and rolls back (collect_logs_and_rollback). A rollback is MEDIUM risk and needs approval.",
      "zh-TW":
        "容器反覆崩潰，最常見原因是新版本或設定錯誤；修復規則表為收集日誌後回滾（collect_logs_and_rollback）。回滾屬 MEDIUM 風險，需人工簽核。",
    },
  },
  {
    id: "deployment-failed",
    alert: /^(DeploymentFailed|VersionDrift|KubeDeploymentRolloutStuck|KubeDeploymentGenerationMismatch)$/i,
    action: "ROLLBACK",
    confidence: 0.6,
    ownerTeam: "backend",
    cause: { en: "The deployment failed or its version drifted", "zh-TW": "部署失敗或版本漂移" },
    reasoning: {
      en: "The new version did not finish rolling out; rolling back to the previous revision restores the service: MEDIUM risk, needs approval.",
      "zh-TW": "新版本未能完成部署，回滾到上一個 revision 可恢復服務；屬 MEDIUM 風險，需人工簽核。",
    },
  },
  {
    id: "oom-or-stuck",
    alert:
      /^(OOMKilled|PodOOMKilled|KubePodOOMKilled|ContainerOOMKilled|PodStuck\w*|KubePodNotReady|PodNotReady)$/i,
    action: "DELETE_POD",
    confidence: 0.7,
    ownerTeam: "backend",
    cause: { en: "The pod was OOMKilled or is stuck", "zh-TW": "Pod 被 OOMKilled 或卡住" },
    reasoning: {
      en: "One pod is unhealthy (OOMKilled or stuck); deleting it lets its controller recreate it, and only that pod is affected.",
      "zh-TW": "單一 Pod 異常（OOMKilled／卡住），刪除該 Pod 讓控制器重建，影響範圍僅一個 Pod。",
    },
  },
  {
    id: "high-cpu",
    alert: /^(HighCPUUsage|CPUThrottlingHigh|HighCPU|QueueBacklog|SlowResponse|SlowTransaction)$/i,
    action: "SCALE_UP",
    confidence: 0.65,
    ownerTeam: "backend",
    cause: { en: "CPU load is too high", "zh-TW": "CPU 負載過高" },
    reasoning: {
      en: "Load is above its threshold; the remediation table adds a replica where possible (scale_up_if_possible), which leaves the current traffic alone.",
      "zh-TW":
        "負載超過門檻，修復規則表建議在可行時擴充副本（scale_up_if_possible），增加一個副本不影響現有流量。",
    },
  },
  {
    id: "high-memory",
    alert: /^(HighMemoryUsage|MemoryLeak\w*)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.6,
    risk: "MEDIUM",
    ownerTeam: "backend",
    cause: { en: "Memory use is too high, likely a memory leak", "zh-TW": "記憶體使用過高，疑似記憶體洩漏" },
    reasoning: {
      en: "The remediation table investigates the leak (investigate_memory_leak); a restart would only hide it for a while, a human analyses it.",
      "zh-TW": "修復規則表為調查記憶體洩漏（investigate_memory_leak）；重啟只會暫時掩蓋問題，需人工分析。",
    },
  },
  {
    id: "high-latency",
    alert: /^(APIHighLatency|HighLatency)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.55,
    risk: "MEDIUM",
    ownerTeam: "backend",
    cause: { en: "API latency is too high", "zh-TW": "API 延遲過高" },
    reasoning: {
      en: "The remediation table analyses the slow endpoints (analyze_slow_endpoints); finding the bottleneck needs traces, and no safe action applies directly.",
      "zh-TW":
        "修復規則表為分析慢端點（analyze_slow_endpoints），需要追蹤資料判斷瓶頸，沒有可直接套用的安全動作。",
    },
  },
  {
    id: "error-rate",
    alert: /^(HighErrorRate|High5xxRate|ErrorRateHigh)$/i,
    action: "RESTART_POD",
    confidence: 0.65,
    ownerTeam: "backend",
    cause: { en: "The HTTP 5xx error rate is too high", "zh-TW": "HTTP 5xx 錯誤率過高" },
    reasoning: {
      en: "More than 1% of responses are 5xx; the remediation table restarts the pod (restart_pod). If the errors come from a downstream dependency a restart will not help: read the logs first.",
      "zh-TW":
        "5xx 比例超過 1%，修復規則表建議重啟 Pod（restart_pod）；若錯誤來自下游相依服務，重啟無效，應先檢查日誌。",
    },
  },
  {
    id: "ollama-slow",
    alert: /^(OllamaSlowInference|OllamaTimeout|InferenceTimeout|AnalysisTimeout)$/i,
    action: "SWITCH_MODEL",
    confidence: 0.75,
    ownerTeam: "ai-platform",
    cause: { en: "Ollama inference is too slow", "zh-TW": "Ollama 推理過慢" },
    reasoning: {
      en: "Inference takes more than 60 s; the remediation table switches to a smaller model (switch_to_smaller_model).",
      "zh-TW": "推理時間超過 60 秒，修復規則表建議切換到較小的模型（switch_to_smaller_model）。",
    },
  },
  {
    id: "ollama-down",
    alert: /^(OllamaUnresponsive|OllamaDown|ModelLoadFailed)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.7,
    ownerTeam: "ai-platform",
    cause: {
      en: "Ollama does not answer or its model failed to load",
      "zh-TW": "Ollama 無回應或模型載入失敗",
    },
    reasoning: {
      en: "The Ollama service does not answer; the AI-layer monitoring table restarts the container.",
      "zh-TW": "Ollama 服務無回應，依 AI 層監控表重啟容器。",
    },
  },
  {
    id: "container-down",
    alert:
      /^(OpenClawDown|ContainerUnhealthy|ContainerDown|HarborDown|SentryDown|LangfuseDown|SignOzUIDown)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.75,
    ownerTeam: "platform",
    cause: { en: "The container's health check failed", "zh-TW": "容器健康檢查失敗" },
    reasoning: {
      en: "The Docker container's health check failed; the remediation table restarts the container (restart_container).",
      "zh-TW": "Docker 容器健康檢查失敗，修復規則表建議重啟容器（restart_container）。",
    },
  },
  {
    id: "disk-space",
    alert: /^(DiskSpaceLow|NodeFilesystemSpaceFillingUp|NodeFilesystemAlmostOutOfSpace|DiskPressure)$/i,
    action: "CLEANUP_LOGS",
    confidence: 0.7,
    ownerTeam: "infra",
    cause: { en: "Disk space is running out", "zh-TW": "磁碟剩餘空間不足" },
    reasoning: {
      en: "Less than 15% is free; the remediation table removes logs older than 7 days (cleanup_old_logs).",
      "zh-TW": "可用空間低於 15%，修復規則表建議清理 7 天前的舊日誌（cleanup_old_logs）。",
    },
  },
  {
    id: "certificate",
    alert: /^(CertificateExpiringSoon|CertExpiring|SSLCertExpiringSoon|CertificateExpiry)$/i,
    action: "RENEW_CERT",
    confidence: 0.75,
    ownerTeam: "infra",
    cause: { en: "A certificate is about to expire", "zh-TW": "憑證即將到期" },
    reasoning: {
      en: "The certificate expires within 14 days; the remediation table renews it (renew_certificate).",
      "zh-TW": "憑證在 14 天內到期，修復規則表建議自動續期（renew_certificate）。",
    },
  },
  {
    id: "ai-rate-limit",
    alert:
      /^(GeminiRateLimit|ClaudeRateLimit|\w*RateLimitHit|\w*BudgetExceeded|HighTokenCost|AnalysisFailed)$/i,
    action: "FALLBACK_AI",
    confidence: 0.75,
    ownerTeam: "ai-platform",
    cause: { en: "An AI provider is rate-limited or over budget", "zh-TW": "AI 供應商限流或超出預算" },
    reasoning: {
      en: "The AI provider answered 429 or is over budget; the action table moves analyses to the next provider (FALLBACK_AI).",
      "zh-TW": "AI 供應商回應 429 或超出預算，依動作表將分析改由下一個供應商處理（FALLBACK_AI）。",
    },
  },
  {
    id: "resource-waste",
    alert: /^(ResourceWaste|LowCPUUsage|OverProvisioned)$/i,
    action: "SCALE_DOWN",
    confidence: 0.5,
    ownerTeam: "backend",
    cause: { en: "Resource use has been low for a long time", "zh-TW": "資源使用率長期偏低" },
    reasoning: {
      en: "There are more replicas than needed; scaling down is MEDIUM risk, a human checks the traffic pattern first.",
      "zh-TW": "副本數高於實際需求；縮減副本屬 MEDIUM 風險，需人工確認流量模式。",
    },
  },
  {
    id: "runner-backup",
    alert:
      /^(GitHubRunnerOffline|RunnerOffline|BackupNotSuccessful|BackupFailed|LangfuseTraceLoss|JobStuck)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.6,
    risk: "MEDIUM",
    ownerTeam: "devops",
    cause: { en: "A CI, backup or tracing component is unhealthy", "zh-TW": "CI／備份／追蹤元件異常" },
    reasoning: {
      en: "The suggested repairs (restart the runner, trigger a backup, reconnect Langfuse) are not among the actions the bot can run; a human handles it.",
      "zh-TW": "建議的修復（重啟 runner 服務、觸發備份、重連 Langfuse）不在可執行動作清單內，需人工處理。",
    },
  },
  {
    id: "sentry-new-error",
    alert: /.*/,
    source: "sentry",
    action: "NOTIFY_ONLY",
    confidence: 0.5,
    risk: "MEDIUM",
    ownerTeam: "backend",
    cause: { en: "Sentry reports a new application error", "zh-TW": "Sentry 回報新的應用程式錯誤" },
    reasoning: {
      en: "A new unhandled exception needs a developer's judgement; without a matching playbook nothing runs automatically.",
      "zh-TW": "新的未處理例外需要開發者判斷；沒有相符的 Playbook 時不自動執行任何動作。",
    },
  },
];

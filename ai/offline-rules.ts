// Built-in remediation rules for the seed's alerts (section 2) and the action table (3.2).
// Their confidence stays at or below 0.75: a rule alone never reaches the auto-run threshold.
import type { RiskLevel, SuggestedAction } from "../domain/actions.js";

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
  cause: string;
  reasoning: string;
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
    cause: "節點離線或失聯",
    reasoning: "節點層級故障（電源、網路、kubelet）無法由機器人安全修復；種子文件規定 NodeDown 需人工介入。",
  },
  {
    id: "control-plane-down",
    alert: /^(K3sAPIServerDown|KubeAPIDown|KubeAPIServerDown|etcd\w*|PrometheusDown|AlertmanagerDown)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.65,
    risk: "CRITICAL",
    ownerTeam: "infra",
    cause: "控制平面或監控元件失效",
    reasoning: "控制平面與監控元件失效時自動修復本身不可靠，須由人工確認後處理。",
  },
  {
    id: "database-down",
    alert: /^(PostgreSQLDown|PostgresDown|PgDown|DBConnectionFailed)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.75,
    ownerTeam: "data",
    cause: "PostgreSQL 無回應",
    reasoning:
      "PostgreSQL 探測失敗，種子規則建議重啟容器（restart_container）；重啟前應確認磁碟與 WAL 狀態。",
  },
  {
    id: "redis-down",
    alert: /^(RedisDown|RedisUnavailable)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.75,
    ownerTeam: "data",
    cause: "Redis 無回應",
    reasoning: "redis_up 為 0，種子規則建議重啟 Redis 容器（restart_container）。",
  },
  {
    id: "redis-memory",
    alert: /^(RedisMemoryHigh|RedisMemoryExhausted|RedisOutOfMemory|StaleCache)$/i,
    action: "CLEAR_CACHE",
    confidence: 0.6,
    ownerTeam: "data",
    cause: "Redis 記憶體使用過高",
    reasoning:
      "Redis 記憶體超過門檻；清除快取（FLUSHDB）可釋放記憶體，但會讓快取全部失效，屬 MEDIUM 風險，需人工簽核。",
  },
  {
    id: "postgres-bloat",
    alert: /^(PostgreSQLTableBloat|TableBloat|PostgreSQLSlowQuer(y|ies)|SlowQuery|PostgresDeadTuples\w*)$/i,
    action: "VACUUM_DB",
    confidence: 0.6,
    ownerTeam: "data",
    cause: "資料表膨脹或慢查詢",
    reasoning:
      "資料表膨脹（dead tuples）常導致慢查詢；VACUUM ANALYZE 可回收空間並更新統計資訊，屬 MEDIUM 風險，需人工簽核。",
  },
  {
    id: "connection-pool",
    alert: /^(PostgreSQLConnectionPoolHigh|ConnectionPoolExhausted)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.6,
    risk: "MEDIUM",
    ownerTeam: "data",
    cause: "資料庫連線池接近上限",
    reasoning:
      "連線數接近上限通常是應用程式連線洩漏；種子規則為 analyze_connection_leaks，沒有安全的自動動作，需人工分析。",
  },
  {
    id: "api-down",
    alert: /^(AWOOOIAPIDown|APIHealthCheckFailed|ApiDown|ServiceDown)$/i,
    action: "RESTART_POD",
    confidence: 0.7,
    ownerTeam: "backend",
    cause: "API 健康檢查失敗",
    reasoning:
      "API 探測失敗，種子規則建議對 deployment 進行 rollout restart（restart_pod），滾動重啟不中斷其他副本。",
  },
  {
    id: "crash-loop",
    alert: /^(PodCrashLoopBackOff|KubePodCrashLooping|CrashLoopBackOff)$/i,
    action: "ROLLBACK",
    confidence: 0.65,
    ownerTeam: "backend",
    cause: "Pod 持續 CrashLoopBackOff",
    reasoning:
      "容器反覆崩潰，最常見原因是新版本或設定錯誤；種子規則為收集日誌後回滾（collect_logs_and_rollback）。回滾屬 MEDIUM 風險，需人工簽核。",
  },
  {
    id: "deployment-failed",
    alert: /^(DeploymentFailed|VersionDrift|KubeDeploymentRolloutStuck|KubeDeploymentGenerationMismatch)$/i,
    action: "ROLLBACK",
    confidence: 0.6,
    ownerTeam: "backend",
    cause: "部署失敗或版本漂移",
    reasoning: "新版本未能完成部署，回滾到上一個 revision 可恢復服務；屬 MEDIUM 風險，需人工簽核。",
  },
  {
    id: "oom-or-stuck",
    alert:
      /^(OOMKilled|PodOOMKilled|KubePodOOMKilled|ContainerOOMKilled|PodStuck\w*|KubePodNotReady|PodNotReady)$/i,
    action: "DELETE_POD",
    confidence: 0.7,
    ownerTeam: "backend",
    cause: "Pod 被 OOMKilled 或卡住",
    reasoning: "單一 Pod 異常（OOMKilled／卡住），刪除該 Pod 讓控制器重建，影響範圍僅一個 Pod。",
  },
  {
    id: "high-cpu",
    alert: /^(HighCPUUsage|CPUThrottlingHigh|HighCPU|QueueBacklog|SlowResponse|SlowTransaction)$/i,
    action: "SCALE_UP",
    confidence: 0.65,
    ownerTeam: "backend",
    cause: "CPU 負載過高",
    reasoning:
      "負載超過門檻，種子規則建議在可行時擴充副本（scale_up_if_possible），增加一個副本不影響現有流量。",
  },
  {
    id: "high-memory",
    alert: /^(HighMemoryUsage|MemoryLeak\w*)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.6,
    risk: "MEDIUM",
    ownerTeam: "backend",
    cause: "記憶體使用過高，疑似記憶體洩漏",
    reasoning: "種子規則為調查記憶體洩漏（investigate_memory_leak）；重啟只會暫時掩蓋問題，需人工分析。",
  },
  {
    id: "high-latency",
    alert: /^(APIHighLatency|HighLatency)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.55,
    risk: "MEDIUM",
    ownerTeam: "backend",
    cause: "API 延遲過高",
    reasoning:
      "種子規則為分析慢端點（analyze_slow_endpoints），需要追蹤資料判斷瓶頸，沒有可直接套用的安全動作。",
  },
  {
    id: "error-rate",
    alert: /^(HighErrorRate|High5xxRate|ErrorRateHigh)$/i,
    action: "RESTART_POD",
    confidence: 0.65,
    ownerTeam: "backend",
    cause: "HTTP 5xx 錯誤率過高",
    reasoning:
      "5xx 比例超過 1%，種子規則建議重啟 Pod（restart_pod）；若錯誤來自下游相依服務，重啟無效，應先檢查日誌。",
  },
  {
    id: "ollama-slow",
    alert: /^(OllamaSlowInference|OllamaTimeout|InferenceTimeout|AnalysisTimeout)$/i,
    action: "SWITCH_MODEL",
    confidence: 0.75,
    ownerTeam: "ai-platform",
    cause: "Ollama 推理過慢",
    reasoning: "推理時間超過 60 秒，種子規則建議切換到較小的模型（switch_to_smaller_model）。",
  },
  {
    id: "ollama-down",
    alert: /^(OllamaUnresponsive|OllamaDown|ModelLoadFailed)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.7,
    ownerTeam: "ai-platform",
    cause: "Ollama 無回應或模型載入失敗",
    reasoning: "Ollama 服務無回應，依 AI 層監控表重啟容器。",
  },
  {
    id: "container-down",
    alert:
      /^(OpenClawDown|ContainerUnhealthy|ContainerDown|HarborDown|SentryDown|LangfuseDown|SignOzUIDown)$/i,
    action: "RESTART_CONTAINER",
    confidence: 0.75,
    ownerTeam: "platform",
    cause: "容器健康檢查失敗",
    reasoning: "Docker 容器健康檢查失敗，種子規則建議重啟容器（restart_container）。",
  },
  {
    id: "disk-space",
    alert: /^(DiskSpaceLow|NodeFilesystemSpaceFillingUp|NodeFilesystemAlmostOutOfSpace|DiskPressure)$/i,
    action: "CLEANUP_LOGS",
    confidence: 0.7,
    ownerTeam: "infra",
    cause: "磁碟剩餘空間不足",
    reasoning: "可用空間低於 15%，種子規則建議清理 7 天前的舊日誌（cleanup_old_logs）。",
  },
  {
    id: "certificate",
    alert: /^(CertificateExpiringSoon|CertExpiring|SSLCertExpiringSoon|CertificateExpiry)$/i,
    action: "RENEW_CERT",
    confidence: 0.75,
    ownerTeam: "infra",
    cause: "憑證即將到期",
    reasoning: "憑證在 14 天內到期，種子規則建議自動續期（renew_certificate）。",
  },
  {
    id: "ai-rate-limit",
    alert:
      /^(GeminiRateLimit|ClaudeRateLimit|\w*RateLimitHit|\w*BudgetExceeded|HighTokenCost|AnalysisFailed)$/i,
    action: "FALLBACK_AI",
    confidence: 0.75,
    ownerTeam: "ai-platform",
    cause: "AI 供應商限流或超出預算",
    reasoning: "AI 供應商回應 429 或超出預算，依動作表將分析改由下一個供應商處理（FALLBACK_AI）。",
  },
  {
    id: "resource-waste",
    alert: /^(ResourceWaste|LowCPUUsage|OverProvisioned)$/i,
    action: "SCALE_DOWN",
    confidence: 0.5,
    ownerTeam: "backend",
    cause: "資源使用率長期偏低",
    reasoning: "副本數高於實際需求；縮減副本屬 MEDIUM 風險，需人工確認流量模式。",
  },
  {
    id: "runner-backup",
    alert:
      /^(GitHubRunnerOffline|RunnerOffline|BackupNotSuccessful|BackupFailed|LangfuseTraceLoss|JobStuck)$/i,
    action: "NOTIFY_ONLY",
    confidence: 0.6,
    risk: "MEDIUM",
    ownerTeam: "devops",
    cause: "CI／備份／追蹤元件異常",
    reasoning:
      "種子建議的修復（重啟 runner 服務、觸發備份、重連 Langfuse）不在可執行動作清單內，需人工處理。",
  },
  {
    id: "sentry-new-error",
    alert: /.*/,
    source: "sentry",
    action: "NOTIFY_ONLY",
    confidence: 0.5,
    risk: "MEDIUM",
    ownerTeam: "backend",
    cause: "Sentry 回報新的應用程式錯誤",
    reasoning: "新的未處理例外需要開發者判斷；沒有相符的 Playbook 時不自動執行任何動作。",
  },
];

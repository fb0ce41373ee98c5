// Every text the bot writes into the chat, in Traditional Chinese (Taiwan): the same keys and
// arguments as `en.ts`, which the type `Messages` enforces and test/domain/i18n.test.ts checks at
// run time. The card's labels follow the template the team started from (🤖 AI 分析 · 👥 責任 ·
// 📊 信心 · 💡 原因 · 🔧 建議 · ⏱️ 停機; ✅ 簽核 ❌ 拒絕 ⏰ 稍後 🔕 靜默 👀 認領). Commands, setting
// names, label matchers and durations typed by people (30m, 2h) stay as they are typed.
import { formatCount, type Messages } from "./en.js";

export const zhTW: Messages = {
  language: "zh-TW",

  common: {
    unknown: "不明",
    moreLines: ({ count }) => `… 另有 ${count} 行未顯示`,
    unassigned: "未指派",
    someone: "某人",
    none: "無",
    seconds: ({ count }) => `${count} 秒`,
    minutes: ({ count }) => `${count} 分鐘`,
    hours: ({ count }) => `${count} 小時`,
  },

  card: {
    severity: { P0: "緊急", P1: "高", P2: "中" },
    status: {
      open: "未處理",
      analyzing: "分析中",
      awaiting_approval: "待簽核",
      executing: "執行中",
      verifying: "驗證中",
      resolved: "已解決",
      failed: "修復失敗",
      escalated: "已升級",
      silenced: "已靜默",
      snoozed: "稍後處理",
    },
    source: {
      alertmanager: "Alertmanager",
      sentry: "Sentry",
      signoz: "SigNoz",
      chatops: "聊天室請求",
    },
    unknownService: "不明服務",
    resolvedHeader: ({ service }) => `已解決 | ${service}`,
    wasSeverity: ({ severity }) => ` · 原為${severity}`,
    via: ({ source }) => `來源 ${source}`,
    resolvedAt: ({ time }) => `解決於 ${time}`,
    takenOverFrom: ({ who }) => `（接手自 ${who}）`,
    onIt: ({ who, since }) => `👀 處理中：${who}，自 ${since}`,
    takenBy: ({ who, at }) => `👀 由 ${who} 認領於 ${at}`,
    serviceOwner: ({ team }) => `🏷️ 服務負責：${team}`,
    slo: ({ slo }) => ` · SLO ${slo}`,
    occurrences: ({ count }) => `🔁 發生 ${formatCount(count)} 次`,
    firstLast: ({ first, last }) => `首次 ${first} · 最近 ${last}`,
    requested: "人工請求",
    requestedBy: ({ who }) => `：${who}`,
    aiAnalysis: "AI 分析",
    owner: ({ team }) => `👥 責任：${team}`,
    confidence: ({ value }) => `📊 信心：${value}`,
    cause: ({ cause }) => `💡 原因：${cause}`,
    suggested: ({ action }) => `🔧 建議：${action}`,
    cannotRun: ({ why }) => `🚫 此處無法執行：${why}`,
    downtime: ({ downtime }) => `⏱️ 停機：${downtime}`,
    tokens: ({ tokens }) => `💰 Token：${tokens}`,
    cost: ({ cost }) => `💰 費用：${cost}`,
    analysisFailed: ({ why }) => `🤖 AI 分析：失敗：${why}`,
    analysisNotRun: "🤖 AI 分析：未執行",
    analysisPending: "🤖 AI 分析：進行中…",
    earlier: ({ count }) => `更早 ${formatCount(count)} 筆`,
    noDowntime: "預計無",
    downtimeAbout: ({ span }) => `約 ${span}`,
    secondsShort: ({ count }) => `${count} 秒`,
    offlineEngine: ({ model }) => `離線分析 ${model}`,
    humanEngine: "人工請求",
  },

  buttons: {
    approve: "✅ 簽核",
    reject: "❌ 拒絕",
    snooze: "⏰ 稍後",
    silence: "🔕 靜默",
    take: "👀 認領",
    details: "🔎 詳情",
    cancel: "↩️ 取消",
    minutes: ({ count }) => `${count} 分鐘`,
    hours: ({ count }) => `${count} 小時`,
  },

  history: {
    tookOver: ({ who, from }) => `👀 ${who} 接手自 ${from}`,
    onIt: ({ who }) => `👀 ${who} 認領處理`,
    closed: ({ resolution }) => `✅ 已關閉：${resolution}`,
    resolved: ({ who }) => `✅ 已解決（${who}）`,
    reopened: "🔁 解決後再次觸發",
    approved: ({ action, who }) => `✅ ${action} 由 ${who} 簽核`,
    executed: ({ action }) => `🔧 ${action} 已執行`,
    dryRun: ({ action }) => `🧪 ${action} 演練：未變更任何東西`,
    verified: ({ detail }) => `🩺 已驗證：${detail}`,
    evidenceJoiner: "；",
    executionFailed: ({ action, error }) => `❌ ${action} 失敗：${error}`,
    analysisFailed: ({ error }) => `⚠️ 分析失敗：${error}`,
    rolledBack: ({ deployment, revision }) =>
      `↩️ ${deployment} 已自動回滾${revision === "" ? "" : `至版本 ${revision}`}`,
    rollbackFailed: ({ error }) => `↩️ 未完成自動回滾：${error}`,
    rejected: ({ what, who, reason }) => `❌ ${what} 被 ${who} 拒絕：「${reason}」`,
    analysis: "分析",
    snoozed: ({ who, until }) => `⏰ ${who} 設為稍後處理，至 ${until}`,
    snoozeEnded: "⏰ 稍後時間已到，仍未解決",
    silenced: ({ who, until, local }) => `🔕 ${who} 靜默至 ${until}${local ? "（僅機器人）" : ""}`,
    escalatedRepairFailed: "⏫ 已升級：修復失敗",
    escalatedSla: ({ span }) => `⏫ 已升級：${span}無人回應`,
  },

  decision: {
    nothingToRun: "無可執行動作：需由人工查看",
    joiner: "；",
    refused: ({ details }) => `已拒絕：${details}`,
    approval: ({ details }) => `需要簽核：${details}`,
    auto: ({ details }) => `自動執行：${details}`,
    autoWhy: ({ confidence, min, risk, used, max }) =>
      `信心 ${confidence} ≥ ${min}，風險 ${risk}，本小時 ${used}/${max}`,
  },

  // Setting names, actions, resources and the scope's own reason stay as they are written.
  verdict: {
    not_blacklisted: ({ action, ok }) => (ok ? `${action} 不在禁止清單` : `${action} 在禁止清單中`),
    remediation_proposed: ({ action }) => `${action} 不是修復動作`,
    target_in_incident: ({ resource, problem, ok }) =>
      ok ? `${resource} 是此事件自己的資源` : `目標不屬於此事件：${problem}`,
    namespace_allowed: ({ namespace, allowed, ok }) =>
      ok ? `命名空間 ${namespace} 已允許` : `命名空間 ${namespace} 不在 ${allowed} 之中`,
    min_healthy_replicas: ({ known, left, min, unready }) =>
      known
        ? `將剩 ${left} 個健康副本${unready ? "（該 Pod 未就緒）" : ""}，至少須有 ${min} 個`
        : "健康副本數不明",
    rollout_strategy: ({ strategy }) => `策略 ${strategy}：所有 Pod 先停止再啟動新的，預期會停機`,
    hpa_owned: ({ owner, name, min, max }) =>
      owner === "unknown"
        ? "不確定副本數是否由自動擴縮器管理"
        : owner === "none"
          ? "副本數不由 HorizontalPodAutoscaler 管理"
          : `副本數由 HorizontalPodAutoscaler ${name} 管理（${min}–${max}）：手動擴縮會被還原`,
    rollout_progressing: ({ seconds }) => `上次部署超過進度期限（${seconds} 秒）：重啟會以同一範本再部署一次`,
    auto_repair_enabled: ({ setting, ok }) =>
      ok ? `${setting}（自動修復已開啟）` : `${setting}=false（自動修復已關閉）`,
    registry_allows: ({ registered, action, ok }) =>
      !registered
        ? "服務不在服務登錄中"
        : ok
          ? `服務登錄允許 ${action}`
          : `服務登錄不允許此服務執行 ${action}`,
    risk: ({ risk, declared, max, ok }) =>
      `風險 ${risk}${risk === declared ? "" : `（由 ${declared} 調高：Recreate）`}${ok ? "" : `，高於 ${max}`}`,
    confidence: ({ confidence, min, ok }) => `信心 ${confidence} ${ok ? "≥" : "<"} ${min}`,
    max_affected_pods: ({ pods, max }) => `影響 ${pods} 個 Pod，上限 ${max}`,
    hourly_budget: ({ used, max }) => `本小時 ${used}/${max}`,
    resource_budget: ({ used, max, resource }) => `${resource} 本小時 ${used}/${max}`,
    cooldown: ({ seconds, ok }) => (ok ? "無冷卻" : `修復失敗後冷卻中：尚餘 ${seconds} 秒`),
    executor_configured: ({ action }) => `此處沒有可執行 ${action} 的目標`,
    budget_reserved: ({ spent, used, max, seconds, resource }) =>
      spent === "cooldown"
        ? `修復失敗後冷卻中：尚餘 ${seconds} 秒`
        : spent === "hourly"
          ? `本小時額度已在期間用完：${used}/${max}`
          : `${resource} 的額度已在期間用完：本小時 ${used}/${max}`,
  },

  failure: {
    timeout: ({ ms }) => `執行逾時（${ms % 1000 === 0 ? `${ms / 1000} 秒` : `${ms} 毫秒`}）`,
    execution_failed: ({ error }) => `執行失敗：${error}`,
    params_refused: ({ problem }) => `參數被拒：${problem}`,
    guard: ({ rule, reason }) => `防護檢查 ${rule} 未通過：${reason}`,
    no_verifier: () => "無法驗證：沒有執行器",
    verify_params_refused: ({ problem }) => `無法驗證：參數被拒：${problem}`,
    not_recovered: ({ waiting }) => `期限前未恢復：${waiting}`,
    cannot_run: ({ action, why }) => `${action} 無法在此執行：${why}`,
    rollback_impossible: () => "無法自動回滾：未設定 ROLLBACK 執行器",
    rollback_refused: ({ problem }) => `自動回滾被拒：${problem}`,
    rollback_guard: ({ rule, reason }) => `自動回滾被拒：防護檢查 ${rule} 未通過：${reason}`,
    rollback_failed: ({ error }) => `自動回滾失敗：${error}`,
    verify_failed: ({ detail }) => detail,
    abandoned: () => "執行超過時限仍未結束（執行程序遺失？）；它可能已變更了東西，因此不會再自動執行",
  },

  refusal: {
    forbidden: ({ action, verifying, user, verb, resource, apiGroup, namespace }) =>
      `${verifying ? "驗證 " : ""}${action} 遭叢集拒絕：RBAC 不允許 ${user} ${verb} ${resource}${apiGroup === "" ? "" : `（API 群組 ${apiGroup}）`}${namespace === "" ? "（叢集範圍）" : `（命名空間 ${namespace}）`}。未變更任何東西；請在 Role（deploy/k8s/base/rbac.yaml）授權，或手動處理。`,
    forbidden_unnamed: ({ action, verifying, message }) =>
      `${verifying ? "驗證 " : ""}${action} 遭叢集拒絕：${message}。未變更任何東西；請在 Role（deploy/k8s/base/rbac.yaml）授權，或手動處理。`,
    disruption_budget: ({ action, deployment, detail }) =>
      `${action} 暫不執行：PodDisruptionBudget 目前不允許中斷 ${deployment}（${detail}）。未變更任何東西；待預算允許後再試。`,
  },

  guardReason: {
    logs_unconfigured: () => "未設定任何 cleanup_logs 目錄",
    logs_elsewhere: ({ hosts, host }) => `設定的目錄位於 ${hosts}，不在 ${host}`,
    logs_directory_unlisted: ({ directory, configured }) =>
      `${directory} 不是設定的日誌目錄（已設定：${configured}）`,
    logs_directory_missing: ({ directory }) => `日誌目錄 ${directory} 不存在`,
    logs_not_a_directory: ({ directory }) => `${directory} 不是目錄`,
    cache_unlisted: ({ target, configured }) =>
      `${target} 不是設定的 Redis 目標（已設定：${configured === "" ? "無" : configured}）`,
    cache_unreachable: ({ target, error }) => `Redis 目標 ${target} 未回應 PING：${error}`,
    provider_none_active: () => "分析鏈中沒有啟用中的供應商",
    provider_unlisted: ({ provider, chain }) =>
      `${provider} 不是分析鏈中設定的供應商（${chain === "" ? "無" : chain}）`,
    provider_already_skipped: ({ provider }) => `${provider} 已被略過`,
    provider_last: ({ provider }) => `${provider} 是最後一個啟用中的供應商；略過它就只剩離線分析器`,
    deployment_missing: ({ namespace, deployment }) => `deployment ${namespace}/${deployment} 不存在`,
    pod_unowned: ({ pod }) => `${pod} 不屬於任何 deployment`,
    pod_missing: ({ namespace, pod }) => `pod ${namespace}/${pod} 不存在`,
    pod_terminating: ({ namespace, pod }) =>
      `pod ${namespace}/${pod} 已在 Terminating；再刪除一次也不會改變什麼`,
    pod_last_ready: ({ left, deployment, min }) =>
      `${deployment} 將只剩 ${left} 個就緒副本，至少需要 ${min} 個`,
    hpa_owned: ({ hpa, namespace, deployment, min, max }) =>
      `HorizontalPodAutoscaler ${hpa} 管理 ${namespace}/${deployment} 的副本數（${min}–${max}）：手動調整會被還原；請改調整 HPA`,
    scale_above_max: ({ replicas, max }) => `${replicas} 個副本將超過上限 ${max}`,
    scale_below_min: ({ replicas, min }) => `${replicas} 個副本將少於下限 ${min}`,
    no_earlier_revision: () => "沒有更早的版本可回復",
    cert_unlisted: ({ certificate, configured }) =>
      `${certificate} 不是設定的憑證（已設定：${configured === "" ? "無" : configured}）`,
    cert_not_executable: ({ program }) => `${program} 不是可執行檔`,
    container_not_allowed: ({ container }) => `容器 ${container} 不在允許清單中`,
    container_missing: ({ container }) => `找不到名為 ${container} 的容器`,
    model_no_fallback: () => "未設定備用模型（OLLAMA_FALLBACK_MODEL）",
    model_no_ollama: () => "Ollama 不在分析鏈中",
    model_already_fallback: ({ model }) => `Ollama 已在使用 ${model}`,
    model_other: ({ active, model }) =>
      `分析鏈向 Ollama 要求的是 ${active === "" ? "（未指定模型）" : active}，不是 ${model}`,
    database_unlisted: ({ database }) => `${database} 不是設定的 PostgreSQL 目標`,
    table_unlisted_in: ({ table, database, listed }) =>
      `${table} 未列在 ${database} 之下（已列出：${listed}）`,
    table_unlisted: ({ table }) => `${table} 未列在任何設定的資料庫之下`,
    table_ambiguous: ({ table, databases }) =>
      `${table} 同時列在 ${databases.split(", ").join("、")} 之下；請指定資料庫`,
    table_missing: ({ table, database }) => `資料表 ${table} 不存在於 ${database}`,
  },

  executeError: {
    command_failed: ({ action, program, ended, seconds, signal, exitCode, output }) =>
      `${action}：${program} ${
        ended === "timeout"
          ? `逾時（${seconds} 秒）`
          : ended === "aborted"
            ? "已中止"
            : ended === "killed"
              ? `被${signal === "" ? "訊號" : ` ${signal} `}終止`
              : `以結束碼 ${exitCode} 結束`
      }${output === "" ? "" : `：${output}`}`,
    rechecked: ({ action, reason }) => `${action}：${reason}`,
    not_configured: ({ action, name }) => `${action}：${name} 未設定`,
    no_redis_target: ({ action, name }) => `${action}：${name} 不是已設定的 Redis 目標`,
    no_directories: ({ action }) => `${action}：未設定任何目錄`,
    no_container: ({ action, container }) => `${action}：沒有名為 ${container} 的容器`,
    no_table: ({ action, table }) => `${action}：資料表 ${table} 不存在`,
    no_fallback_model: ({ action }) => `${action}：未設定備援模型`,
  },

  alertmanagerError: {
    unreachable: ({ error }) => `無法連線 Alertmanager：${error}`,
    refused: ({ status, answer }) => `Alertmanager 拒絕了靜默（${status}）：${answer}`,
    no_silence_id: () => "Alertmanager 的回應沒有靜默 ID",
    not_listed: ({ status }) => `Alertmanager 未列出它的靜默（${status}）`,
    unknown_list: () => "Alertmanager 列出的靜默格式不明",
    no_standing: ({ id, status, answer }) => `Alertmanager 未說明 ${id} 的狀態（${status}）：${answer}`,
    no_state: () => "Alertmanager 的回應沒有靜默狀態",
    not_expired: ({ id, status, answer }) => `Alertmanager 拒絕讓 ${id} 失效（${status}）：${answer}`,
    failed: ({ error }) => `Alertmanager 失敗：${error}`,
  },

  statusDetail: {
    no_answer: ({ ms }) => `${ms} 毫秒內無回應`,
    configured: () => "已設定",
    model_missing: ({ model, status }) => `模型 ${model} 不存在（${status}）`,
    model_not_pulled: ({ model }) => `模型 ${model} 尚未下載到伺服器`,
    no_structured_output: ({ model }) => `模型 ${model} 不支援結構化輸出（output_config.format）`,
    structured_output: ({ model }) => `${model}：支援結構化輸出`,
    window: ({ model, window, trained }) =>
      `${model}：視窗最多 ${window} 個 token${trained === 0 ? "" : `（訓練長度 ${trained}）`}`,
    thinks: ({ model, budget }) => `${model}（會思考；預算 ${budget} 個 token）`,
    token_rejected: ({ method, description }) =>
      `權杖遭拒（${method}：401 ${description}）；請向 @BotFather 核對 TELEGRAM_BOT_TOKEN`,
    calls_failing: ({ seconds, failures, method, error }) =>
      `呼叫已失敗 ${seconds} 秒（${failures} 次嘗試，最後一次 ${method}：${error}）；卡片會等到它回應（TELEGRAM_API_ROOT）`,
    polling_conflict: ({ seconds, detail }) =>
      `輪詢衝突已 ${seconds} 秒（409 ${detail}）；另有程序用同一個 bot 權杖輪詢：請停止它，或給它自己的權杖`,
    polling_stopped: ({ detail }) =>
      `輪詢已停止（${detail === "" ? "未說明原因" : detail}）；在 bot 重新啟動前，按鈕與指令都不會有回應`,
    nobody_polls_standby: () => "沒有程序在輪詢；每個 bot 程序都在待命，沒有一個持有輪詢租約",
    nobody_polls_silent: ({ process, seconds }) =>
      `沒有程序在輪詢；bot 程序 ${process} 已 ${seconds} 秒未回報（被終止或卡住？），且沒有其他 bot 程序在執行`,
    redis_rdb: ({ snapshots }) => `只有快照（save ${snapshots}）`,
    redis_none: () => "未開啟 appendonly，也沒有快照：不會寫入磁碟",
    redis_unknown: () => "不允許 CONFIG，INFO 也未顯示 append-only 檔案",
  },

  analysisError: {
    schema_mismatch: ({ problem }) => `事件資料不符分析的結構（${problem}）`,
    not_stored: ({ incident }) => `${incident} 的分析未能儲存`,
  },

  verifyDetail: {
    logs_remain: ({ remaining, found }) => `${found} 個舊檔中仍有 ${remaining} 個未刪除`,
    logs_cleaned: ({ cutoff, found }) => `已無早於 ${cutoff} 的檔案（原有 ${found} 個）`,
    cache_flushed: ({ target, before, now }) => `${target}：清除前 ${before} 個鍵，現在 ${now} 個`,
    cache_not_fewer: ({ target, before, now }) => `${target}：${now} 個鍵，未少於清除前的 ${before} 個`,
    provider_not_skipped: ({ provider }) => `${provider} 未被略過`,
    provider_skipped: ({ provider, until, next }) =>
      `${provider} 略過至 ${until}；改由${next === "" ? "離線分析器" : ` ${next} `}先回答`,
    rollout_deadline: ({ namespace, deployment, seconds }) =>
      `${namespace}/${deployment}：rollout 超過進度期限（${seconds} 秒，ProgressDeadlineExceeded）`,
    rollout_complete: ({ namespace, deployment, ready, want }) =>
      `${namespace}/${deployment}：${ready}/${want} 就緒，rollout 完成`,
    rollout_waiting: ({ namespace, deployment, message }) => `${namespace}/${deployment}：${message}`,
    revision_not_created: () => "新版本尚未建立",
    pod_not_deleted: ({ pod }) => `${pod} 尚未刪除`,
    pod_left_terminating: ({ namespace, deployment, ready, want, pod, node, state, reason }) =>
      `${namespace}/${deployment}：${ready}/${want} 就緒，rollout 完成；${pod} 仍在 Terminating${
        node === ""
          ? ""
          : state === "missing"
            ? `，位於已不存在的節點 ${node}：不強制刪除就不會消失`
            : state === "not_ready"
              ? `，位於未就緒的節點 ${node}（${reason}）：要等節點恢復或強制刪除才會消失`
              : `，位於節點 ${node}（寬限期進行中）`
      }`,
    cert_exit_nonzero: () => "續期指令的結束碼不是 0",
    cert_exited: () => "續期指令以結束碼 0 結束",
    cert_missing: ({ file }) => `${file} 不存在`,
    cert_not_rewritten: ({ file }) => `結束碼為 0，但 ${file} 未被改寫`,
    cert_rewritten: ({ file, at }) => `結束碼為 0；${file} 已於 ${at} 改寫`,
    container_gone: ({ container }) => `容器 ${container} 已不存在`,
    container_replaced: ({ container }) => `容器 ${container} 已被另一個同名容器取代`,
    container_status: ({ status }) => `容器狀態為 ${status}`,
    container_stopped: ({ status, exitCode }) => `容器狀態為 ${status}（結束碼 ${exitCode}）`,
    container_not_restarted: ({ since }) => `容器自 ${since} 起未曾重新啟動`,
    healthcheck_starting: () => "健康檢查啟動中",
    container_unhealthy: () => "容器不健康",
    container_running: ({ since, healthcheck }) =>
      `自 ${since} 起執行中（${healthcheck ? "健康" : "無健康檢查"}）`,
    model_not_set: ({ model }) => `Ollama 未設為 ${model}`,
    model_switched: ({ model, previous, until }) =>
      `Ollama 改用 ${model} 回答，取代${previous === "" ? "原本的模型" : ` ${previous}`}，直到 ${until}`,
    table_gone: ({ table }) => `資料表 ${table} 已不存在`,
    table_vacuumed: ({ table, vacuumed, analyzed }) =>
      `${table}：已於 ${vacuumed} VACUUM、${analyzed} ANALYZE`,
    table_not_vacuumed: ({ table, since }) =>
      `${table}：統計資料顯示${since === "" ? "從未 VACUUM" : `自 ${since} 起未再 VACUUM`}`,
    target_unreadable: ({ error }) => `無法讀取目標：${error}`,
    alert_resolved: () => "告警已解除",
    probe_answered: ({ url, status }) => `GET ${url} → ${status}`,
    probe_failed: ({ url, error }) => `GET ${url} 失敗：${error}`,
    probe_silent: ({ url, ms }) => `GET ${url} 失敗：${ms} 毫秒內無回應`,
  },

  cannotRun: {
    kubernetes: "未設定 Kubernetes 叢集（未設定 KUBECONFIG）",
    docker: "未設定 Docker 引擎（未設定 DOCKER_HOST）",
    noExecutor: "沒有為它設定執行器",
  },

  notes: {
    closedNoAction: ({ resolution }) => `已關閉，無需處理：${resolution}`,
    truncatedAlerts: ({ count }) => `Alertmanager 略去了此群組的 ${count} 則告警（truncatedAlerts）`,
    cut: ({ fields, more }) => `已截斷：${fields}${more > 0 ? `；另有 ${more} 項` : ""}`,
  },

  storm: {
    over: ({ folded, open }) => `告警風暴結束：共 ${folded} 件事件，${open} 件仍未解決`,
    resumed: "已恢復逐件卡片。所有事件：/incidents",
    title: ({ folded }) => `告警風暴：${folded} 件事件收合於此`,
    since: ({ time }) => `（自 ${time}）`,
    stillOpen: ({ count }) => `未解決 ${count}`,
    awaitingApproval: ({ count }) => `⏳ ${count} 件待簽核`,
    escalated: ({ count }) => `⏫ ${count} 件已升級`,
    services: ({ list }) => `服務：${list}`,
    newest: "最新：",
    resumeBelow: ({ threshold, window }) =>
      `每 ${window}新事件少於 ${threshold} 件時恢復逐件卡片；P0 與待簽核事件仍各有卡片。所有事件：/incidents`,
  },

  escalation: {
    noOncall: "（未設定值班人員：請設定 TELEGRAM_ONCALL_USERNAMES）",
    repairFailed: ({ detail }) => `修復失敗${detail === "" ? "" : `：${detail}`}`,
    failed: ({ action, error, then }) => `${action} 失敗：${error}${then === "" ? "" : `；${then}`}`,
    rolledBack: ({ revision }) => `已自動回滾${revision === "" ? "" : `至版本 ${revision}`}`,
    unacknowledged: ({ span }) => `已${span}無人回應`,
    storm: ({ escalated }) =>
      `已收合於告警風暴卡片；其中 ${escalated} 件事件至今已升級（不另行通知）。請見 /incidents`,
  },

  reminder: {
    snoozeOver: ({ id, title, who }) => `⏰ 稍後時間已到：${id} 仍未解決（${title}；由 ${who} 設定）。`,
  },

  commands: {
    status: "Redis、PostgreSQL、佇列、LLM 供應商與執行器的健康狀態",
    incidents: "未解決事件，由新到舊（可篩選：P0、服務名稱、mine）；點選查看詳情",
    ack: "認領：接手處理事件（停止 SLA 升級）；也可接手他人的事件",
    silence: "依標籤暫時靜默告警；列出或結束靜默",
    rollback: "將 deployment 回滾至上一版本（需簽核）",
    whoami: "此聊天室的 id 與您的使用者 id，供機器人設定使用",
    help: "機器人的功能，以及誰可以使用",
  },

  help: {
    title: "🤖 ChatOps 機器人",
    approversOnly: " · 🔐 僅限簽核者",
    incidentIdArg: "<事件 id>",
    serviceArg: "<服務>",
    reasonArg: "[原因]",
    idArg: "<id>",
    buttonsTitle: "卡片按鈕",
    buttons:
      "：✅ 簽核、❌ 拒絕、⏰ 稍後與 🔕 靜默需要簽核權限；👀 認領（與 /ack）供值班回應者使用；🔎 詳情所有人皆可使用。",
    who: "簽核者為 TELEGRAM_APPROVER_IDS 中的 Telegram 使用者 id；回應者為簽核者加上 TELEGRAM_RESPONDER_IDS。",
  },

  drillDown: {
    sections: {
      overview: "📋 概覽",
      timeline: "🕒 時間軸",
      analysis: "🤖 分析",
      kube: "📜 日誌與事件",
      similar: "🔁 相似事件",
      playbooks: "📚 Playbook",
    },
    done: "✖️ 完成",
    closed: "已關閉。",
    missing: ({ id }) => `事件 ${id} 不存在。`,
    slaResolved: "⏱ SLA：已解決",
    slaDueNow: ({ at }) => `⏱ SLA：即將升級（${at}）`,
    slaRunning: ({ left, at }) => `⏱ SLA：若無人認領，${left}後升級（${at}）`,
    slaSnoozed: ({ until }) => `⏱ SLA：稍後處理中，暫停至 ${until}`,
    slaEscalated: ({ since, at }) => `⏱ SLA：${since}前已升級（${at}），仍無人認領`,
    slaAcknowledged: ({ who, since, at }) => `⏱ SLA：已停止，${who} 於 ${since}前回應（${at}）`,
    slaAfterEscalating: ({ at }) => `，在 ${at} 升級之後`,
    status: ({ status, source }) => `狀態：${status} · 來源 ${source}`,
    service: ({ service }) => `服務：${service}`,
    target: ({ target }) => `目標：${target}`,
    occurrences: ({ count, first, last }) => `發生次數：${count} · 首次 ${first} · 最近 ${last}`,
    summary: ({ summary }) => `摘要：${summary}`,
    acknowledged: ({ who, at }) => `${who} 於 ${at} 回應`,
    snoozed: ({ who, until }) => `${who} 設為稍後處理，至 ${until}`,
    escalatedAt: ({ at }) => `升級於 ${at}`,
    resolvedAt: ({ at }) => `解決於 ${at}`,
    labels: "標籤",
    noEvents: "沒有紀錄的事件。",
    noAnalysis: "尚未分析。",
    engine: ({ engine, model, at }) => `引擎：${engine} · ${model} · ${at}`,
    suggested: "建議",
    figures: ({ confidence, risk, pods, downtime }) =>
      `信心 ${confidence}% · 風險 ${risk} · 影響 ${pods} 個 Pod，停機約 ${downtime} 秒`,
    owner: ({ team }) => `責任：${team}`,
    cause: "原因",
    reasoning: "推理",
    decision: "決策",
    attempts: ({ list }) => `嘗試：${list}`,
    kubeNotConfigured: "未設定 Kubernetes（沒有 KUBECONFIG）：沒有 Pod 日誌或事件。",
    noObject: "此事件沒有指明含命名空間的 Pod、deployment 或 statefulset。",
    object: "物件",
    events: "事件",
    podLogs: "Pod 日誌",
    newestLast: "（最新在最後）",
    noLogs: "沒有日誌。",
    noSimilar: "沒有相似的歷史事件。",
    noPlaybooks: "此類事件尚無已學習的 Playbook。",
    playbook: ({ successes, failures }) => `成功 ${successes} 次，失敗或被拒絕 ${failures} 次`,
  },

  incidents: {
    usage:
      "用法：/incidents、/incidents P0（或 P1、P2）、/incidents <服務>（最多 16 個字元）、/incidents mine",
    what: ({ severity, service, mine }) =>
      `${mine ? "您認領的" : ""}${service === "" ? "" : `${service} 的`}未解決${severity === "" ? "" : ` ${severity} `}事件`,
    none: ({ what }) => `✅ 沒有${what}。`,
    title: ({ what, total }) => `📋 ${what}：${total}`,
    page: ({ page, pages }) => `第 ${page}/${pages} 頁`,
    newestFirst: "由新到舊；點選查看詳情。",
    changed: "清單已變更；以下為最新清單。",
  },

  rollback: {
    revision: ({ label, revision, images }) =>
      `${label}：版本 ${revision} · ${images === "" ? "無映像檔" : images}`,
    current: "目前",
    currentLower: "目前",
    backTo: "回滾至",
    notConfigured: "未設定 Kubernetes（沒有 KUBECONFIG）：沒有可回滾的對象。",
    cannot: ({ name, why }) => `無法回滾 ${name}：${why}`,
    notFound: ({ name }) => `deployment ${name} 不存在`,
    noEarlier: ({ name, only }) =>
      `無法回滾 ${name}：沒有更早的版本${only === "" ? "" : `（只有${only}）`}。`,
    ask: ({ name }) => `⏪ 要回滾 ${name} 嗎？`,
    ready: ({ ready, replicas }) => `目前 ${ready}/${replicas} 個副本就緒。`,
    confirming: "確認後會建立一個 ROLLBACK 動作，仍需在其卡片上按 ✅ 簽核。",
    approversOnly: "只有簽核者可以要求回滾。",
    nothingCreatedNoKube: "未設定 Kubernetes（沒有 KUBECONFIG）：未建立任何項目。",
    nothingCreated: ({ why }) => `未建立任何項目：${why}`,
    kubeMissing: "未設定 Kubernetes。",
    noHistory: "此 deployment 沒有更早的版本。",
    refused: "⛔ 被防護規則拒絕；未建立任何項目。",
    already: ({ status, id }) => `此 deployment 的回滾已是 ${status}：${id}。`,
    filed: ({ id }) => `📝 回滾已建立為 ${id}；簽核者在其卡片上按 ✅ 簽核後執行。`,
    confirm: "⏪ 確認",
    cancel: "取消",
    cancelled: "已取消。",
    rollbackCancelled: "已取消回滾；未建立任何項目。",
    filedToast: "已建立。",
    notFiledToast: "未建立。",
    usage: "用法：/rollback <namespace>/<deployment>，例如 /rollback awoooi-prod/awoooi-api",
    expired: "此確認已逾時或不屬於您；請重新執行 /rollback。",
    title: ({ name }) => `要求回滾：${name}`,
    revisionOf: ({ revision, images }) => `版本 ${revision}（${images === "" ? "無映像檔" : images}）`,
    summary: ({ actor, from, to }) => `${actor} 要求從${from}回滾至${to}`,
    cause: ({ actor }) => `${actor} 在聊天室要求回滾`,
    reasoning: ({ summary }) => `${summary}。這是有人以 /rollback 提出的要求，未經模型分析。`,
  },

  silences: {
    usage: [
      "/silence service=awoooi-api 2h [原因]：靜默符合標籤（k=v、k=~regex、k!=v）的告警 30m…7d",
      "/silence：同上，逐步引導",
      "/silence list：進行中的靜默",
      "/silence expire <id>：結束一個靜默",
    ].join("\n"),
    expireUsage: "用法：/silence expire <id>（/silence list 中的 # 編號）",
    problems: {
      noMatcher: "至少需要一個標籤比對條件，例如 service=awoooi-api",
      matchesEverything: "至少要有一個比對條件不符合空標籤（否則會靜默所有告警）",
      notMatcherOrDuration: ({ word }) =>
        `「${word}」既不是標籤比對條件（k=v、k=~re、k!=v），也不是時長（30m、2h、1d）`,
    },
    none: "目前沒有進行中的靜默。",
    title: "🔕 進行中的靜默：",
    local: "僅本機",
    line: ({ id, matchers, until, who, where }) => `#${id} ${matchers} · 至 ${until} · 由 ${who} · ${where}`,
    more: ({ shown }) => `… 還有更多；只顯示最快結束的 ${shown} 個。`,
    unknown: ({ ref }) => `沒有靜默 ${ref}。/silence list 會列出進行中的靜默。`,
    expiredInAlertmanagerToo: ({ id, who }) =>
      `靜默 #${id} 先前已由 ${who} 在此結束；仍在套用它的 Alertmanager 現在也已結束它。`,
    expiredHereOnly: ({ id, note }) => `靜默 #${id} 已在此結束。${note}`,
    endedAt: ({ at }) => `已於 ${at} 結束`,
    expiredByAt: ({ who, at }) => `${who} 已於 ${at} 結束它`,
    alreadyOver: ({ id, over }) => `靜默 #${id} 已結束：${over}。`,
    expired: ({ id, matchers, who, note }) =>
      `靜默 #${id}（${matchers}）已由 ${who} 結束。${note === "" ? "" : ` ${note}`}`,
    amStillHolds: "Alertmanager 仍保有它：未設定 ALERTMANAGER_URL。",
    amDidNotExpire: ({ error }) => `Alertmanager 未能結束它：${error}`,
  },

  dialogues: {
    whyReject: ({ who, subject, minutes }) =>
      `${who}，為什麼拒絕${subject}？請在 ${minutes} 分鐘內回覆原因，或 /cancel。`,
    reasonPlaceholder: "原因",
    rejectTooLate: ({ id }) => `${id} 的原因回覆逾時；未拒絕任何項目。請再按一次拒絕。`,
    rejectCancelled: ({ id }) => `已取消拒絕 ${id}；未做任何變更。`,
    reasonTooShort: "請用幾個字說明原因（或 /cancel）。",
    silenceTooLate: "逾時：未建立靜默。請重新送出 /silence。",
    silenceCancelled: "已取消：未建立靜默。",
    whichAlerts: ({ who }) =>
      `${who}，要靜默哪些告警？請送出標籤比對條件，例如 service=awoooi-api（k=v、k=~regex、k!=v），或 /cancel。`,
    notMatchers: "每個詞都必須是像 service=awoooi-api 的比對條件",
    didNotWork: ({ problem }) => `無法使用：${problem}。要靜默哪些告警？`,
    howLong: ({ matchers, max }) => `要靜默 ${matchers} 多久？例如 30m、2h、1d（最長 ${max}）。`,
    durationPlease: ({ max }) => `請輸入像 30m、2h 或 1d 的時間長度，最長 ${max}。`,
    why: "原因？請簡短說明給團隊，或輸入「-」表示無。",
  },

  status: {
    title: "📊 狀態",
    state: {
      ok: "可連線",
      down: "無法連線",
      unusable: "無法使用",
      configured: "已設定",
      not_configured: "未設定",
    },
    until: ({ time }) => `至 ${time}`,
    overridesUnknown: ({ error }) => `分析鏈覆寫設定不明（${error}）`,
    modelSwitched: ({ model, until }) => `Ollama 模型已切換為 ${model}（SWITCH_MODEL，${until}）`,
    providerSkipped: ({ provider, until }) => `已略過 ${provider}（FALLBACK_AI，${until}）`,
    signozReading: ({ table }) => `讀取 ${table}`,
    signozTable: ({ table, schema, detected }) =>
      `${table}（${schema} 結構，${detected ? "自動偵測" : "由 SIGNOZ_TRACES_TABLE 指定"}）`,
    signozNoTable: ({ reason }) => `找不到 SigNoz 追蹤資料表（${reason}）`,
    target: {
      redisCache: ({ name }) => `Redis 快取 ${name}`,
      postgres: ({ name }) => `PostgreSQL ${name}`,
      logDirectory: ({ directory }) => `日誌目錄 ${directory}`,
      certificate: ({ name }) => `憑證 ${name}`,
    },
    queues: "佇列",
    queuesColumns: "（等待 / 執行中 / 延遲 / 失敗）",
    llm: "LLM 供應商",
    llmOrder: "（依分析鏈順序）",
    executors: "執行器目標",
    openIncidents: "未解決事件",
    unknownBecause: ({ error }) => `不明（${error}）`,
    repairs: "自動修復",
    repairsUsed: ({ used, max }) => `本小時 ${used}/${max}`,
    repairsUnknown: ({ error, max }) => `不明（${error}），預算每小時 ${max}`,
    detailJoiner: "；",
  },

  whoami: {
    chat: ({ id, type }) => `聊天室 id：${id}（${type}）`,
    configured: "此聊天室已設定：卡片與指令可在此使用。",
    notConfigured: "此聊天室尚未設定：請將 TELEGRAM_CHAT_ID（或 TELEGRAM_ROUTES 的一項）設為它的 id。",
    approver: "簽核者",
    viewer: "檢視者",
    neither: "既非簽核者也非檢視者",
    user: ({ id, role }) => `您的使用者 id：${id}；您是${role}。`,
  },

  answers: {
    notAnApprover: "您不在簽核者名單中。",
    notAResponder: "您不在回應者名單中（TELEGRAM_RESPONDER_IDS 或簽核者）。",
    noIncident: ({ id }) => `沒有事件 ${id}。`,
    alreadyResolved: ({ id }) => `${id} 已解決。`,
    workingOnIt: "處理中…",
    noLongerValid: "此按鈕已失效。",
    notThisCard: "此按鈕不屬於這則訊息；未做任何變更。",
    notForYou:
      "此機器人只服務其團隊的事件聊天室。若您是團隊成員，請管理員將您的 Telegram id 加入 TELEGRAM_VIEWER_IDS",
    yourId: ({ id }) => `（您的 id 是 ${id}）。`,
    notAvailable: ({ verb }) => `${verb} 尚未提供`,
    askReason: "請回覆原因，或 /cancel。",
    snoozeHowLong: "要稍後多久？",
    silenceHowLong: "要靜默多久？",
    cancelled: "已取消；未做任何變更。",
    silencing: ({ span }) => `🔕 靜默 ${span}…`,
    user: ({ id }) => `使用者 ${id}`,
    alreadyYours: ({ id, since }) => `${id} 已由您認領（自 ${since}）。`,
    taken: ({ id }) => `👀 ${id} 由您處理；SLA 升級已停止。`,
    takenOver: ({ id, from }) => `👀 您已從 ${from} 接手 ${id}；SLA 升級已停止。`,
    ackUsage: "用法：/ack <事件 id>，例如 /ack INC-20260329-0001",
    staleProposal: ({ action }) =>
      `此卡片顯示的是較舊的提案；目前提案為 ${action}。未做任何變更：請查看更新後的卡片再按一次。`,
    nothingProposed: "沒有待簽核的項目：目前沒有提案。",
    alreadyDecided: ({ action, rejected, who }) =>
      `沒有待簽核的項目：${action} 已由 ${who}${rejected ? "拒絕" : "簽核"}。`,
    system: "系統",
    cannotRunHere: ({ action, why }) => `${action} 無法在此執行：${why}。未做任何變更。`,
    approved: ({ action }) => `已簽核：${action}。現在執行。`,
    nothingToRejectProposed: "沒有可拒絕的項目：目前沒有提案。",
    nothingToReject: ({ action, rejected, who }) =>
      `沒有可拒絕的項目：${action} 已由 ${who}${rejected ? "拒絕" : "簽核"}。`,
    alreadyRejected: ({ who }) => `沒有可拒絕的項目：已由 ${who} 拒絕。`,
    rejectActionSubject: ({ action, id }) => `${id} 的 ${action}`,
    rejectAnalysisSubject: ({ id }) => `${id} 的分析`,
    rejected: ({ action, id }) => `已拒絕 ${id} 的 ${action}。`,
    rejectedAnalysis: ({ id }) => `已記錄：${id} 被拒絕（沒有提案動作）。`,
    alreadySnoozed: ({ who, until }) => `已由 ${who} 設為稍後處理，至 ${until}。`,
    snoozed: ({ until }) => `稍後處理至 ${until}。屆時若仍未解決會再提醒您。`,
    cannotSilence: ({ problem }) => `無法靜默：${problem}。`,
    silenceTooLong: ({ max }) => `靜默最長 ${max}`,
    silenceTooShort: "靜默至少 1m",
    notSilenced: ({ detail }) => `未靜默。${detail}`,
    localOnly: "僅限本機：未設定 ALERTMANAGER_URL，Alertmanager 仍會發送通知",
    silenceCreated: ({ id, until, local }) =>
      `靜默 #${id} 至 ${until}${local ? "（僅限本機：未設定 ALERTMANAGER_URL，Alertmanager 仍會發送通知）" : "，已寫入 Alertmanager"}。`,
    silencedMatching: ({ text, matchers }) => `${text} 符合：${matchers}`,
    silencedBy: ({ id, who, text }) => `🔕 ${id} 已由 ${who} 靜默。${text}`,
    alreadySilenced: ({ who, until }) => `已由 ${who} 靜默至 ${until}。`,
  },
};

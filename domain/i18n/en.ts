// Every text the bot writes into the chat, in English: the card, its buttons and history, the
// toasts, the commands and their help, the dialogues, the drill-down, the storm card, escalations,
// reminders, /status and /whoami. `zh-tw.ts` holds the same keys in Traditional Chinese; the type
// of this object (`Messages`) is what both must fill, and test/domain/i18n.test.ts checks at run
// time that no text is missing or empty and that both languages use the same arguments.
//
// A text with arguments is a function of one object, so the arguments have names both languages
// share (and a reader of zh-tw.ts sees which value goes where). No markup lives here: the bot
// escapes what it inserts, and the few bold parts of the card are separate keys.
import type { RuleParams } from "../decide.js";
import type { IncidentSource, IncidentStatus, Severity } from "../incident.js";

/** "1,234": whole numbers with thousands separators, the same in both languages. */
export const formatCount = (value: number): string =>
  Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** Whether the rule passed: a verdict's text often says both ways. */
type Ok = { ok: boolean };

type AutoWhy = { confidence: string; min: number; risk: string; used: number; max: number };
/** A 403 naming verb and resource; `namespace` is "" at the cluster scope. */
type ForbiddenArgs = {
  action: string;
  verifying: boolean;
  user: string;
  verb: string;
  resource: string;
  apiGroup: string;
  namespace: string;
};

const plural = (count: number, one: string, many: string): string => (count === 1 ? one : many);

export const en = {
  /** Which language this is (BOT_LANGUAGE), for what formats times and spans alongside the texts. */
  language: "en" as "en" | "zh-TW",

  /** Words shared by several texts. */
  common: {
    unknown: "unknown",
    /** A message cut to Telegram's 4096 characters by whole lines. */
    moreLines: ({ count }: { count: number }) => `… ${count} more line(s) not shown`,
    unassigned: "unassigned",
    someone: "someone",
    none: "none",
    /** How a span of time reads: the seconds, minutes and hours of escalations and windows. */
    seconds: ({ count }: { count: number }) => `${count} s`,
    minutes: ({ count }: { count: number }) => `${count} min`,
    hours: ({ count }: { count: number }) => `${count} h`,
  },

  card: {
    severity: { P0: "CRITICAL", P1: "HIGH", P2: "MEDIUM" } satisfies Record<Severity, string>,
    status: {
      open: "open",
      analyzing: "analyzing",
      awaiting_approval: "awaiting approval",
      executing: "executing",
      verifying: "verifying",
      resolved: "resolved",
      failed: "repair failed",
      escalated: "escalated",
      silenced: "silenced",
      snoozed: "snoozed",
    } satisfies Record<IncidentStatus, string>,
    source: {
      alertmanager: "Alertmanager",
      sentry: "Sentry",
      signoz: "SigNoz",
      chatops: "chat request",
    } satisfies Record<IncidentSource, string>,
    unknownService: "unknown service",
    resolvedHeader: ({ service }: { service: string }) => `RESOLVED | ${service}`,
    wasSeverity: ({ severity }: { severity: string }) => ` · was ${severity}`,
    via: ({ source }: { source: string }) => `via ${source}`,
    resolvedAt: ({ time }: { time: string }) => `resolved ${time}`,
    takenOverFrom: ({ who }: { who: string }) => ` (took over from ${who})`,
    onIt: ({ who, since }: { who: string; since: string }) => `👀 On it: ${who} since ${since}`,
    takenBy: ({ who, at }: { who: string; at: string }) => `👀 Taken by ${who} at ${at}`,
    serviceOwner: ({ team }: { team: string }) => `🏷️ Service owner: ${team}`,
    slo: ({ slo }: { slo: string }) => ` · SLO ${slo}`,
    occurrences: ({ count }: { count: number }) =>
      `🔁 ${formatCount(count)} ${plural(count, "occurrence", "occurrences")}`,
    firstLast: ({ first, last }: { first: string; last: string }) => `first ${first} · last ${last}`,
    requested: "Requested",
    requestedBy: ({ who }: { who: string }) => ` by ${who}`,
    aiAnalysis: "AI analysis",
    owner: ({ team }: { team: string }) => `👥 Owner: ${team}`,
    confidence: ({ value }: { value: string }) => `📊 Confidence: ${value}`,
    cause: ({ cause }: { cause: string }) => `💡 Cause: ${cause}`,
    suggested: ({ action }: { action: string }) => `🔧 Suggested: ${action}`,
    cannotRun: ({ why }: { why: string }) => `🚫 Can't run here: ${why}`,
    downtime: ({ downtime }: { downtime: string }) => `⏱️ Downtime: ${downtime}`,
    tokens: ({ tokens }: { tokens: string }) => `💰 Tokens: ${tokens}`,
    cost: ({ cost }: { cost: string }) => `💰 Cost: ${cost}`,
    analysisFailed: ({ why }: { why: string }) => `🤖 AI analysis: failed: ${why}`,
    analysisNotRun: "🤖 AI analysis: not run",
    analysisPending: "🤖 AI analysis: pending…",
    earlier: ({ count }: { count: number }) => `${formatCount(count)} earlier`,
    /** The estimated downtime under the suggestion. */
    noDowntime: "none expected",
    downtimeAbout: ({ span }: { span: string }) => `~${span}`,
    secondsShort: ({ count }: { count: number }) => `${count}s`,
    offlineEngine: ({ model }: { model: string }) => `offline analyzer (${model})`,
    humanEngine: "a person's request",
  },

  buttons: {
    approve: "✅ Approve",
    reject: "❌ Reject",
    snooze: "⏰ Snooze",
    silence: "🔕 Silence",
    take: "👀 I'm on it",
    details: "🔎 Details",
    cancel: "↩️ Cancel",
    /** The choices Snooze and Silence offer. */
    minutes: ({ count }: { count: number }) => `${count} min`,
    hours: ({ count }: { count: number }) => `${count} h`,
  },

  /** The card's timeline lines. */
  history: {
    tookOver: ({ who, from }: { who: string; from: string }) => `👀 ${who} took over from ${from}`,
    onIt: ({ who }: { who: string }) => `👀 ${who} is on it`,
    closed: ({ resolution }: { resolution: string }) => `✅ closed: ${resolution}`,
    resolved: ({ who }: { who: string }) => `✅ resolved (${who})`,
    reopened: "🔁 fired again after resolving",
    approved: ({ action, who }: { action: string; who: string }) => `✅ ${action} approved by ${who}`,
    executed: ({ action }: { action: string }) => `🔧 ${action} executed`,
    dryRun: ({ action }: { action: string }) => `🧪 ${action} dry run: nothing changed`,
    verified: ({ detail }: { detail: string }) => `🩺 verified: ${detail}`,
    /** Between two pieces of a verification's evidence. */
    evidenceJoiner: "; ",
    executionFailed: ({ action, error }: { action: string; error: string }) =>
      `❌ ${action} failed: ${error}`,
    analysisFailed: ({ error }: { error: string }) => `⚠️ analysis failed: ${error}`,
    rolledBack: ({ deployment, revision }: { deployment: string; revision: string }) =>
      `↩️ ${deployment} rolled back automatically${revision === "" ? "" : ` to revision ${revision}`}`,
    rollbackFailed: ({ error }: { error: string }) => `↩️ automatic rollback not done: ${error}`,
    rejected: ({ what, who, reason }: { what: string; who: string; reason: string }) =>
      `❌ ${what} rejected by ${who}: “${reason}”`,
    analysis: "analysis",
    snoozed: ({ who, until }: { who: string; until: string }) => `⏰ snoozed by ${who} until ${until}`,
    snoozeEnded: "⏰ snooze over, still open",
    silenced: ({ who, until, local }: { who: string; until: string; local: boolean }) =>
      `🔕 silenced by ${who} until ${until}${local ? " (bot only)" : ""}`,
    escalatedRepairFailed: "⏫ escalated: the repair failed",
    escalatedSla: ({ span }: { span: string }) => `⏫ escalated: unacknowledged for ${span}`,
  },

  /** The guardrails' verdict on the card (🧭); `details` are the rules' own words and figures. */
  decision: {
    nothingToRun: "nothing to run: a human should look",
    /** Between two rules' verdicts on one line. */
    joiner: "; ",
    refused: ({ details }: { details: string }) => `refused: ${details}`,
    approval: ({ details }: { details: string }) => `needs approval: ${details}`,
    auto: ({ details }: { details: string }) => `auto: ${details}`,
    /** Why an automatic run may go: the figures of decide()'s "auto" summary (`used` counts this run). */
    autoWhy: ({ confidence, min, risk, used, max }: AutoWhy) =>
      `confidence ${confidence} ≥ ${min}, risk ${risk}, ${used}/${max} this hour`,
  },

  /**
   * Each guardrail's verdict as the card's 🧭 line shows it, from the figures decide() kept
   * (RuleParams). In English these are decide()'s own `detail` words, letter for letter.
   */
  verdict: {
    not_blacklisted: ({ action, ok }: RuleParams["not_blacklisted"] & Ok) =>
      ok ? `${action} is not blacklisted` : `${action} is blacklisted`,
    remediation_proposed: ({ action }: RuleParams["remediation_proposed"] & Ok) =>
      `${action} is not a remediation`,
    target_in_incident: ({ resource, problem, ok }: RuleParams["target_in_incident"] & Ok) =>
      ok ? `${resource} is the incident's own resource` : problem,
    namespace_allowed: ({ namespace, allowed, ok }: RuleParams["namespace_allowed"] & Ok) =>
      ok ? `namespace ${namespace} is allowed` : `namespace ${namespace} is not in ${allowed}`,
    min_healthy_replicas: ({ known, left, min, unready }: RuleParams["min_healthy_replicas"] & Ok) =>
      known
        ? `${left} healthy replica(s) would remain${unready ? " (the pod is not ready)" : ""}, at least ${min} must`
        : "healthy replicas unknown",
    rollout_strategy: ({ strategy }: RuleParams["rollout_strategy"] & Ok) =>
      `strategy ${strategy}: every pod stops before new ones start, downtime expected`,
    hpa_owned: ({ owner, name, min, max }: RuleParams["hpa_owned"] & Ok) =>
      owner === "unknown"
        ? "whether an autoscaler owns the replicas is unknown"
        : owner === "none"
          ? "no HorizontalPodAutoscaler owns the replicas"
          : `HorizontalPodAutoscaler ${name} owns the replicas (${min}–${max}): a manual scale would be undone`,
    rollout_progressing: ({ seconds }: RuleParams["rollout_progressing"] & Ok) =>
      `the last rollout exceeded its progress deadline (${seconds}s): a restart starts another on the same template`,
    auto_repair_enabled: ({ setting, ok }: RuleParams["auto_repair_enabled"] & Ok) =>
      ok ? setting : `${setting}=false`,
    registry_allows: ({ registered, action, ok }: RuleParams["registry_allows"] & Ok) =>
      !registered
        ? "the service is not in the registry"
        : ok
          ? `the registry allows ${action}`
          : `the registry does not allow ${action} for this service`,
    risk: ({ risk, declared, max, ok }: RuleParams["risk"] & Ok) =>
      `risk ${risk}${risk === declared ? "" : ` (raised from ${declared}: Recreate)`}${ok ? "" : ` above ${max}`}`,
    confidence: ({ confidence, min, ok }: RuleParams["confidence"] & Ok) =>
      `confidence ${confidence} ${ok ? "≥" : "<"} ${min}`,
    max_affected_pods: ({ pods, max }: RuleParams["max_affected_pods"] & Ok) =>
      `${pods} pod(s) affected, at most ${max}`,
    hourly_budget: ({ used, max }: RuleParams["hourly_budget"] & Ok) => `${used}/${max} this hour`,
    resource_budget: ({ used, max, resource }: RuleParams["resource_budget"] & Ok) =>
      `${used}/${max} on ${resource} this hour`,
    cooldown: ({ seconds, ok }: RuleParams["cooldown"] & Ok) =>
      ok ? "no cool-off" : `cooling off after a failed repair: ${seconds}s left`,
    executor_configured: ({ action }: RuleParams["executor_configured"] & Ok) =>
      `${action} has no target configured here`,
    budget_reserved: ({ spent, used, max, seconds, resource }: RuleParams["budget_reserved"] & Ok) =>
      spent === "cooldown"
        ? `cooling off after a failed repair: ${seconds}s left`
        : spent === "hourly"
          ? `hourly budget spent meanwhile: ${used}/${max} this hour`
          : `budget of ${resource} spent meanwhile: ${used}/${max} this hour`,
  },

  /**
   * Why an action failed, in the bot's own words (handlers/execute-action.ts FailureReason); the
   * executor's or the cluster's message inside (`error`, `problem`, `reason`, `waiting`) is quoted
   * as it came. In English these are the words the audit log keeps, letter for letter.
   */
  failure: {
    timeout: ({ ms }: { ms: number }) =>
      `execution timed out after ${ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`}`,
    execution_failed: ({ error }: { error: string }) => `execution failed: ${error}`,
    params_refused: ({ problem }: { problem: string }) => `params refused: ${problem}`,
    guard: ({ rule, reason }: { rule: string; reason: string }) => `guard ${rule}: ${reason}`,
    no_verifier: () => "cannot verify: no executor",
    verify_params_refused: ({ problem }: { problem: string }) => `cannot verify: params refused: ${problem}`,
    not_recovered: ({ waiting }: { waiting: string }) => `not recovered before the deadline: ${waiting}`,
    /** `why` is the catalogue's own cannotRun text, already in the chat's language. */
    cannot_run: ({ action, why }: { action: string; why: string }) => `${action} can't run here: ${why}`,
    rollback_impossible: () => "automatic rollback impossible: no ROLLBACK executor configured",
    rollback_refused: ({ problem }: { problem: string }) => `automatic rollback refused: ${problem}`,
    rollback_guard: ({ rule, reason }: { rule: string; reason: string }) =>
      `automatic rollback refused: ${rule}: ${reason}`,
    rollback_failed: ({ error }: { error: string }) => `automatic rollback failed: ${error}`,
    /** The verification found the repair did not work; `detail` is what it saw (verifyDetail). */
    verify_failed: ({ detail }: { detail: string }) => detail,
    abandoned: () =>
      "the execution outlived its timeout without finishing (worker lost?); it may have changed something, so it is not run again",
  },

  /**
   * The target said no, so nothing ran (handlers/execute-action.ts RefusalReason): the cluster's
   * RBAC (verb and resource as the API server named them, or its message when it named none), or a
   * PodDisruptionBudget (its own words in `detail`). `verifying`: refused while checking recovery.
   * In English these are the audit log's words, letter for letter.
   */
  refusal: {
    forbidden: ({ action, verifying, user, verb, resource, apiGroup, namespace }: ForbiddenArgs) =>
      `${verifying ? "verify " : ""}${action} refused by the cluster: RBAC: ${user} may not ${verb} ${resource}${apiGroup === "" ? "" : ` (API group ${apiGroup})`} ${namespace === "" ? "at the cluster scope" : `in ${namespace}`}. Nothing changed; grant it in the Role (deploy/k8s/base/rbac.yaml) or act by hand.`,
    forbidden_unnamed: ({
      action,
      verifying,
      message,
    }: {
      action: string;
      verifying: boolean;
      message: string;
    }) =>
      `${verifying ? "verify " : ""}${action} refused by the cluster: ${message}. Nothing changed; grant it in the Role (deploy/k8s/base/rbac.yaml) or act by hand.`,
    disruption_budget: ({
      action,
      deployment,
      detail,
    }: {
      action: string;
      deployment: string;
      detail: string;
    }) =>
      `${action} not now: budget: a PodDisruptionBudget allows no disruption of ${deployment} (${detail}). Nothing changed; try again once the budget allows it.`,
  },

  /**
   * Why an executor's guard refused (executors/*.ts: a GuardVerdict's `reason`, kept as data in
   * its `said`, see executors/executor.ts `refusal`). Names, paths and the configured lists are
   * quoted as they came; a list argument is the names joined with ", " ("" when there are none).
   * In English these are the reasons the audit log keeps and the executors' tests assert, letter
   * for letter.
   */
  guardReason: {
    logs_unconfigured: () => "no cleanup_logs directories are configured",
    logs_elsewhere: ({ hosts, host }: { hosts: string; host: string }) =>
      `the configured directories are on ${hosts}, not ${host}`,
    logs_directory_unlisted: ({ directory, configured }: { directory: string; configured: string }) =>
      `${directory} is not a configured log directory (configured: ${configured})`,
    logs_directory_missing: ({ directory }: { directory: string }) =>
      `log directory ${directory} does not exist`,
    logs_not_a_directory: ({ directory }: { directory: string }) => `${directory} is not a directory`,
    cache_unlisted: ({ target, configured }: { target: string; configured: string }) =>
      `${target} is not a configured Redis target (configured: ${configured === "" ? "none" : configured})`,
    cache_unreachable: ({ target, error }: { target: string; error: string }) =>
      `Redis target ${target} does not answer PING: ${error}`,
    provider_none_active: () => "no provider of the chain is active",
    provider_unlisted: ({ provider, chain }: { provider: string; chain: string }) =>
      `${provider} is not a configured provider of the chain (${chain === "" ? "none" : chain})`,
    provider_already_skipped: ({ provider }: { provider: string }) => `${provider} is already skipped`,
    provider_last: ({ provider }: { provider: string }) =>
      `${provider} is the last active provider; skipping it leaves only the offline analyzer`,
    deployment_missing: ({ namespace, deployment }: { namespace: string; deployment: string }) =>
      `deployment ${namespace}/${deployment} does not exist`,
    pod_unowned: ({ pod }: { pod: string }) => `${pod} is not a deployment's pod`,
    pod_missing: ({ namespace, pod }: { namespace: string; pod: string }) =>
      `pod ${namespace}/${pod} does not exist`,
    pod_terminating: ({ namespace, pod }: { namespace: string; pod: string }) =>
      `pod ${namespace}/${pod} is already Terminating; deleting it again changes nothing`,
    pod_last_ready: ({ left, deployment, min }: { left: number; deployment: string; min: number }) =>
      `${left} ready replica(s) of ${deployment} would remain, at least ${min} must`,
    hpa_owned: ({
      hpa,
      namespace,
      deployment,
      min,
      max,
    }: {
      hpa: string;
      namespace: string;
      deployment: string;
      min: number;
      max: number;
    }) =>
      `HorizontalPodAutoscaler ${hpa} owns the replicas of ${namespace}/${deployment} (${min}–${max}): a manual scale would be undone; change the HPA instead`,
    scale_above_max: ({ replicas, max }: { replicas: number; max: number }) =>
      `${replicas} replicas would exceed ${max}`,
    scale_below_min: ({ replicas, min }: { replicas: number; min: number }) =>
      `${replicas} replicas would leave fewer than ${min}`,
    no_earlier_revision: () => "there is no earlier revision to go back to",
    cert_unlisted: ({ certificate, configured }: { certificate: string; configured: string }) =>
      `${certificate} is not a configured certificate (configured: ${configured === "" ? "none" : configured})`,
    cert_not_executable: ({ program }: { program: string }) => `${program} is not an executable file`,
    container_not_allowed: ({ container }: { container: string }) =>
      `container ${container} is not on the allow-list`,
    container_missing: ({ container }: { container: string }) => `no container named ${container}`,
    model_no_fallback: () => "no fallback model is configured (OLLAMA_FALLBACK_MODEL)",
    model_no_ollama: () => "Ollama is not part of the analysis chain",
    model_already_fallback: ({ model }: { model: string }) => `Ollama already answers with ${model}`,
    /** `active` is "" when the chain asks for no model. */
    model_other: ({ active, model }: { active: string; model: string }) =>
      `the chain asks Ollama for ${active === "" ? "no model" : active}, not ${model}`,
    database_unlisted: ({ database }: { database: string }) =>
      `${database} is not a configured PostgreSQL target`,
    table_unlisted_in: ({ table, database, listed }: { table: string; database: string; listed: string }) =>
      `${table} is not listed for ${database} (listed: ${listed})`,
    table_unlisted: ({ table }: { table: string }) => `${table} is not listed for any configured database`,
    /** `databases`: the names joined with ", ". */
    table_ambiguous: ({ table, databases }: { table: string; databases: string }) =>
      `${table} is listed for ${databases.split(", ").join(" and ")}; name the database`,
    table_missing: ({ table, database }: { table: string; database: string }) =>
      `table ${table} does not exist in ${database}`,
  },

  /**
   * Why an executor's execute failed, where the words are its own (executors/executor.ts
   * `ExecutionFailure`); the command's output and a signal's name are quoted as they came. In
   * English these are the error's message, letter for letter.
   */
  executeError: {
    /** How the renewal command ended: "timeout" (after `seconds`), "aborted", "killed" (by `signal`, "" when unknown), "exited" (with `exitCode`). */
    command_failed: ({
      action,
      program,
      ended,
      seconds,
      signal,
      exitCode,
      output,
    }: {
      action: string;
      program: string;
      ended: string;
      seconds: number;
      signal: string;
      exitCode: number;
      output: string;
    }) =>
      `${action}: ${program} ${
        ended === "timeout"
          ? `timed out after ${seconds} s`
          : ended === "aborted"
            ? "was aborted"
            : ended === "killed"
              ? `was killed by ${signal === "" ? "a signal" : signal}`
              : `exited with ${exitCode}`
      }${output === "" ? "" : `: ${output}`}`,
    /** The guard's re-check at execute time refused: `reason` is its English, `guard` its words as data (guardReason). */
    rechecked: ({
      action,
      reason,
    }: {
      action: string;
      reason: string;
      guard: { code: string; [argument: string]: unknown };
    }) => `${action}: ${reason}`,
    not_configured: ({ action, name }: { action: string; name: string }) =>
      `${action}: ${name} is not configured`,
    no_redis_target: ({ action, name }: { action: string; name: string }) =>
      `${action}: ${name} is not a configured Redis target`,
    no_directories: ({ action }: { action: string }) => `${action}: no directories are configured`,
    no_container: ({ action, container }: { action: string; container: string }) =>
      `${action}: no container named ${container}`,
    no_table: ({ action, table }: { action: string; table: string }) =>
      `${action}: table ${table} does not exist`,
    no_fallback_model: ({ action }: { action: string }) => `${action}: no fallback model is configured`,
  },

  /**
   * What `/status` says about a dependency in the bot's own words (handlers/status-report.ts,
   * handlers/telegram-health.ts, the LLM providers' model checks); names, models and the servers'
   * messages are quoted as they came. In English these are the details /health and the logs keep,
   * letter for letter.
   */
  statusDetail: {
    no_answer: ({ ms }: { ms: number }) => `no answer within ${ms} ms`,
    /** A model provider whose model was not checked (yet): configured is all that is known. */
    configured: () => "configured",
    model_missing: ({ model, status }: { model: string; status: string }) =>
      `model ${model} does not exist (${status})`,
    model_not_pulled: ({ model }: { model: string }) => `model ${model} is not pulled on the server`,
    no_structured_output: ({ model }: { model: string }) =>
      `model ${model} does not support structured output (output_config.format)`,
    structured_output: ({ model }: { model: string }) => `${model}: structured output supported`,
    /** `trained` is 0 when the server does not say how long a context the model was trained on. */
    window: ({ model, window, trained }: { model: string; window: number; trained: number }) =>
      `${model}: window up to ${window} tokens${trained === 0 ? "" : ` (trained ${trained})`}`,
    thinks: ({ model, budget }: { model: string; budget: number }) =>
      `${model} (thinks; budget ${budget} tokens)`,
    token_rejected: ({ method, description }: { method: string; description: string }) =>
      `token rejected (${method}: 401 ${description}); check TELEGRAM_BOT_TOKEN with @BotFather`,
    calls_failing: ({
      seconds,
      failures,
      method,
      error,
    }: {
      seconds: number;
      failures: number;
      method: string;
      error: string;
    }) =>
      `calls failing for ${seconds} s (${failures} attempts, last ${method}: ${error}); cards wait until it answers (TELEGRAM_API_ROOT)`,
    polling_conflict: ({ seconds, detail }: { seconds: number; detail: string }) =>
      `polling in conflict for ${seconds} s (409 ${detail}); another process polls with this bot token: stop it, or give it a token of its own`,
    /** `detail` is "" when the poller gave no reason. */
    polling_stopped: ({ detail }: { detail: string }) =>
      `polling stopped (${detail === "" ? "no reason given" : detail}); buttons and commands get no answer until the bot restarts`,
    nobody_polls_standby: () => "nobody polls; every bot process stands by and none holds the poller lease",
    nobody_polls_silent: ({ process, seconds }: { process: string; seconds: number }) =>
      `nobody polls; the bot process ${process} stopped reporting ${seconds} s ago (killed or frozen?) and no other bot process runs`,
    /** Redis's persistence, when it is not an append-only file (kv/persistence.ts). */
    redis_rdb: ({ snapshots }: { snapshots: string }) => `snapshots only (save ${snapshots})`,
    redis_none: () => "appendonly no and no snapshots: it keeps nothing on disk",
    redis_unknown: () => "CONFIG is not allowed and INFO shows no append-only file",
  },

  /**
   * Why Alertmanager's silences API did not do as asked (gateways/alertmanager-silences.ts,
   * handlers/create-silence.ts); Alertmanager's own answer and the network's error are quoted as
   * they came. In English these are the error's message and the audit's detail, letter for letter.
   */
  alertmanagerError: {
    unreachable: ({ error }: { error: string }) => `Alertmanager unreachable: ${error}`,
    refused: ({ status, answer }: { status: number; answer: string }) =>
      `Alertmanager refused the silence (${status}): ${answer}`,
    no_silence_id: () => "Alertmanager answered without a silence id",
    not_listed: ({ status }: { status: number }) => `Alertmanager did not list its silences (${status})`,
    unknown_list: () => "Alertmanager listed its silences in an unknown shape",
    no_standing: ({ id, status, answer }: { id: string; status: number; answer: string }) =>
      `Alertmanager did not say how ${id} stands (${status}): ${answer}`,
    no_state: () => "Alertmanager answered without a silence state",
    not_expired: ({ id, status, answer }: { id: string; status: number; answer: string }) =>
      `Alertmanager refused to expire ${id} (${status}): ${answer}`,
    /** Anything else that went wrong on the way (`error` as it came). */
    failed: ({ error }: { error: string }) => `Alertmanager failed: ${error}`,
  },

  /**
   * Why no analysis could be made, in the analyze job's own words (jobs/analyze.processor.ts),
   * shown as the card's "analysis failed" reason; a schema's complaint is quoted as it came. In
   * English these are the reason the timeline keeps, letter for letter.
   */
  analysisError: {
    schema_mismatch: ({ problem }: { problem: string }) =>
      `the incident does not fit the analysis' schema (${problem})`,
    not_stored: ({ incident }: { incident: string }) => `analysis of ${incident} was not stored`,
  },

  /**
   * What a verification saw (executors/*.ts: a VerifyResult's `detail`, kept as data in its
   * `said`), and the verifier's own evidence (the alert resolving, the HTTP probe, a target it
   * could not read). Times, statuses and messages from outside (Docker's container status,
   * kubectl's rollout message) are quoted as they came. In English these are the details the
   * audit log keeps, letter for letter.
   */
  verifyDetail: {
    logs_remain: ({ remaining, found }: { remaining: number; found: number }) =>
      `${remaining} of ${found} old files remain`,
    logs_cleaned: ({ cutoff, found }: { cutoff: string; found: number }) =>
      `no file older than ${cutoff} remains (${found} found)`,
    cache_flushed: ({ target, before, now }: { target: string; before: number; now: number }) =>
      `${target}: ${before} keys before, ${now} now`,
    cache_not_fewer: ({ target, before, now }: { target: string; before: number; now: number }) =>
      `${target}: ${now} keys, not fewer than the ${before} before the flush`,
    provider_not_skipped: ({ provider }: { provider: string }) => `${provider} is not skipped`,
    /** `next` is "" when only the offline analyzer is left. */
    provider_skipped: ({ provider, until, next }: { provider: string; until: string; next: string }) =>
      `${provider} skipped until ${until}; ${next === "" ? "the offline analyzer" : next} answers first`,
    rollout_deadline: ({
      namespace,
      deployment,
      seconds,
    }: {
      namespace: string;
      deployment: string;
      seconds: number;
    }) =>
      `${namespace}/${deployment}: the rollout exceeded its progress deadline (${seconds}s, ProgressDeadlineExceeded)`,
    rollout_complete: ({
      namespace,
      deployment,
      ready,
      want,
    }: {
      namespace: string;
      deployment: string;
      ready: number;
      want: number;
    }) => `${namespace}/${deployment}: ${ready}/${want} ready, rollout complete`,
    /** `message` is kubectl's wording ("Waiting for deployment … rollout to finish: …"), quoted. */
    rollout_waiting: ({
      namespace,
      deployment,
      message,
    }: {
      namespace: string;
      deployment: string;
      message: string;
    }) => `${namespace}/${deployment}: ${message}`,
    revision_not_created: () => "the new revision has not been created yet",
    pod_not_deleted: ({ pod }: { pod: string }) => `${pod} has not been deleted yet`,
    /**
     * The replacement is ready while the evicted pod stays Terminating: where it is stuck. `node`
     * is "" when unknown; `state` is the node's ("missing", "not_ready" with its `reason`, "ready").
     */
    pod_left_terminating: ({
      namespace,
      deployment,
      ready,
      want,
      pod,
      node,
      state,
      reason,
    }: {
      namespace: string;
      deployment: string;
      ready: number;
      want: number;
      pod: string;
      node: string;
      state: string;
      reason: string;
    }) =>
      `${namespace}/${deployment}: ${ready}/${want} ready, rollout complete; ${pod} still Terminating${
        node === ""
          ? ""
          : state === "missing"
            ? ` on node ${node}, which no longer exists: it will not go without a forced deletion`
            : state === "not_ready"
              ? ` on node ${node}, which is not ready (${reason}): it will not go until the node returns or it is force-deleted`
              : ` on node ${node} (its grace period is running)`
      }`,
    cert_exit_nonzero: () => "the renewal command did not exit with 0",
    cert_exited: () => "the renewal command exited with 0",
    cert_missing: ({ file }: { file: string }) => `${file} does not exist`,
    cert_not_rewritten: ({ file }: { file: string }) => `exit code 0, but ${file} was not rewritten`,
    cert_rewritten: ({ file, at }: { file: string; at: string }) => `exit code 0; ${file} rewritten ${at}`,
    container_gone: ({ container }: { container: string }) => `container ${container} is gone`,
    container_replaced: ({ container }: { container: string }) =>
      `container ${container} was replaced by another`,
    /** `status` is Docker's ("created", "restarting", "exited", …), quoted. */
    container_status: ({ status }: { status: string }) => `container is ${status}`,
    container_stopped: ({ status, exitCode }: { status: string; exitCode: number }) =>
      `container is ${status} (exit code ${exitCode})`,
    container_not_restarted: ({ since }: { since: string }) => `container has not restarted since ${since}`,
    healthcheck_starting: () => "healthcheck is starting",
    container_unhealthy: () => "container is unhealthy",
    container_running: ({ since, healthcheck }: { since: string; healthcheck: boolean }) =>
      `running since ${since} (${healthcheck ? "healthy" : "no healthcheck"})`,
    model_not_set: ({ model }: { model: string }) => `Ollama is not set to ${model}`,
    /** `previous` is "" when the chain asked for no model by name. */
    model_switched: ({ model, previous, until }: { model: string; previous: string; until: string }) =>
      `Ollama answers with ${model} instead of ${previous === "" ? "its model" : previous} until ${until}`,
    table_gone: ({ table }: { table: string }) => `table ${table} is gone`,
    table_vacuumed: ({ table, vacuumed, analyzed }: { table: string; vacuumed: string; analyzed: string }) =>
      `${table}: vacuumed ${vacuumed}, analyzed ${analyzed}`,
    /** `since` is "" when the table was never vacuumed. */
    table_not_vacuumed: ({ table, since }: { table: string; since: string }) =>
      `${table}: statistics show no vacuum since ${since === "" ? "never" : since}`,
    // the verifier's own evidence (handlers/execute-action.ts, gateways/http-probe.ts)
    target_unreadable: ({ error }: { error: string }) => `cannot read the target: ${error}`,
    alert_resolved: () => "the alert resolved",
    probe_answered: ({ url, status }: { url: string; status: number }) => `GET ${url} → ${status}`,
    probe_failed: ({ url, error }: { url: string; error: string }) => `GET ${url} failed: ${error}`,
    probe_silent: ({ url, ms }: { url: string; ms: number }) =>
      `GET ${url} failed: no answer within ${ms} ms`,
  },

  /** Why a proposed action cannot run in this installation: the setting its executor lacks. */
  cannotRun: {
    kubernetes: "no Kubernetes cluster is configured (KUBECONFIG is not set)",
    docker: "no Docker engine is configured (DOCKER_HOST is not set)",
    noExecutor: "no executor is configured for it",
  },

  /** What the card says about the alert itself. */
  notes: {
    closedNoAction: ({ resolution }: { resolution: string }) => `Closed, no action needed: ${resolution}`,
    truncatedAlerts: ({ count }: { count: number }) =>
      `Alertmanager left ${count} ${plural(count, "alert", "alerts")} of this group out (truncatedAlerts)`,
    cut: ({ fields, more }: { fields: string; more: number }) =>
      `cut: ${fields}${more > 0 ? `; and ${more} more` : ""}`,
  },

  storm: {
    over: ({ folded, open }: { folded: number; open: number }) =>
      `Storm over: ${folded} incidents, ${open} still open`,
    resumed: "Individual cards have resumed. Every incident: /incidents",
    title: ({ folded }: { folded: number }) => `Alert storm: ${folded} incidents folded here`,
    since: ({ time }: { time: string }) => ` (since ${time})`,
    stillOpen: ({ count }: { count: number }) => `still open ${count}`,
    awaitingApproval: ({ count }: { count: number }) => `⏳ ${count} awaiting approval`,
    escalated: ({ count }: { count: number }) => `⏫ ${count} escalated`,
    services: ({ list }: { list: string }) => `Services: ${list}`,
    newest: "Newest:",
    resumeBelow: ({ threshold, window }: { threshold: number; window: string }) =>
      `Own cards resume below ${threshold} new incidents per ${window}; P0 and approvals still get one. Every incident: /incidents`,
  },

  escalation: {
    noOncall: "(no on-call usernames configured: set TELEGRAM_ONCALL_USERNAMES)",
    repairFailed: ({ detail }: { detail: string }) => `repair failed${detail === "" ? "" : `: ${detail}`}`,
    /**
     * The failed repair in `repairFailed`'s detail: `error` is the failure's text (`failure`,
     * `refusal`), `then` what ran afterwards ("" for nothing). The escalation queue's English detail.
     */
    failed: ({ action, error, then }: { action: string; error: string; then: string }) =>
      `${action} failed: ${error}${then === "" ? "" : `; ${then}`}`,
    /** An automatic rollback after the failure went through; `revision` is "" when unknown. */
    rolledBack: ({ revision }: { revision: string }) =>
      `rolled back automatically${revision === "" ? "" : ` to revision ${revision}`}`,
    unacknowledged: ({ span }: { span: string }) => `unacknowledged for ${span}`,
    storm: ({ escalated }: { escalated: number }) =>
      `Folded into the storm card; ${escalated} of its incidents escalated so far (no separate pings). See /incidents`,
  },

  reminder: {
    snoozeOver: ({ id, title, who }: { id: string; title: string; who: string }) =>
      `⏰ Snooze over: ${id} is still open (${title}; snoozed by ${who}).`,
  },

  /** The command menu Telegram shows (setMyCommands) and /help: one list, so they never disagree. */
  commands: {
    status: "Health of Redis, PostgreSQL, queues, LLM providers and executors",
    incidents: "Open incidents, newest first (filter: P0, a service, mine); tap one for its details",
    ack: "I'm on it: take an incident (stops its SLA escalation); may take one over",
    silence: "Silence alerts by label for a while; list or expire silences",
    rollback: "Roll a deployment back to its previous revision (needs approval)",
    whoami: "This chat's id and your user id, for the bot's settings",
    help: "What the bot can do and who may do it",
  },

  help: {
    title: "🤖 ChatOps bot",
    approversOnly: " · 🔐 approvers only",
    incidentIdArg: "<incident id>",
    serviceArg: "<service>",
    reasonArg: "[reason]",
    idArg: "<id>",
    buttonsTitle: "Card buttons",
    buttons:
      ": ✅ Approve, ❌ Reject, ⏰ Snooze and 🔕 Silence need approver rights; 👀 I'm on it (and /ack) is for responders; 🔎 Details is open to everyone.",
    who: "Approvers are the Telegram user ids in TELEGRAM_APPROVER_IDS; responders are the approvers and TELEGRAM_RESPONDER_IDS.",
  },

  /** The incident drill-down ("🔎 Details"): one page per section. */
  drillDown: {
    sections: {
      overview: "📋 Overview",
      timeline: "🕒 Timeline",
      analysis: "🤖 Analysis",
      kube: "📜 Logs & events",
      similar: "🔁 Similar",
      playbooks: "📚 Playbooks",
    },
    done: "✖️ Done",
    closed: "Closed.",
    missing: ({ id }: { id: string }) => `Incident ${id} does not exist.`,
    slaResolved: "⏱ SLA: resolved",
    slaDueNow: ({ at }: { at: string }) => `⏱ SLA: escalation due now (${at})`,
    slaRunning: ({ left, at }: { left: string; at: string }) =>
      `⏱ SLA: escalates in ${left} (${at}) unless someone takes it`,
    slaSnoozed: ({ until }: { until: string }) => `⏱ SLA: held by a snooze until ${until}`,
    slaEscalated: ({ since, at }: { since: string; at: string }) =>
      `⏱ SLA: escalated ${since} ago (${at}), nobody has taken it`,
    slaAcknowledged: ({ who, since, at }: { who: string; since: string; at: string }) =>
      `⏱ SLA: stopped, acknowledged by ${who} ${since} ago (${at})`,
    slaAfterEscalating: ({ at }: { at: string }) => `, after escalating at ${at}`,
    status: ({ status, source }: { status: string; source: string }) => `Status: ${status} · via ${source}`,
    service: ({ service }: { service: string }) => `Service: ${service}`,
    target: ({ target }: { target: string }) => `Target: ${target}`,
    occurrences: ({ count, first, last }: { count: number; first: string; last: string }) =>
      `Occurrences: ${count} · first ${first} · last ${last}`,
    summary: ({ summary }: { summary: string }) => `Summary: ${summary}`,
    acknowledged: ({ who, at }: { who: string; at: string }) => `Acknowledged by ${who} at ${at}`,
    snoozed: ({ who, until }: { who: string; until: string }) => `Snoozed by ${who} until ${until}`,
    escalatedAt: ({ at }: { at: string }) => `Escalated at ${at}`,
    resolvedAt: ({ at }: { at: string }) => `Resolved at ${at}`,
    labels: "Labels",
    noEvents: "No events recorded.",
    noAnalysis: "No analysis yet.",
    engine: ({ engine, model, at }: { engine: string; model: string; at: string }) =>
      `Engine: ${engine} · ${model} · ${at}`,
    suggested: "Suggested",
    figures: ({
      confidence,
      risk,
      pods,
      downtime,
    }: {
      confidence: number;
      risk: string;
      pods: number;
      downtime: number;
    }) => `Confidence ${confidence}% · risk ${risk} · ${pods} pod(s), ~${downtime}s downtime`,
    owner: ({ team }: { team: string }) => `Owner: ${team}`,
    cause: "Cause",
    reasoning: "Reasoning",
    decision: "Decision",
    attempts: ({ list }: { list: string }) => `Attempts: ${list}`,
    kubeNotConfigured: "Kubernetes is not configured (no KUBECONFIG): no pod logs or events.",
    noObject: "The incident names no pod, deployment or statefulset with a namespace.",
    object: "Object",
    events: "Events",
    podLogs: "Pod logs",
    newestLast: " (newest last)",
    noLogs: "No logs.",
    noSimilar: "No similar past incidents.",
    noPlaybooks: "No learned playbooks yet for this kind of incident.",
    playbook: ({ successes, failures }: { successes: number; failures: number }) =>
      `${successes} worked, ${failures} failed or rejected`,
  },

  /** /incidents: the list of open incidents. */
  incidents: {
    usage:
      "Usage: /incidents, /incidents P0 (or P1, P2), /incidents <service> (at most 16 characters), /incidents mine",
    /** "open P0 incidents", "open incidents of awoooi-api", "open incidents you took" */
    what: ({ severity, service, mine }: { severity: string; service: string; mine: boolean }) =>
      `open ${severity === "" ? "" : `${severity} `}incidents${service === "" ? "" : ` of ${service}`}${mine ? " you took" : ""}`,
    none: ({ what }: { what: string }) => `✅ No ${what}.`,
    title: ({ what, total }: { what: string; total: number }) =>
      `📋 ${what.charAt(0).toUpperCase()}${what.slice(1)}: ${total}`,
    page: ({ page, pages }: { page: number; pages: number }) => `page ${page}/${pages}`,
    newestFirst: "Newest first; tap one for its details.",
    changed: "The list changed; here it is again.",
  },

  /**
   * /rollback. The preview and request texts are sent as HTML with names and images already escaped by
   * the bot, so those hold no "<", ">" or "&" themselves (the usage line is sent as plain text).
   */
  rollback: {
    revision: ({ label, revision, images }: { label: string; revision: number; images: string }) =>
      `${label}: revision ${revision} · ${images === "" ? "no image" : images}`,
    current: "Current",
    currentLower: "current",
    backTo: "Back to",
    notConfigured: "Kubernetes is not configured (no KUBECONFIG): nothing to roll back.",
    cannot: ({ name, why }: { name: string; why: string }) => `Cannot roll back ${name}: ${why}`,
    notFound: ({ name }: { name: string }) => `deployment ${name} does not exist`,
    noEarlier: ({ name, only }: { name: string; only: string }) =>
      `Cannot roll back ${name}: it has no earlier revision${only === "" ? "" : ` (only ${only})`}.`,
    ask: ({ name }: { name: string }) => `⏪ Roll back ${name}?`,
    ready: ({ ready, replicas }: { ready: number; replicas: number }) =>
      `${ready}/${replicas} replicas ready now.`,
    confirming: "Confirming files a ROLLBACK action that still needs ✅ Approve on its card.",
    approversOnly: "Only approvers may request a rollback.",
    nothingCreatedNoKube: "Kubernetes is not configured (no KUBECONFIG): nothing was created.",
    nothingCreated: ({ why }: { why: string }) => `Nothing was created: ${why}`,
    kubeMissing: "Kubernetes is not configured.",
    noHistory: "the deployment has no earlier revision.",
    refused: "⛔ Refused by the guardrails; nothing was created.",
    already: ({ status, id }: { status: string; id: string }) =>
      `A rollback of this deployment is already ${status}: ${id}.`,
    filed: ({ id }: { id: string }) =>
      `📝 Rollback filed as ${id}; it runs once an approver presses ✅ Approve on its card.`,
    confirm: "⏪ Confirm",
    cancel: "Cancel",
    cancelled: "Cancelled.",
    rollbackCancelled: "Rollback cancelled; nothing was created.",
    filedToast: "Filed.",
    notFiledToast: "Not filed.",
    usage: "Usage: /rollback <namespace>/<deployment>, e.g. /rollback awoooi-prod/awoooi-api",
    expired: "This confirmation has expired or is not yours; run /rollback again.",
    /** The filed rollback's incident and its human "analysis", as its card shows them. */
    title: ({ name }: { name: string }) => `Rollback requested: ${name}`,
    revisionOf: ({ revision, images }: { revision: number; images: string }) =>
      `revision ${revision} (${images === "" ? "no image" : images})`,
    summary: ({ actor, from, to }: { actor: string; from: string; to: string }) =>
      `${actor} asked to roll back from ${from} to ${to}`,
    cause: ({ actor }: { actor: string }) => `rollback requested in the chat by ${actor}`,
    reasoning: ({ summary }: { summary: string }) =>
      `${summary}. A person asked for this with /rollback; no model was involved.`,
  },

  /** /silence: usage, the list, expiring. */
  silences: {
    usage: [
      "/silence service=awoooi-api 2h [reason]: silence alerts matching the labels (k=v, k=~regex, k!=v) for 30m…7d",
      "/silence: the same, step by step",
      "/silence list: the active silences",
      "/silence expire <id>: end one",
    ].join("\n"),
    expireUsage: "Usage: /silence expire <id> (the # number from /silence list)",
    /** What is wrong with the matchers or the duration a person typed. */
    problems: {
      noMatcher: "at least one label matcher is needed, e.g. service=awoooi-api",
      matchesEverything: "at least one matcher must not match an empty label (it would silence everything)",
      notMatcherOrDuration: ({ word }: { word: string }) =>
        `"${word}" is neither a label matcher (k=v, k=~re, k!=v) nor a duration (30m, 2h, 1d)`,
    },
    none: "No active silences.",
    title: "🔕 Active silences:",
    local: "local",
    line: ({
      id,
      matchers,
      until,
      who,
      where,
    }: {
      id: number;
      matchers: string;
      until: string;
      who: string;
      where: string;
    }) => `#${id} ${matchers} · until ${until} · by ${who} · ${where}`,
    more: ({ shown }: { shown: number }) => `… and more; showing the ${shown} ending soonest.`,
    unknown: ({ ref }: { ref: string }) => `No silence ${ref}. /silence list shows the active ones.`,
    expiredInAlertmanagerToo: ({ id, who }: { id: number; who: string }) =>
      `Silence #${id} was already expired here by ${who}; Alertmanager, which still applied it, has it expired now too.`,
    expiredHereOnly: ({ id, note }: { id: number; note: string }) =>
      `Silence #${id} is expired here. ${note}`,
    endedAt: ({ at }: { at: string }) => `it ended at ${at}`,
    expiredByAt: ({ who, at }: { who: string; at: string }) => `${who} expired it at ${at}`,
    alreadyOver: ({ id, over }: { id: number; over: string }) => `Silence #${id} is already over: ${over}.`,
    expired: ({ id, matchers, who, note }: { id: number; matchers: string; who: string; note: string }) =>
      `Silence #${id} (${matchers}) expired by ${who}.${note === "" ? "" : ` ${note}`}`,
    amStillHolds: "Alertmanager still holds it: no ALERTMANAGER_URL is set.",
    amDidNotExpire: ({ error }: { error: string }) => `Alertmanager did not expire it: ${error}`,
  },

  /** The questions the bot asks and waits for (bot/conversations/). */
  dialogues: {
    whyReject: ({ who, subject, minutes }: { who: string; subject: string; minutes: number }) =>
      `${who}, why reject ${subject}? Reply with a reason (within ${minutes} min), or /cancel.`,
    reasonPlaceholder: "reason",
    rejectTooLate: ({ id }: { id: string }) =>
      `Too late for the reason on ${id}; nothing was rejected. Press Reject again.`,
    rejectCancelled: ({ id }: { id: string }) => `Reject of ${id} cancelled; nothing changed.`,
    reasonTooShort: "A reason of a few words, please (or /cancel).",
    silenceTooLate: "Too late: the silence was not created. Send /silence again.",
    silenceCancelled: "Cancelled: no silence was created.",
    whichAlerts: ({ who }: { who: string }) =>
      `${who}, which alerts? Send label matchers, e.g. service=awoooi-api (k=v, k=~regex, k!=v), or /cancel.`,
    notMatchers: "each word must be a matcher like service=awoooi-api",
    didNotWork: ({ problem }: { problem: string }) => `That did not work: ${problem}. Which alerts?`,
    howLong: ({ matchers, max }: { matchers: string; max: string }) =>
      `Silence ${matchers} for how long? e.g. 30m, 2h, 1d (at most ${max}).`,
    durationPlease: ({ max }: { max: string }) => `A duration like 30m, 2h or 1d, at most ${max}, please.`,
    why: `Why? A short reason for the team, or "-" for none.`,
  },

  status: {
    title: "📊 Status",
    state: {
      ok: "reachable",
      down: "unreachable",
      unusable: "unusable",
      configured: "configured",
      not_configured: "not configured",
    },
    until: ({ time }: { time: string }) => `until ${time}`,
    overridesUnknown: ({ error }: { error: string }) => `Chain overrides unknown (${error})`,
    modelSwitched: ({ model, until }: { model: string; until: string }) =>
      `Ollama model switched to ${model} (SWITCH_MODEL, ${until})`,
    providerSkipped: ({ provider, until }: { provider: string; until: string }) =>
      `${provider} skipped (FALLBACK_AI, ${until})`,
    signozReading: ({ table }: { table: string }) => `reading ${table}`,
    /** The SigNoz trace table (gateways/signoz-spans.ts): found by looking, or named by the setting. */
    signozTable: ({ table, schema, detected }: { table: string; schema: string; detected: boolean }) =>
      `${table} (${schema} schema, ${detected ? "detected" : "set by SIGNOZ_TRACES_TABLE"})`,
    signozNoTable: ({ reason }: { reason: string }) => `no SigNoz trace table found (${reason})`,
    /** The targets-file executors' targets, by kind. */
    target: {
      redisCache: ({ name }: { name: string }) => `Redis cache ${name}`,
      postgres: ({ name }: { name: string }) => `PostgreSQL ${name}`,
      logDirectory: ({ directory }: { directory: string }) => `Log directory ${directory}`,
      certificate: ({ name }: { name: string }) => `Certificate ${name}`,
    },
    queues: "Queues",
    queuesColumns: " (waiting / active / delayed / failed)",
    llm: "LLM providers",
    llmOrder: " (in chain order)",
    executors: "Executor targets",
    openIncidents: "Open incidents",
    unknownBecause: ({ error }: { error: string }) => `unknown (${error})`,
    repairs: "Automatic repairs",
    repairsUsed: ({ used, max }: { used: number; max: number }) => `${used}/${max} this hour`,
    repairsUnknown: ({ error, max }: { error: string; max: number }) =>
      `unknown (${error}), budget ${max}/hour`,
    /** Between two problems of one dependency. */
    detailJoiner: "; ",
  },

  whoami: {
    chat: ({ id, type }: { id: string; type: string }) => `Chat id: ${id} (${type})`,
    configured: "This chat is configured: cards and commands work here.",
    notConfigured:
      "This chat is not configured: set TELEGRAM_CHAT_ID (or a TELEGRAM_ROUTES entry) to its id.",
    approver: "an approver",
    viewer: "a viewer",
    neither: "neither an approver nor a viewer",
    user: ({ id, role }: { id: string; role: string }) => `Your user id: ${id}; you are ${role}.`,
  },

  /** Answers to presses and commands (toasts are cut to 200 characters by the bot). */
  answers: {
    notAnApprover: "You are not on the approver list.",
    notAResponder: "You are not on the responder list (TELEGRAM_RESPONDER_IDS or the approvers).",
    noIncident: ({ id }: { id: string }) => `No incident ${id}.`,
    alreadyResolved: ({ id }: { id: string }) => `${id} is already resolved.`,
    workingOnIt: "Working on it…",
    noLongerValid: "This button is no longer valid.",
    notThisCard: "This button does not belong to this message; nothing changed.",
    notForYou:
      "This bot serves its team's incident chats only. If you are on the team, ask an admin to add your Telegram id to TELEGRAM_VIEWER_IDS",
    yourId: ({ id }: { id: string }) => ` (yours is ${id}).`,
    notAvailable: ({ verb }: { verb: string }) => `${verb} is not available yet`,
    askReason: "Reply with a reason, or /cancel.",
    snoozeHowLong: "Snooze for how long?",
    silenceHowLong: "Silence for how long?",
    cancelled: "Cancelled; nothing changed.",
    silencing: ({ span }: { span: string }) => `🔕 Silencing for ${span}…`,
    user: ({ id }: { id: number }) => `user ${id}`,
    // "I'm on it"
    alreadyYours: ({ id, since }: { id: string; since: string }) =>
      `${id} is already yours (since ${since}).`,
    taken: ({ id }: { id: string }) => `👀 ${id} is yours; the SLA escalation is off.`,
    takenOver: ({ id, from }: { id: string; from: string }) =>
      `👀 You took ${id} over from ${from}; the SLA escalation is off.`,
    ackUsage: "Usage: /ack <incident id>, e.g. /ack INC-20260329-0001",
    // Approve
    staleProposal: ({ action }: { action: string }) =>
      `This card showed an older proposal; ${action} is proposed now. Nothing changed: look at the updated card and press again.`,
    nothingProposed: "Nothing is waiting for approval: no action is proposed.",
    alreadyDecided: ({ action, rejected, who }: { action: string; rejected: boolean; who: string }) =>
      `Nothing is waiting for approval: ${action} was already ${rejected ? "rejected" : "approved"} by ${who}.`,
    system: "system",
    cannotRunHere: ({ action, why }: { action: string; why: string }) =>
      `${action} can't run here: ${why}. Nothing changed.`,
    approved: ({ action }: { action: string }) => `Approved: ${action}. Running it now.`,
    // Reject
    nothingToRejectProposed: "Nothing to reject: no action is proposed.",
    nothingToReject: ({ action, rejected, who }: { action: string; rejected: boolean; who: string }) =>
      `Nothing to reject: ${action} was already ${rejected ? "rejected" : "approved"} by ${who}.`,
    alreadyRejected: ({ who }: { who: string }) => `Nothing to reject: already rejected by ${who}.`,
    rejectActionSubject: ({ action, id }: { action: string; id: string }) => `${action} on ${id}`,
    rejectAnalysisSubject: ({ id }: { id: string }) => `the analysis of ${id}`,
    rejected: ({ action, id }: { action: string; id: string }) => `Rejected ${action} on ${id}.`,
    rejectedAnalysis: ({ id }: { id: string }) => `Recorded: ${id} rejected (no action was proposed).`,
    // Snooze
    alreadySnoozed: ({ who, until }: { who: string; until: string }) =>
      `Already snoozed by ${who} until ${until}.`,
    snoozed: ({ until }: { until: string }) => `Snoozed until ${until}. I'll remind you if it's still open.`,
    // Silences
    cannotSilence: ({ problem }: { problem: string }) => `Cannot silence: ${problem}.`,
    silenceTooLong: ({ max }: { max: string }) => `a silence may last at most ${max}`,
    silenceTooShort: "a silence lasts at least 1m",
    notSilenced: ({ detail }: { detail: string }) => `Not silenced. ${detail}`,
    localOnly: "local only: no ALERTMANAGER_URL is set, so Alertmanager still notifies",
    silenceCreated: ({ id, until, local }: { id: number; until: string; local: boolean }) =>
      `Silence #${id} until ${until}${local ? ` (local only: no ALERTMANAGER_URL is set, so Alertmanager still notifies)` : " in Alertmanager"}.`,
    silencedMatching: ({ text, matchers }: { text: string; matchers: string }) =>
      `${text} Matching: ${matchers}`,
    silencedBy: ({ id, who, text }: { id: string; who: string; text: string }) =>
      `🔕 ${id} silenced by ${who}. ${text}`,
    // Silence from the card
    alreadySilenced: ({ who, until }: { who: string; until: string }) =>
      `Already silenced by ${who} until ${until}.`,
  },
};

/** The shape every language fills: the English catalogue's keys and arguments. */
export type Messages = typeof en;

// The one place that reads the environment. Every setting (README: Settings) is parsed here once,
// at start-up; the rest of the code receives the frozen `Config` object.
import { existsSync } from "node:fs";
import { z } from "zod";
import { isTimeZone } from "../domain/time.js";
import { DEFAULT_LANGUAGE, isLanguage, LANGUAGES } from "../domain/i18n/index.js";

const PROVIDERS = ["ollama", "gemini", "claude"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

const ROLES = ["http", "bot", "worker"] as const;
export type Role = (typeof ROLES)[number];

/** Values of these settings never appear in an error message (and belong in a Secret, not a ConfigMap). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "API_TOKEN",
  "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_WEBHOOK_SECRET",
  "ALERTMANAGER_WEBHOOK_SECRET",
  "SENTRY_WEBHOOK_SECRET",
  "GRAFANA_WEBHOOK_SECRET",
  "GEMINI_API_KEY",
  "ANTHROPIC_API_KEY",
  "DATABASE_URL",
  "REDIS_URL",
  "METRICS_TOKEN",
]);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

/**
 * Values that are not secrets: the ones published in .env.example and the usual placeholders. A
 * bot started with one of them would open its API and its webhooks to anyone who read the example.
 */
const PLACEHOLDER =
  /change[-_ .]?me|replace[-_ .]?(me|with)|^(x{3,}|\*+|secret|password|passw0rd|token|changeit|example|placeholder|todo|tbd|default|admin|test|dummy|1234\d*)$|^your[-_ ]|<[^>]+>/i;

const GENERATE = "generate one with `openssl rand -hex 32`";

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value.trim());
}

const secret = (minLength: number) =>
  z
    .string({ error: "is required" })
    .trim()
    .min(minLength, { error: `must be at least ${minLength} characters; ${GENERATE}` })
    .refine((value) => !isPlaceholder(value), { error: `is a placeholder, not a secret; ${GENERATE}` });

const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a URL (${protocols.join(" or ")})` },
    );

const optionalUrl = (protocols: readonly string[]) => optionalString.pipe(url(protocols).optional());

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      const parsed = Number(value);
      if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
        ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const ratio = (fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
        ctx.addIssue({ code: "custom", message: "must be a number from 0 to 1" });
        return z.NEVER;
      }
      return parsed;
    });

const boolean = (fallback: boolean) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      const normalized = value.toLowerCase();
      if (["true", "1", "yes", "on"].includes(normalized)) return true;
      if (["false", "0", "no", "off"].includes(normalized)) return false;
      ctx.addIssue({ code: "custom", message: "must be true or false" });
      return z.NEVER;
    });

/** A comma-separated list whose items must come from `allowed`. */
const list = <T extends string>(allowed: readonly T[], fallback: readonly T[]) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return [...fallback];
      const items = value
        .split(",")
        .map((item) => item.trim().toLowerCase())
        .filter((item) => item !== "");
      const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
      if (unknown.length > 0) {
        ctx.addIssue({
          code: "custom",
          message: `has unknown entries ${unknown.join(", ")} (allowed: ${allowed.join(", ")})`,
        });
        return z.NEVER;
      }
      return [...new Set(items)] as T[];
    });

const CHAT = String.raw`-?\d{1,16}|@[A-Za-z][A-Za-z0-9_]{3,31}`;
const CHAT_FORMS =
  "a numeric chat id (e.g. -1001234567890), @channelname, or a forum topic as <chat id>/<message_thread_id> (e.g. -1001234567890/42)";

/** Where cards go: a chat, or one topic of a forum supergroup (domain/chat-place.ts). */
export interface ChatAddress {
  chatId: string;
  /** message_thread_id of a forum topic; absent: the chat itself (a forum's General topic). */
  threadId?: number;
}

/**
 * `-1001234/42` → { chatId: "-1001234", threadId: 42 }; a message naming what is wrong otherwise.
 * Thread 1 is a forum's General topic, which Telegram takes no message_thread_id for.
 */
function parseChatAddress(value: string): ChatAddress | string {
  const match = new RegExp(String.raw`^(${CHAT})(?:/(\d{1,10}))?$`).exec(value);
  if (match === null) return `must be ${CHAT_FORMS}`;
  const [, chat = "", thread] = match;
  if (thread === undefined) return { chatId: chat };
  const threadId = Number(thread);
  if (threadId === 0) return `names topic 0 in ${chat}: a message_thread_id is a positive number`;
  if (threadId === 1)
    return `names topic 1 in ${chat}, the General topic, which takes no message_thread_id: write ${chat} alone`;
  return { chatId: chat, threadId };
}

const chatAddress = z
  .string({ error: "is required" })
  .trim()
  .transform((value, ctx): ChatAddress => {
    const parsed = parseChatAddress(value);
    if (typeof parsed === "string") {
      ctx.addIssue({ code: "custom", message: parsed });
      return z.NEVER;
    }
    return parsed;
  });

const userIds = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === "") return [];
    const items = value.split(",").map((item) => item.trim());
    if (items.some((item) => !/^\d{1,16}$/.test(item))) {
      ctx.addIssue({
        code: "custom",
        message: "must be a comma-separated list of numeric Telegram user ids",
      });
      return z.NEVER;
    }
    return items.map(Number);
  });

/** `@alice,bob` → ["alice", "bob"]: Telegram usernames to mention when an incident escalates. */
const usernames = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === "") return [];
    const items = value
      .split(",")
      .map((item) => item.trim().replace(/^@/, ""))
      .filter((item) => item !== "");
    if (items.some((item) => !/^[A-Za-z][A-Za-z0-9_]{3,31}$/.test(item))) {
      ctx.addIssue({ code: "custom", message: "must be a comma-separated list of Telegram usernames" });
      return z.NEVER;
    }
    return items;
  });

export interface ChatRoute extends ChatAddress {
  /** Cards of this severity, or of incidents in this namespace, go to `chatId` (its topic `threadId`). */
  match: { severity: "P0" | "P1" | "P2" } | { namespace: string };
}

/** `P0=-1001,namespace:monitoring=-1002/42`: extra chats (or forum topics) by severity or namespace. */
const routes = z
  .string()
  .optional()
  .transform((value, ctx): ChatRoute[] => {
    if (value === undefined || value.trim() === "") return [];
    const result: ChatRoute[] = [];
    for (const entry of value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "")) {
      const match = /^(?:(P[012])|namespace:([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?))=(.+)$/.exec(entry);
      if (match === null) {
        ctx.addIssue({
          code: "custom",
          message: `entry ${JSON.stringify(entry)} must be P0=<chat id>, P1=…, P2=… or namespace:<name>=<chat id>, where a chat id may name a forum topic as <chat id>/<message_thread_id>`,
        });
        return z.NEVER;
      }
      const [, severity, namespace, , chat = ""] = match;
      const address = parseChatAddress(chat);
      if (typeof address === "string") {
        ctx.addIssue({ code: "custom", message: `entry ${JSON.stringify(entry)}: ${chat} ${address}` });
        return z.NEVER;
      }
      result.push({
        match:
          severity === undefined
            ? { namespace: namespace ?? "" }
            : { severity: severity as "P0" | "P1" | "P2" },
        ...address,
      });
    }
    return result;
  });

/** An IANA zone name ("Asia/Taipei") this runtime's Intl knows; "UTC" when unset. */
const timeZone = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const name = value === undefined || value.trim() === "" ? "UTC" : value.trim();
    if (!isTimeZone(name)) {
      ctx.addIssue({ code: "custom", message: `must be an IANA time zone such as Asia/Taipei or UTC` });
      return z.NEVER;
    }
    return name;
  });

/** BOT_LANGUAGE: the chat's language; English when unset (the README says why). */
const language = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const name = value === undefined || value.trim() === "" ? DEFAULT_LANGUAGE : value.trim();
    if (!isLanguage(name)) {
      ctx.addIssue({ code: "custom", message: `must be one of ${LANGUAGES.join(", ")}` });
      return z.NEVER;
    }
    return name;
  });

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

const EnvSchema = z
  .object({
    API_TOKEN: secret(16),
    TELEGRAM_BOT_TOKEN: z
      .string({ error: "is required" })
      .trim()
      .regex(/^\d+:[A-Za-z0-9_-]+$/, { error: "must look like 123456:ABC-DEF (the token BotFather gave)" })
      .refine((value) => !isPlaceholder(value.slice(value.indexOf(":") + 1)), {
        error: "is the example's placeholder: use the token BotFather gave you",
      }),
    TELEGRAM_API_ROOT: optionalUrl(["http:", "https:"]).transform(
      (value) => value ?? "https://api.telegram.org",
    ),
    TELEGRAM_CHAT_ID: chatAddress,
    TELEGRAM_APPROVER_IDS: userIds,
    TELEGRAM_VIEWER_IDS: userIds,
    TELEGRAM_ONCALL_USERNAMES: usernames,
    TELEGRAM_ROUTES: routes,
    TELEGRAM_RESPONDER_IDS: userIds,
    BOT_TIMEZONE: timeZone,
    BOT_LANGUAGE: language,
    // Webhook mode: Telegram POSTs updates to this URL (served by the http role) instead of the bot
    // role long-polling. Telegram requires HTTPS on port 443, 80, 88 or 8443 in production.
    TELEGRAM_WEBHOOK_URL: optionalUrl(["https:", "http:"]),
    // Telegram sends it back in X-Telegram-Bot-Api-Secret-Token: 1-256 of A-Z a-z 0-9 _ -
    TELEGRAM_WEBHOOK_SECRET: optionalString.pipe(
      secret(16)
        .regex(/^[A-Za-z0-9_-]{1,256}$/, { error: "must be 16-256 characters of A-Z, a-z, 0-9, _ and -" })
        .optional(),
    ),
    ESCALATE_P0_SECONDS: integer(300, 1, 7 * 24 * 3600),
    ESCALATE_P1_SECONDS: integer(900, 1, 7 * 24 * 3600),
    ESCALATE_P2_SECONDS: integer(3600, 1, 7 * 24 * 3600),
    STORM_THRESHOLD: integer(10, 1, 10_000),
    STORM_WINDOW_SECONDS: integer(60, 1, 3600),
    REDIS_URL: optionalUrl(["redis:", "rediss:"]),
    REDIS_PREFIX: optionalString
      .pipe(
        z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,32}$/, { error: "must be 1-32 letters, digits, _ or -" })
          .optional(),
      )
      .transform((value) => value ?? "chatops"),
    DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
    REQUIRE_DURABLE_REDIS: boolean(false),
    METRICS_TOKEN: optionalString.pipe(secret(16).optional()),
    // read by loadConfig before parsing; listed so that it is a known setting
    ENV_FILE: optionalString,
    LOCAL_SERVICES: optionalString
      .pipe(z.enum(["auto", "on", "off"], { error: "must be auto, on or off" }).optional())
      .transform((value) => value ?? "auto"),
    LOCAL_DATA_DIR: optionalString.transform((value) => value ?? ".data"),
    PATH: optionalString.transform((value) => value ?? "/usr/local/bin:/usr/bin:/bin"),
    PORT: integer(8080, 0, 65535),
    HOST: optionalString.transform((value) => value ?? "0.0.0.0"),
    // Roles without `http` answer only the health routes on this port (a pod's probes); 0: none.
    HEALTH_PORT: integer(0, 0, 65535),
    // On SIGTERM, readiness turns false this long before intake stops, so a load balancer (a
    // Kubernetes Service) stops sending first; 0 for a process nothing balances to.
    SHUTDOWN_DELAY_SECONDS: integer(0, 0, 120),
    ROLES: list(ROLES, ROLES),
    LOG_LEVEL: optionalString
      .pipe(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional())
      .transform((value) => value ?? "info"),
    ALERTMANAGER_URL: optionalUrl(["http:", "https:"]),
    ALERTMANAGER_WEBHOOK_SECRET: secret(12),
    SENTRY_WEBHOOK_SECRET: optionalString.pipe(secret(12).optional()),
    SENTRY_DEDUP_TTL: integer(600, 1, 7 * 24 * 3600),
    // a Sentry delivery whose Sentry-Hook-Timestamp is further than this from now is a replay
    SENTRY_REPLAY_WINDOW_SECONDS: integer(300, 10, 24 * 3600),
    // 32 MiB: a group of 3,000 real alerts after a node loss is 2-4 MiB; Alertmanager does not retry a 413
    ALERTMANAGER_MAX_BODY_BYTES: integer(32 * 1024 * 1024, 1024 * 1024, 512 * 1024 * 1024),
    // bytes of webhook bodies read, parsed and queued at once (http/body-budget.ts); the rest wait
    WEBHOOK_BODIES_IN_FLIGHT_BYTES: integer(1024 * 1024, 64 * 1024, 512 * 1024 * 1024),
    GRAFANA_WEBHOOK_SECRET: optionalString.pipe(secret(12).optional()),
    // alerts that fire all the time by design: they never page, their absence does
    HEARTBEAT_ALERTS: optionalString.transform((value) =>
      value === undefined
        ? ["Watchdog"]
        : value
            .split(",")
            .map((item) => item.trim())
            .filter((item) => item !== "" && item !== "none"),
    ),
    HEARTBEAT_TIMEOUT_SECONDS: integer(900, 30, 7 * 24 * 3600),
    ALERT_DEDUP_TTL: integer(600, 1, 7 * 24 * 3600),
    SIGNOZ_CLICKHOUSE_URL: optionalUrl(["http:", "https:"]),
    SIGNOZ_ANOMALY_THRESHOLD_ERROR_COUNT: integer(10, 1, 1_000_000_000),
    // Unset: the poller finds SigNoz's trace table itself (gateways/signoz-spans.ts).
    SIGNOZ_TRACES_TABLE: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, {
          error:
            "must be database.table (letters, digits and _), e.g. signoz_traces.distributed_signoz_index_v3",
        })
        .optional(),
    ),
    AUTO_REPAIR_ENABLED: boolean(false),
    AUTO_REPAIR_MAX_PER_HOUR: integer(5, 0, 10_000),
    AUTO_REPAIR_MIN_CONFIDENCE: ratio(0.85),
    AUTO_REPAIR_DRY_RUN: boolean(false),
    AUTO_REPAIR_MAX_PER_RESOURCE: integer(3, 0, 10_000),
    AUTO_REPAIR_COOLDOWN_SECONDS: integer(600, 0, 7 * 24 * 3600),
    AUTO_REPAIR_MAX_AFFECTED_PODS: integer(3, 0, 10_000),
    AUTO_REPAIR_MIN_HEALTHY_REPLICAS: integer(1, 0, 10_000),
    AUTO_REPAIR_MAX_REPLICAS: integer(10, 1, 10_000),
    AUTO_REPAIR_EXECUTION_TIMEOUT_SECONDS: integer(60, 1, 3600),
    AUTO_REPAIR_VERIFY_SECONDS: integer(120, 1, 24 * 3600),
    AUTO_REPAIR_AUTO_ROLLBACK: boolean(false),
    AUTO_REPAIR_CONFIG: optionalString,
    AUTO_REPAIR_ALLOWED_NAMESPACES: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value.trim() === "") return ["awoooi-prod", "monitoring"];
        const items = value
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== "");
        if (items.some((item) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(item))) {
          ctx.addIssue({
            code: "custom",
            message: "must be a comma-separated list of Kubernetes namespace names",
          });
          return z.NEVER;
        }
        return items;
      }),
    OLLAMA_HOST: optionalUrl(["http:", "https:"]),
    OLLAMA_MODEL: optionalString,
    OLLAMA_FALLBACK_MODEL: optionalString,
    OLLAMA_NUM_CTX: integer(8192, 2048, 1_048_576),
    OLLAMA_FIRST_LOAD_TIMEOUT_SECONDS: integer(180, 1, 3600),
    GEMINI_API_KEY: optionalString,
    GEMINI_MODEL: optionalString,
    GEMINI_BASE_URL: optionalUrl(["http:", "https:"]),
    ANTHROPIC_API_KEY: optionalString,
    ANTHROPIC_BASE_URL: optionalUrl(["http:", "https:"]),
    ANTHROPIC_MODEL: optionalString,
    LLM_CHAIN: list(PROVIDERS, PROVIDERS),
    KUBECONFIG: optionalString,
    // Set by the kubelet in every pod: with a mounted service-account token they are the in-cluster
    // configuration, used when KUBECONFIG is not set.
    KUBERNETES_SERVICE_HOST: optionalString,
    KUBERNETES_SERVICE_PORT: optionalString.pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, { error: "must be a port number" })
        .transform(Number)
        .optional(),
    ),
    /** Where the service account is mounted; a test points it at a directory laid out the same way. */
    KUBERNETES_SERVICE_ACCOUNT_DIR: optionalString.transform(
      (value) => value ?? "/var/run/secrets/kubernetes.io/serviceaccount",
    ),
    DOCKER_HOST: optionalString.pipe(
      z
        .string()
        .regex(/^(unix|tcp|http|https|npipe):\/\/.+/, {
          error: "must be unix:///path/docker.sock or tcp://host:port",
        })
        .optional(),
    ),
    REGISTRY_PATH: optionalString.transform((value) => value ?? "registry/services.yaml"),
    PUBLIC_SIGNOZ_URL: optionalUrl(["http:", "https:"]),
  })
  .superRefine((env, ctx) => {
    // a webhook nobody can authenticate, or a secret with no webhook, is a half-done setup
    if (env.TELEGRAM_WEBHOOK_URL !== undefined && env.TELEGRAM_WEBHOOK_SECRET === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["TELEGRAM_WEBHOOK_SECRET"],
        message: `is required with TELEGRAM_WEBHOOK_URL; ${GENERATE}`,
      });
    if (env.TELEGRAM_WEBHOOK_SECRET !== undefined && env.TELEGRAM_WEBHOOK_URL === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["TELEGRAM_WEBHOOK_URL"],
        message: "is required with TELEGRAM_WEBHOOK_SECRET",
      });
  });

export type Env = z.input<typeof EnvSchema>;

/** Every setting the bot reads, for checks of deployment manifests and env files. */
export const SETTING_NAMES: readonly string[] = Object.keys(EnvSchema.shape);

function shape(env: z.output<typeof EnvSchema>, rolesNamed: boolean) {
  return {
    roles: env.ROLES,
    /**
     * ROLES not set: `npm start` runs every role, the workers and the bot in a worker thread of
     * their own (app/worker-thread.ts), so the HTTP acknowledgement never waits behind their work.
     * A ROLES that names them all runs them on one thread.
     */
    workersApart: !rolesNamed,
    logLevel: env.LOG_LEVEL,
    http: {
      port: env.PORT,
      host: env.HOST,
      apiToken: env.API_TOKEN,
      /** When set, GET /metrics needs it as a bearer token (off by default for in-cluster scraping). */
      metricsToken: env.METRICS_TOKEN,
      /** Health routes only, for roles without `http`; 0: none. */
      healthPort: env.HEALTH_PORT,
      /** Bytes of webhook bodies taken in at once; the others wait their turn (http/body-budget.ts). */
      webhookBodiesInFlightBytes: env.WEBHOOK_BODIES_IN_FLIGHT_BYTES,
    },
    shutdown: { delaySeconds: env.SHUTDOWN_DELAY_SECONDS },
    redis: {
      url: env.REDIS_URL ?? DEFAULT_REDIS_URL,
      prefix: env.REDIS_PREFIX,
      /** False when REDIS_URL is not set: the bot may bring up a Redis of its own (LOCAL_SERVICES). */
      configured: env.REDIS_URL !== undefined,
      /** REQUIRE_DURABLE_REDIS: refuse to start on a Redis that keeps nothing on disk. */
      requireDurable: env.REQUIRE_DURABLE_REDIS,
    },
    database: { url: env.DATABASE_URL ?? DEFAULT_DATABASE_URL, configured: env.DATABASE_URL !== undefined },
    /** Redis and PostgreSQL of the bot's own when nothing is configured or reachable (app/local-services.ts). */
    local: { mode: env.LOCAL_SERVICES, dir: env.LOCAL_DATA_DIR, searchPath: env.PATH },
    telegram: {
      token: env.TELEGRAM_BOT_TOKEN,
      apiRoot: env.TELEGRAM_API_ROOT,
      /** The default chat: cards no route claims, and where a refused chat's cards go meanwhile. */
      chatId: env.TELEGRAM_CHAT_ID.chatId,
      /** TELEGRAM_CHAT_ID's forum topic, when it names one (`<chat id>/<message_thread_id>`). */
      ...(env.TELEGRAM_CHAT_ID.threadId === undefined ? {} : { threadId: env.TELEGRAM_CHAT_ID.threadId }),
      approverIds: env.TELEGRAM_APPROVER_IDS,
      /** Who may read incidents in a private chat with the bot, besides the approvers. */
      viewerIds: env.TELEGRAM_VIEWER_IDS,
      oncallUsernames: env.TELEGRAM_ONCALL_USERNAMES,
      routes: env.TELEGRAM_ROUTES,
      /** Set: updates arrive by webhook at the http role; unset: the bot role long-polls. */
      webhook:
        env.TELEGRAM_WEBHOOK_URL === undefined || env.TELEGRAM_WEBHOOK_SECRET === undefined
          ? undefined
          : { url: env.TELEGRAM_WEBHOOK_URL, secret: env.TELEGRAM_WEBHOOK_SECRET },
      /**
       * Who may say "I'm on it" (take an incident): the approvers, and TELEGRAM_RESPONDER_IDS besides
       * (people on call who may not approve repairs).
       */
      responderIds: [...new Set([...env.TELEGRAM_APPROVER_IDS, ...env.TELEGRAM_RESPONDER_IDS])],
    },
    /** BOT_TIMEZONE: the zone every time in the chat is shown in. */
    timeZone: env.BOT_TIMEZONE,
    /** BOT_LANGUAGE: the language of every text in the chat, and of the models' cause and reasoning. */
    language: env.BOT_LANGUAGE,
    escalation: {
      afterSeconds: { P0: env.ESCALATE_P0_SECONDS, P1: env.ESCALATE_P1_SECONDS, P2: env.ESCALATE_P2_SECONDS },
    },
    storm: { threshold: env.STORM_THRESHOLD, windowSeconds: env.STORM_WINDOW_SECONDS },
    alertmanager: {
      url: env.ALERTMANAGER_URL,
      webhookSecret: env.ALERTMANAGER_WEBHOOK_SECRET,
      dedupTtlSeconds: env.ALERT_DEDUP_TTL,
      /** Largest webhook body taken on the Alertmanager and Grafana routes. */
      maxBodyBytes: env.ALERTMANAGER_MAX_BODY_BYTES,
    },
    sentry: {
      webhookSecret: env.SENTRY_WEBHOOK_SECRET,
      dedupTtlSeconds: env.SENTRY_DEDUP_TTL,
      /** Deliveries stamped further than this from now, or with a Request-ID seen within it, are replays. */
      replayWindowSeconds: env.SENTRY_REPLAY_WINDOW_SECONDS,
    },
    /** Grafana-managed alerting's webhook contact point: basic auth `grafana` with this password. */
    grafana: { webhookSecret: env.GRAFANA_WEBHOOK_SECRET ?? env.ALERTMANAGER_WEBHOOK_SECRET },
    /** The dead-man's switch: alert names that must keep arriving, and how long silence may last. */
    heartbeat: { alerts: env.HEARTBEAT_ALERTS, timeoutSeconds: env.HEARTBEAT_TIMEOUT_SECONDS },
    signoz: {
      clickhouseUrl: env.SIGNOZ_CLICKHOUSE_URL,
      anomalyThresholdErrorCount: env.SIGNOZ_ANOMALY_THRESHOLD_ERROR_COUNT,
      /** The trace table to read; undefined = the newest SigNoz table found. */
      tracesTable: env.SIGNOZ_TRACES_TABLE,
      publicUrl: env.PUBLIC_SIGNOZ_URL,
    },
    autoRepair: {
      enabled: env.AUTO_REPAIR_ENABLED,
      maxPerHour: env.AUTO_REPAIR_MAX_PER_HOUR,
      minConfidence: env.AUTO_REPAIR_MIN_CONFIDENCE,
      dryRun: env.AUTO_REPAIR_DRY_RUN,
      maxPerResourcePerHour: env.AUTO_REPAIR_MAX_PER_RESOURCE,
      cooldownSeconds: env.AUTO_REPAIR_COOLDOWN_SECONDS,
      maxAffectedPods: env.AUTO_REPAIR_MAX_AFFECTED_PODS,
      minHealthyReplicas: env.AUTO_REPAIR_MIN_HEALTHY_REPLICAS,
      maxReplicas: env.AUTO_REPAIR_MAX_REPLICAS,
      allowedNamespaces: env.AUTO_REPAIR_ALLOWED_NAMESPACES,
      executionTimeoutSeconds: env.AUTO_REPAIR_EXECUTION_TIMEOUT_SECONDS,
      verifySeconds: env.AUTO_REPAIR_VERIFY_SECONDS,
      autoRollback: env.AUTO_REPAIR_AUTO_ROLLBACK,
      /** YAML file naming the targets of CLEAR_CACHE, VACUUM_DB, CLEANUP_LOGS and RENEW_CERT. */
      configPath: env.AUTO_REPAIR_CONFIG,
    },
    llm: {
      chain: env.LLM_CHAIN,
      ollama: {
        host: env.OLLAMA_HOST,
        model: env.OLLAMA_MODEL,
        fallbackModel: env.OLLAMA_FALLBACK_MODEL,
        /** The largest window (`num_ctx`) asked for; each prompt gets the power of two it needs up to this. */
        numCtx: env.OLLAMA_NUM_CTX,
        /** A call that first loads the model waits this long instead of the usual 60 s. */
        firstLoadTimeoutMs: env.OLLAMA_FIRST_LOAD_TIMEOUT_SECONDS * 1000,
      },
      gemini: { apiKey: env.GEMINI_API_KEY, baseUrl: env.GEMINI_BASE_URL, model: env.GEMINI_MODEL },
      claude: { apiKey: env.ANTHROPIC_API_KEY, baseUrl: env.ANTHROPIC_BASE_URL, model: env.ANTHROPIC_MODEL },
    },
    kubeconfig: env.KUBECONFIG,
    /** The API server and service account a pod sees; KUBECONFIG wins when both are there. */
    kubeInCluster:
      env.KUBERNETES_SERVICE_HOST === undefined || env.KUBERNETES_SERVICE_PORT === undefined
        ? undefined
        : {
            host: env.KUBERNETES_SERVICE_HOST,
            port: env.KUBERNETES_SERVICE_PORT,
            serviceAccountDir: env.KUBERNETES_SERVICE_ACCOUNT_DIR,
          },
    dockerHost: env.DOCKER_HOST,
    registryPath: env.REGISTRY_PATH,
  };
}

export type Config = ReturnType<typeof shape>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses the environment. Throws a `ConfigError` whose message is one line naming every
 * missing or malformed setting; values of secrets are never echoed.
 */
export function parseConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "environment");
      const raw = env[key];
      const message = raw === undefined && issue.code === "invalid_type" ? "is required" : issue.message;
      const shown = raw !== undefined && !SECRET_KEYS.has(key) ? ` (got ${JSON.stringify(raw)})` : "";
      return `${key} ${message}${shown}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return deepFreeze(shape(result.data, (env.ROLES ?? "").trim() !== ""));
}

/**
 * The environment of the workers' thread `npm start` runs: this process's own, with `overrides` on
 * top (a worker thread gets a copy of its own).
 */
export function childEnvironment(overrides: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...overrides };
}

/**
 * Reads `.env` (if present, never overriding the real environment; ENV_FILE names another file, or
 * `off` for none), then parses `process.env`.
 */
export function loadConfig(): Readonly<Config> {
  const envFile = process.env.ENV_FILE ?? ".env";
  if (envFile !== "off" && existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(process.env);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

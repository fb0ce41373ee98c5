// The whole bot (HTTP, workers, Telegram long polling) on real Redis and PostgreSQL, talking to
// the Telegram emulator, isolated by schema and key prefix.
import { randomUUID } from "node:crypto";
import { pino, type Logger } from "pino";
import { sentrySignature } from "../http/auth.js";
import { startRuntime, type Runtime, type RuntimeOptions } from "../app/runtime.js";
import { parseConfig } from "../registry/config.js";
import { testEnv, TEST_SECRETS } from "./env.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { deleteKeys, uniquePrefix } from "./redis.js";
import {
  TelegramEmulator,
  type EmulatedMessage,
  type TelegramEmulatorOptions,
} from "./emulators/telegram.js";
import type { ThrottleOptions } from "../bot/send-throttle.js";
import { startKubeEmulator, type KubeEmulator } from "./emulators/kubernetes.js";

export const CHAT_ID = -1001234567890;

/** Client-side limits far above what any test sends (Telegram's are 20/min and 1/s per group). */
export const LIFTED_THROTTLE: ThrottleOptions = {
  global: { reservoirRefreshAmount: 10_000, reservoirRefreshInterval: 1_000 },
  group: { minTime: 0, reservoirRefreshAmount: 10_000, reservoirRefreshInterval: 60_000 },
  out: { minTime: 0 },
};

/** The emulator's per-chat pace, lifted for tests that lift the group limit. */
export const LIFTED_CHAT_PACE = { perChatPerSecond: 100_000, perChatBurst: 100_000 } as const;

export interface Stack {
  runtime: Runtime;
  /** The Kubernetes emulator the bot's KUBECONFIG points at, when asked for. */
  kube?: KubeEmulator;
  telegram: TelegramEmulator;
  db: TestDatabase;
  prefix: string;
  url: string;
  close(): Promise<void>;
}

export async function startStack(
  options: {
    env?: Record<string, string | undefined>;
    telegram?: TelegramEmulatorOptions;
    runtime?: RuntimeOptions;
    /** A Kubernetes emulator for KUBECONFIG, so the Kubernetes executors can run (and cards offer Approve). */
    kubernetes?: boolean;
    /** Where the bot logs (default: nowhere, or at TEST_LOG_LEVEL to stdout). */
    logger?: Logger;
  } = {},
): Promise<Stack> {
  const kube = options.kubernetes === true ? await startKubeEmulator({ podReadyDelayMs: 0 }) : undefined;
  const telegram = new TelegramEmulator({
    token: TEST_SECRETS.telegramToken,
    // A test that lifts the group limit lifts the bot's client-side pacing too (LIFTED_THROTTLE),
    // so the per-chat pace goes with it unless the test sets it: such tests are about something
    // other than flood control (say so in the test), and would otherwise wait out 429s.
    ...(options.telegram?.groupPerMinute === undefined ? {} : LIFTED_CHAT_PACE),
    ...options.telegram,
  });
  await telegram.start();
  const db = await createTestDatabase({ migrate: false });
  const prefix = uniquePrefix();
  const config = parseConfig(
    testEnv({
      DATABASE_URL: db.url,
      REDIS_PREFIX: prefix,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_CHAT_ID: String(CHAT_ID),
      PORT: "0",
      HOST: "127.0.0.1",
      ...(kube === undefined ? {} : { KUBECONFIG: kube.kubeconfigPath }),
      ...options.env,
    }),
  );
  const runtime = await startRuntime(config, {
    // the emulator enforces Telegram's limits; a test that raises them raises the bot's too
    ...(options.telegram?.groupPerMinute === undefined ? {} : { telegramThrottle: LIFTED_THROTTLE }),
    ...options.runtime,
    logger:
      options.logger ?? options.runtime?.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  return {
    runtime,
    ...(kube === undefined ? {} : { kube }),
    telegram,
    db,
    prefix,
    url: runtime.url ?? "",
    async close() {
      await runtime.close();
      await telegram.close();
      await kube?.close();
      await deleteKeys(prefix);
      await db.drop();
    },
  };
}

/** The stack's Telegram bot (every role runs in it, so the bot is there; a test that changes ROLES has none). */
export function botOf(stack: Pick<Stack, "runtime">): NonNullable<Runtime["bot"]> {
  const bot = stack.runtime.bot;
  if (bot === undefined)
    throw new Error(`no Telegram bot in this stack (ROLES=${stack.runtime.config.roles.join(",")})`);
  return bot;
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    // a delivery the server never answers fails here, by name, not as the whole test's timeout
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/**
 * The headers Sentry sends with a delivery: the resource, the HMAC of the exact body, the time it
 * was sent (unix seconds) and a Request-ID of its own (a uuid4 hex), as the bot's replay window needs.
 */
export function sentryHeaders(body: string, resource: string, at: Date = new Date()): Record<string, string> {
  return {
    "sentry-hook-resource": resource,
    "sentry-hook-signature": sentrySignature(Buffer.from(body), TEST_SECRETS.sentry),
    "sentry-hook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "request-id": randomUUID().replaceAll("-", ""),
  };
}

export const alertmanagerAuth = {
  authorization: `Basic ${Buffer.from(`alertmanager:${TEST_SECRETS.alertmanager}`).toString("base64")}`,
};

/**
 * Whether a card's text shows a stored analysis: its "🤖 AI analysis" heading, not the line a card
 * shows before one ("AI analysis: pending…", or failed, or not run).
 */
export const showsAnalysis = (text: string): boolean => /AI analysis(?!:)/.test(text);

/** Resolves with the chat's messages once `predicate` holds for them. */
export async function waitForChat(
  telegram: TelegramEmulator,
  predicate: (messages: EmulatedMessage[]) => boolean,
  timeoutMs = 10_000,
  chatId: number = CHAT_ID,
): Promise<EmulatedMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = telegram.messages(chatId);
    if (predicate(messages)) return messages;
    if (Date.now() > deadline) {
      throw new Error(
        `chat did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(messages.map((m) => m.text))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The callback data of a card's `verb` button as the chat shows it now: Approve and Reject name
 * the proposal the card shows (`v1:approve:<id>:#<action>`), so tests press what a person would.
 */
export function buttonData(
  telegram: TelegramEmulator,
  messageId: number,
  verb: string,
  chatId: number | string = CHAT_ID,
): string {
  const data = (telegram.message(chatId, messageId)?.reply_markup?.inline_keyboard ?? [])
    .flat()
    .flatMap((button) => ("callback_data" in button ? [button.callback_data] : []))
    .find((candidate) => candidate.startsWith(`v1:${verb}:`));
  if (data === undefined) throw new Error(`message ${messageId} has no ${verb} button`);
  return data;
}

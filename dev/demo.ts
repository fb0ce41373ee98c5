// `npm run demo`: the whole bot (HTTP, workers, Telegram long polling) against the project's
// Telegram emulator instead of Telegram, on the local Redis and PostgreSQL (its own schema and
// key prefix, removed afterwards). Fires the seed's sample alert, repeats it, resolves it, and
// prints the card as the chat shows it after each step.
import pg from "pg";
import { pino } from "pino";
import { startRuntime } from "../app/runtime.js";
import { parseConfig } from "../registry/config.js";
import { alertmanagerPayload } from "./alerts.js";
import { testEnv, TEST_SECRETS } from "./env.js";
import { deleteKeys } from "./redis.js";
import { CHAT_ID, alertmanagerAuth, postJson, waitForChat } from "./stack.js";
import { TelegramEmulator, type EmulatedMessage } from "./emulators/telegram.js";

const env = process.env;
const databaseUrl = env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
const schema = `chatops_demo_${process.pid}`;
const prefix = `chatops-demo-${process.pid}`;

function show(step: string, message: EmulatedMessage | undefined): void {
  const buttons = message?.reply_markup?.inline_keyboard.map((row) =>
    row.map((button) => `[${button.text}]`).join(" "),
  );
  console.log(
    `\n──── ${step} (message ${message?.message_id ?? "?"}, edits: ${message?.editCount ?? 0}) ────`,
  );
  console.log(message?.text ?? "(no card)");
  if (buttons !== undefined && buttons.length > 0) console.log(buttons.join("\n"));
}

const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
const telegram = new TelegramEmulator({ token: TEST_SECRETS.telegramToken, groupPerMinute: 1_000 });
await telegram.start();
const url = new URL(databaseUrl);
url.searchParams.set("options", `-c search_path=${schema}`);
const config = parseConfig(
  testEnv({
    DATABASE_URL: url.toString(),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHAT_ID: String(CHAT_ID),
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  }),
);
const runtime = await startRuntime(config, { logger: pino({ level: "warn" }) });
try {
  const webhook = `${runtime.url ?? ""}/api/v1/webhooks/alertmanager`;
  const startsAt = new Date(Date.now() - 60_000);
  console.log(`bot at ${runtime.url ?? "?"}, Telegram emulator at ${telegram.apiRoot}`);

  const firing = await postJson(webhook, alertmanagerPayload({ startsAt }), alertmanagerAuth);
  console.log(`POST ${webhook} → ${firing.status} ${JSON.stringify(firing.body)}`);
  show("the seed's sample alert: AWOOOIAPIDown", (await waitForChat(telegram, (all) => all.length === 1))[0]);

  await postJson(webhook, alertmanagerPayload({ startsAt }), alertmanagerAuth);
  show(
    "the same alert again: edited in place",
    (await waitForChat(telegram, (all) => (all[0]?.editCount ?? 0) >= 1))[0],
  );

  await postJson(webhook, alertmanagerPayload({ status: "resolved", startsAt }), alertmanagerAuth);
  show("resolved", (await waitForChat(telegram, (all) => /RESOLVED/.test(all[0]?.text ?? "")))[0]);
  console.log(
    `\nTelegram calls: ${telegram.calls
      .filter((call) => call.method !== "getUpdates")
      .map((call) => call.method)
      .join(", ")}`,
  );
} finally {
  await runtime.close();
  await telegram.close();
  await deleteKeys(prefix, redisUrl);
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}

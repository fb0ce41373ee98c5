// A complete, valid environment for tests; override what a test is about. It never reads a
// developer's .env (ENV_FILE=off), and points at the Redis the test run uses.
export const TEST_SECRETS = {
  apiToken: "test-api-token-0123456789",
  alertmanager: "am-webhook-secret-0123",
  sentry: "sentry-client-secret-0123",
  telegramToken: "123456:TEST-TOKEN",
} as const;

export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    API_TOKEN: TEST_SECRETS.apiToken,
    TELEGRAM_BOT_TOKEN: TEST_SECRETS.telegramToken,
    TELEGRAM_CHAT_ID: "-1001234567890",
    TELEGRAM_APPROVER_IDS: "1001,1002",
    ALERTMANAGER_WEBHOOK_SECRET: TEST_SECRETS.alertmanager,
    SENTRY_WEBHOOK_SECRET: TEST_SECRETS.sentry,
    LOG_LEVEL: "silent",
    ENV_FILE: "off",
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    ...overrides,
  };
}

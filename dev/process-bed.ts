// What a test of `npm start` as a child process needs around it: its own database (migrated by the
// bot itself), its own Redis prefix, and a Telegram emulator with its flood limits lifted (the tests
// that use it are about processes and signals, not pacing). `env()` is the child's whole environment.
import { TEST_SECRETS, testEnv } from "./env.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { deleteKeys, uniquePrefix } from "./redis.js";
import { LIFTED_TELEGRAM_LIMITS, TelegramEmulator } from "./emulators/telegram.js";

export interface ProcessBed {
  db: TestDatabase;
  telegram: TelegramEmulator;
  prefix: string;
  /** testEnv pointed at this bed, listening on 127.0.0.1:`port`, with `overrides` on top. */
  env(port: number, overrides?: Record<string, string | undefined>): Record<string, string | undefined>;
  close(): Promise<void>;
}

export async function openProcessBed(): Promise<ProcessBed> {
  const db = await createTestDatabase({ migrate: false });
  const prefix = uniquePrefix();
  const telegram = await TelegramEmulator.start({
    token: TEST_SECRETS.telegramToken,
    ...LIFTED_TELEGRAM_LIMITS,
  });
  return {
    db,
    telegram,
    prefix,
    env: (port, overrides = {}) =>
      testEnv({
        DATABASE_URL: db.url,
        REDIS_PREFIX: prefix,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        PORT: String(port),
        HOST: "127.0.0.1",
        ...overrides,
      }),
    async close() {
      await telegram.close();
      await deleteKeys(prefix);
      await db.drop();
    },
  };
}

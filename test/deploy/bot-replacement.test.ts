// Replacing a lone bot pod (one replica scaled so, or a node lost: the old poller stops, then the
// new one starts; never two pollers at once) loses no button press: a press that arrives while the
// old process drains, and one that arrives while no process polls, are each answered exactly once.
// (With two replicas a standby takes over instead: test/e2e/replica-processes.test.ts.)
// Telegram keeps updates that nobody fetched (the emulator's queue does the same), and an update
// is confirmed only by the next getUpdates offset, so what the old process did not finish is
// fetched again by the new one. HTTP and workers run in this test process; the two bot processes
// are the compiled `node dist/main.js` with ROLES=bot, as in the pods.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { testEnv } from "../../dev/env.js";
import { buildDistIfStale, freePort, waitForHttp } from "../../dev/processes.js";
import { alertmanagerAuth, buttonData, CHAT_ID, postJson, startStack, type Stack } from "../../dev/stack.js";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Not in TELEGRAM_APPROVER_IDS: Snooze answers with a refusal and changes nothing. */
const STRANGER = 3003;
const REFUSAL = "You are not on the approver list.";

let stack: Stack;

beforeAll(async () => {
  buildDistIfStale();
  stack = await startStack({ env: { ROLES: "http,worker" } });
}, 180_000);

afterAll(async () => {
  await stack.close();
});

async function startBotProcess() {
  const healthPort = await freePort();
  const child = spawn(process.execPath, [`${ROOT}dist/main.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...testEnv({
        ROLES: "bot",
        DATABASE_URL: stack.db.url,
        REDIS_PREFIX: stack.prefix,
        TELEGRAM_API_ROOT: stack.telegram.apiRoot,
        TELEGRAM_CHAT_ID: String(CHAT_ID),
        HOST: "127.0.0.1",
        PORT: "0",
        HEALTH_PORT: String(healthPort),
        SHUTDOWN_DELAY_SECONDS: "1",
      }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitForHttp(`http://127.0.0.1:${healthPort}/api/v1/health`, 30_000, child);
  return { child, exit, output: () => output };
}

function answersTo(queryId: string): number {
  return stack.telegram
    .callsOf("answerCallbackQuery")
    .filter((call) => call.status === "ok" && call.params.callback_query_id === queryId).length;
}

describe("replacing the bot process", () => {
  it(
    "answers a press made while the old one drains and one made while none runs, each once",
    { timeout: 120_000 },
    async () => {
      const accepted = await postJson(
        `${stack.url}/api/v1/webhooks/alertmanager`,
        alertmanagerPayload({ fingerprint: `replace-${stack.prefix}` }),
        alertmanagerAuth,
      );
      expect(accepted.status).toBe(202);
      await expect.poll(() => stack.telegram.messages(CHAT_ID).length, { timeout: 20_000 }).toBe(1);
      const card = stack.telegram.messages(CHAT_ID)[0];
      const press = () =>
        stack.telegram.pressButton({
          chatId: CHAT_ID,
          messageId: card?.message_id ?? 0,
          fromUserId: STRANGER,
          data: buttonData(stack.telegram, card?.message_id ?? 0, "snooze"),
        });

      const old = await startBotProcess();
      const before = press();
      await expect.poll(() => stack.telegram.answerOf(before)?.text, { timeout: 15_000 }).toBe(REFUSAL);

      old.child.kill("SIGTERM");
      const duringDrain = press();
      expect(await old.exit).toBe(0);
      const whileNone = press();

      const replacement = await startBotProcess();
      try {
        for (const query of [duringDrain, whileNone]) {
          await expect.poll(() => stack.telegram.answerOf(query)?.text, { timeout: 15_000 }).toBe(REFUSAL);
        }
        // Exactly once: the old process's confirmed updates are not fetched again.
        await expect.poll(() => stack.telegram.pollPending, { timeout: 10_000 }).toBe(true);
        expect([before, duringDrain, whileNone].map(answersTo)).toEqual([1, 1, 1]);
      } finally {
        replacement.child.kill("SIGTERM");
        expect(await replacement.exit).toBe(0);
      }
      // Never two pollers: Telegram answers a second getUpdates consumer with 409 Conflict.
      expect(stack.telegram.callsOf("getUpdates").filter((call) => call.status === 409)).toEqual([]);
    },
  );
});

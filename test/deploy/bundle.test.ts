// The libraries that only the bundle loads as chunks of their own (@google/genai, @anthropic-ai/sdk,
// @kubernetes/client-node: dev/build.ts) can break in dist/ alone, while every other test runs the
// TypeScript sources under tsx. So the compiled `node dist/main.js` analyses an alert with Gemini,
// then with Claude (Gemini failing), against the API fakes, and restarts a deployment in the
// Kubernetes API emulator by itself (AUTO_REPAIR_ENABLED).
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { startKubeEmulator, type KubeEmulator } from "../../dev/emulators/kubernetes.js";
import { AnthropicFake } from "../../dev/emulators/llm/anthropic.js";
import { GeminiFake } from "../../dev/emulators/llm/gemini.js";
import { TelegramEmulator } from "../../dev/emulators/telegram.js";
import { TEST_SECRETS, testEnv } from "../../dev/env.js";
import { validAnswer } from "../../dev/llm-incident.js";
import { createTestDatabase, type TestDatabase } from "../../dev/postgres.js";
import { buildDistIfStale, freePort, waitForHttp } from "../../dev/processes.js";
import { deleteKeys, uniquePrefix } from "../../dev/redis.js";
import { alertmanagerAuth, CHAT_ID, postJson, waitForChat } from "../../dev/stack.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const GEMINI_CAUSE = "Upstream connection resets, as Gemini read the logs";
// below AUTO_REPAIR_MIN_CONFIDENCE: Claude's analysis waits for a human, no second restart
const CLAUDE_ANSWER = {
  ...validAnswer(),
  cause: "Upstream connection resets, as Claude read the logs",
  confidence: 0.6,
};

const prefix = uniquePrefix();
let db: TestDatabase;
let telegram: TelegramEmulator;
let kube: KubeEmulator;
let gemini: GeminiFake;
let claude: AnthropicFake;
let bot: { exit: Promise<number | null>; kill(): void; output(): string } | undefined;
let url: string;

beforeAll(async () => {
  buildDistIfStale();
  db = await createTestDatabase({ migrate: false });
  telegram = new TelegramEmulator({ token: TEST_SECRETS.telegramToken });
  kube = await startKubeEmulator({ podReadyDelayMs: 50 });
  kube.seedDeployment({ namespace: "awoooi-prod", name: "awoooi-api", replicas: 2 });
  gemini = new GeminiFake(() => ({ ...validAnswer(), cause: GEMINI_CAUSE }));
  claude = new AnthropicFake(() => CLAUDE_ANSWER);
  await Promise.all([telegram.start(), gemini.start(), claude.start()]);

  const port = await freePort();
  url = `http://127.0.0.1:${port}/api/v1`;
  const child = spawn(process.execPath, [`${ROOT}dist/main.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...testEnv({
        DATABASE_URL: db.url,
        REDIS_PREFIX: prefix,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_CHAT_ID: String(CHAT_ID),
        HOST: "127.0.0.1",
        PORT: String(port),
        LOG_LEVEL: "warn",
        LLM_CHAIN: "gemini,claude",
        GEMINI_API_KEY: gemini.apiKey,
        GEMINI_BASE_URL: gemini.url,
        ANTHROPIC_API_KEY: claude.apiKey,
        ANTHROPIC_BASE_URL: claude.url,
        KUBECONFIG: kube.kubeconfigPath,
        AUTO_REPAIR_ENABLED: "true",
      }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  bot = {
    exit: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    kill: () => child.kill("SIGTERM"),
    output: () => output,
  };
  await waitForHttp(`${url}/health`, 60_000, child);
}, 180_000);

afterAll(async () => {
  if (bot !== undefined) {
    bot.kill();
    await bot.exit;
  }
  await Promise.all([telegram?.close(), gemini?.close(), claude?.close(), kube?.close()]);
  await deleteKeys(prefix);
  await db?.drop();
});

async function fire(marker: string): Promise<void> {
  const response = await postJson(
    `${url}/webhooks/alertmanager`,
    alertmanagerPayload({ fingerprint: `bundle-${marker}`, labels: { instance: marker } }),
    alertmanagerAuth,
  );
  expect(response.status).toBe(202);
}

/** The card whose text passes `predicate`, once there is one. */
async function card(predicate: (text: string) => boolean): Promise<string> {
  const messages = await waitForChat(telegram, (all) => all.some((m) => predicate(m.text)), 30_000);
  return messages.find((m) => predicate(m.text))?.text ?? "";
}

describe("the compiled process's lazily loaded clients", () => {
  it(
    "analyses with @google/genai and restarts the deployment with @kubernetes/client-node",
    { timeout: 60_000 },
    async () => {
      onTestFailed(() => console.log(bot?.output().slice(-5_000)));
      await fire("gemini");
      const text = await card((t) => t.includes("AI analysis (gemini/") && t.includes("RESOLVED"));
      expect(text).toContain("AI analysis (gemini/gemini-2.5-flash)");
      expect(text).toContain(`Cause: ${GEMINI_CAUSE}`);
      expect(text).toContain("RESTART_POD approved by guardrails");
      // read back through the client: the new revision's pods became ready
      expect(text).toContain("verified: awoooi-prod/awoooi-api: 2/2 ready, rollout complete");
      expect(gemini.modelRequests()).toHaveLength(1);

      const restarts = kube.requests.filter(
        (r) =>
          r.method === "PATCH" && r.path === "/apis/apps/v1/namespaces/awoooi-prod/deployments/awoooi-api",
      );
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatchObject({
        status: 200,
        contentType: "application/strategic-merge-patch+json",
        body: {
          spec: {
            template: {
              metadata: {
                annotations: {
                  "kubectl.kubernetes.io/restartedAt": expect.stringMatching(
                    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
                  ) as unknown,
                },
              },
            },
          },
        },
      });
    },
  );

  it("falls over to @anthropic-ai/sdk when Gemini answers 500", { timeout: 60_000 }, async () => {
    onTestFailed(() => console.log(bot?.output().slice(-5_000)));
    gemini.respondWith({ kind: "server_error" });
    const asked = gemini.modelRequests().length;
    await fire("claude");
    const text = await card((t) => t.includes("AI analysis (claude/"));
    expect(text).toContain("AI analysis (claude/claude-haiku-4-5)");
    expect(text).toContain(`Cause: ${CLAUDE_ANSWER.cause}`);
    expect(gemini.modelRequests()).toHaveLength(asked + 1);
    expect(claude.modelRequests()).toHaveLength(1);
  });
});

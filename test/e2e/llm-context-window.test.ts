// Issue 13's end-to-end case: a 7k-token prompt against an Ollama whose default window is 4k (as
// on a GPU under 24 GiB). The bot sizes the window (num_ctx) and trims its context to
// OLLAMA_NUM_CTX, or fails over; it never analyses a cut prompt. The configured Gemini model does
// not exist: the start-up check finds it, /status names it, and no incident ever asks it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnalyses } from "../../db/analyses.js";
import { alertmanagerPayload } from "../../dev/alerts.js";
import { OllamaFake, type OllamaSeen } from "../../dev/emulators/llm/ollama.js";
import { startFakes, validAnswer, type Fakes } from "../../dev/llm-incident.js";
import { alertmanagerAuth, postJson, startStack, waitForChat, type Stack } from "../../dev/stack.js";
import { chatUser } from "../support/chat-user.js";
import { TEST_SECRETS } from "../../dev/env.js";
import { ANSWER_TOKENS } from "../../ai/providers/ollama.js";

let stack: Stack;
let fakes: Fakes;
let ollama: OllamaFake;
const { say } = chatUser(() => stack, 1001);

beforeAll(async () => {
  fakes = await startFakes();
  ollama = new OllamaFake(validAnswer, { defaultContext: 4096, trainedContext: 32_768 });
  await ollama.start();
  stack = await startStack({
    // the limits are lifted: this test is about the analysis, not Telegram's pacing
    telegram: { groupPerMinute: 100_000, perSecond: 100_000 },
    env: {
      LLM_CHAIN: "ollama,gemini,claude",
      OLLAMA_HOST: ollama.url,
      OLLAMA_MODEL: "qwen2.5:7b",
      OLLAMA_NUM_CTX: "8192",
      GEMINI_API_KEY: fakes.gemini.apiKey,
      GEMINI_BASE_URL: fakes.gemini.url,
      GEMINI_MODEL: "gemini-9-ultra",
      ANTHROPIC_API_KEY: fakes.claude.apiKey,
      ANTHROPIC_BASE_URL: fakes.claude.url,
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await fakes?.close();
  await ollama?.close();
});

/** An alert whose annotations and labels make a prompt of about 7k tokens. */
function bigAlert(marker: string): unknown {
  const payload = alertmanagerPayload({
    fingerprint: marker,
    labels: {
      instance: marker,
      ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`extra_${i}`, `value-${i}-`.repeat(40)])),
    },
  });
  const [alert] = payload.alerts;
  if (alert === undefined) throw new Error("no alert");
  const line = (i: number) =>
    `10:${String(i).padStart(2, "0")} upstream payments reset the connection; retry ${i}. `;
  alert.annotations = {
    ...alert.annotations,
    ...Object.fromEntries(
      Array.from({ length: 10 }, (_, k) => [
        `evidence_${k}`,
        Array.from({ length: 40 }, (_, i) => line(i))
          .join("")
          .slice(0, 2000),
      ]),
    ),
  };
  return payload;
}

async function fire(marker: string): Promise<string> {
  const response = await postJson(
    `${stack.url}/api/v1/webhooks/alertmanager`,
    bigAlert(marker),
    alertmanagerAuth,
  );
  const { jobId } = response.body as { jobId: string };
  await expect
    .poll(async () => (await stack.runtime.queues.ingest.getJob(jobId))?.getState(), { timeout: 5_000 })
    .toBe("completed");
  const job = await stack.runtime.queues.ingest.getJob(jobId);
  return (job?.returnvalue as { incidents: string[] }).incidents[0] ?? "";
}

describe("a 7k-token prompt against an Ollama with a 4k window", () => {
  it("sizes num_ctx and trims the context to fit: Ollama reads the whole prompt, never a cut one", async () => {
    const id = await fire("window-1");
    await waitForChat(
      stack.telegram,
      (all) => all.some((m) => m.text.includes(id) && m.text.includes("AI analysis (")),
      20_000,
    );
    const [stored] = await listAnalyses(stack.db.pool, id);
    const attempt = stored?.attempts[0];
    expect(attempt?.provider).toBe("ollama");
    expect(attempt?.outcome).toBe("ok");
    expect(stored?.analysis.provider).toBe("ollama");
    // before and after the budget (estimated tokens; the estimate errs high)
    expect(attempt?.fullPromptTokens).toBeGreaterThan(7_000);
    expect(attempt?.promptTokens).toBeLessThanOrEqual(8192 - ANSWER_TOKENS);
    expect(attempt?.contextDropped).toEqual([
      expect.stringMatching(/^annotations: values cut to \d+ characters$/),
    ]);
    // what the model read: the whole prompt sent, by the emulator's own count over 4096 tokens
    const read = (ollama.modelRequests().at(-1)?.seen as unknown as OllamaSeen).promptTokens;
    expect(read).toBeGreaterThan(4096);

    // and the incident's timeline says it
    const detail = (await (
      await fetch(`${stack.url}/api/v1/incidents/${id}`, {
        headers: { authorization: `Bearer ${TEST_SECRETS.apiToken}` },
      })
    ).json()) as { timeline: { kind: string; detail: Record<string, unknown> }[] };
    const analyzed = detail.timeline.find((event) => event.kind === "analyzed");
    expect(analyzed?.detail.prompt_tokens).toMatch(
      /^\d+ whole; ollama \d+ \(annotations: values cut to \d+ characters\)$/,
    );

    const requests = ollama.modelRequests();
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      const seen = request.seen as unknown as OllamaSeen;
      const body = request.body as { options: { num_ctx: number }; truncate: boolean };
      expect(seen.truncated).toBe(false);
      expect(body.options.num_ctx).toBe(8192);
      expect(body.truncate).toBe(false);
    }
    console.info(
      `llm window figures: full prompt ~${attempt?.fullPromptTokens} tokens (estimate) → sent ~${attempt?.promptTokens}; Ollama read ${(requests.at(-1)?.seen as unknown as OllamaSeen).promptTokens} of its ${(requests.at(-1)?.seen as unknown as OllamaSeen).window}-token window; dropped ${JSON.stringify(attempt?.contextDropped)}`,
    );
  });

  it("never asks the Gemini model that does not exist, and /status names it", async () => {
    ollama.respondWith({ kind: "server_error" });
    try {
      const id = await fire("window-2");
      await waitForChat(
        stack.telegram,
        (all) => all.some((m) => m.text.includes(id) && m.text.includes("AI analysis (")),
        20_000,
      );
      const [stored] = await listAnalyses(stack.db.pool, id);
      expect(stored?.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
        "ollama:http_error",
        "gemini:unusable",
        "claude:ok",
      ]);
      expect(fakes.gemini.modelRequests()).toHaveLength(0);
    } finally {
      ollama.respondWith({ kind: "answer", output: validAnswer() });
    }
    const text = (await say("/status", (m) => m.text.includes("Gemini:"))).text;
    expect(text).toContain("🔴 Gemini: unusable (model gemini-9-ultra does not exist (404 NOT_FOUND))");
    expect(text).toMatch(/🟢 Ollama: .*window up to 8192 tokens \(trained 32768\)/);
    expect(text).toMatch(/🟢 Claude: .*structured output supported/);
  });
});

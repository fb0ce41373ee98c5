// Each provider, through its real SDK, against the fake of its API.
import { messagesFor, sayingText } from "../../domain/i18n/index.js";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_OUTPUT_JSON_SCHEMA } from "../../domain/analysis.js";
import { buildPrompt } from "../../ai/prompt.js";
import { ProviderError } from "../../ai/provider.js";
import { ClaudeProvider } from "../../ai/providers/claude.js";
import { GeminiProvider } from "../../ai/providers/gemini.js";
import { OllamaProvider } from "../../ai/providers/ollama.js";
import { scopeFromContext } from "../../domain/scope.js";
import { presentedKey } from "../../dev/emulators/llm/anthropic.js";
import { closedPortUrl, startFakes, testIncident, validAnswer, type Fakes } from "../../dev/llm-incident.js";

let fakes: Fakes;
const context = testIncident();
const prompt = buildPrompt(context, scopeFromContext(context), { nonce: "n0nce" });
const signal = (): AbortSignal => AbortSignal.timeout(5_000);

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});

async function failure(run: Promise<unknown>): Promise<ProviderError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("OllamaProvider", () => {
  const provider = () => new OllamaProvider({ host: fakes.ollama.url, model: "qwen2.5:7b" });

  it("asks /api/chat with the JSON schema as format and reports the token usage", async () => {
    fakes.ollama.respondWith({ kind: "answer", output: validAnswer() });
    const result = await provider().analyze(prompt, signal());
    const request = fakes.ollama.modelRequests().at(-1);
    expect(request?.body).toMatchObject({
      model: "qwen2.5:7b",
      stream: false,
      format: MODEL_OUTPUT_JSON_SCHEMA,
      messages: [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.user },
      ],
    });
    expect(JSON.parse(result.output as string)).toEqual(validAnswer());
    expect(result.usage.input).toBeGreaterThan(100);
    expect(result.usage.output).toBeGreaterThan(10);
    expect(result.model).toBe("qwen2.5:7b");
  });

  it("lists its models on /api/tags the way the real server does", async () => {
    const list = await new Ollama({ host: fakes.ollama.url }).list();
    expect(list.models.map((m) => m.name)).toEqual(["qwen2.5:7b"]);
    expect(list.models[0]?.details.family).toBe("qwen2");
  });

  it("says a model not pulled is unusable, with its status", async () => {
    const error = await failure(
      new OllamaProvider({ host: fakes.ollama.url, model: "nope:1b" }).analyze(prompt, signal()),
    );
    expect(error).toMatchObject({ provider: "ollama", failure: "unusable", status: 404 });
  });

  it("checks a model not pulled as unusable, in English and as words for /status in BOT_LANGUAGE", async () => {
    const check = await new OllamaProvider({ host: fakes.ollama.url, model: "nope:1b" }).check(signal());
    expect(check).toMatchObject({ kind: "unusable", reason: "model nope:1b is not pulled on the server" });
    expect(check.kind === "unusable" && sayingText("statusDetail", check.said, messagesFor("zh-TW"))).toBe(
      "模型 nope:1b 尚未下載到伺服器",
    );
  });

  it("says a 429 is a rate limit and keeps the Retry-After", async () => {
    fakes.ollama.respondWith({ kind: "rate_limit", retryAfterSeconds: 7 });
    const error = await failure(provider().analyze(prompt, signal()));
    expect(error).toMatchObject({ failure: "rate_limited", status: 429, retryAfterMs: 7_000 });
  });

  it("says a refused connection is unreachable", async () => {
    const error = await failure(
      new OllamaProvider({ host: await closedPortUrl(), model: "qwen2.5:7b" }).analyze(prompt, signal()),
    );
    expect(error.failure).toBe("unreachable");
    expect(error.message).toContain("ECONNREFUSED");
  });
});

describe("GeminiProvider", () => {
  const provider = () => new GeminiProvider({ apiKey: fakes.gemini.apiKey, baseUrl: fakes.gemini.url });

  it("calls generateContent with a JSON response schema and reports usage", async () => {
    fakes.gemini.respondWith({ kind: "answer", output: validAnswer() });
    const result = await provider().analyze(prompt, signal());
    const request = fakes.gemini.modelRequests().at(-1);
    expect(request?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(request?.headers["x-goog-api-key"]).toBe(fakes.gemini.apiKey);
    expect(request?.body).toMatchObject({
      contents: [{ role: "user", parts: [{ text: prompt.user }] }],
      systemInstruction: { parts: [{ text: prompt.system }] },
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: MODEL_OUTPUT_JSON_SCHEMA,
      },
    });
    expect(JSON.parse(result.output as string)).toEqual(validAnswer());
    expect(result.usage.input).toBeGreaterThan(100);
  });

  it("reads the retry delay of a 429 from google.rpc.RetryInfo", async () => {
    fakes.gemini.respondWith({ kind: "rate_limit", retryAfterSeconds: 7 });
    const error = await failure(provider().analyze(prompt, signal()));
    expect(error).toMatchObject({
      provider: "gemini",
      failure: "rate_limited",
      status: 429,
      retryAfterMs: 7_000,
    });
  });

  it("says a 500 is an HTTP error, and sends it once (no SDK retries)", async () => {
    fakes.gemini.respondWith({ kind: "server_error" });
    const before = fakes.gemini.modelRequests().length;
    const error = await failure(provider().analyze(prompt, signal()));
    expect(error).toMatchObject({ failure: "http_error", status: 500 });
    expect(fakes.gemini.modelRequests().length - before).toBe(1);
  });

  it("says a wrong key is an HTTP error", async () => {
    const error = await failure(
      new GeminiProvider({ apiKey: "wrong", baseUrl: fakes.gemini.url }).analyze(prompt, signal()),
    );
    expect(error).toMatchObject({ failure: "http_error", status: 400 });
  });
});

describe("ClaudeProvider", () => {
  const provider = () => new ClaudeProvider({ apiKey: fakes.claude.apiKey, baseUrl: fakes.claude.url });

  it("creates a message with structured output and reports usage", async () => {
    fakes.claude.respondWith({ kind: "answer", output: validAnswer() });
    const result = await provider().analyze(prompt, signal());
    const request = fakes.claude.modelRequests().at(-1);
    expect(request === undefined ? undefined : presentedKey(request)).toBe(fakes.claude.apiKey);
    expect(request?.headers["anthropic-version"]).toBeDefined();
    const body = request?.body as {
      system: string;
      output_config: { format: { type: string; schema: unknown } };
    };
    expect(body.system).toBe(prompt.system);
    expect(body.output_config.format.type).toBe("json_schema");
    expect(JSON.stringify(body.output_config.format.schema)).toContain("RESTART_POD");
    expect(body.output_config.format.schema).toMatchObject({ additionalProperties: false });
    expect(JSON.parse(result.output as string)).toEqual(validAnswer());
    expect(result.usage.input).toBeGreaterThan(100);
  });

  it("says a 429 is a rate limit with the retry-after header, without retrying", async () => {
    fakes.claude.respondWith({ kind: "rate_limit", retryAfterSeconds: 7 });
    const before = fakes.claude.modelRequests().length;
    const error = await failure(provider().analyze(prompt, signal()));
    expect(error).toMatchObject({
      provider: "claude",
      failure: "rate_limited",
      status: 429,
      retryAfterMs: 7_000,
    });
    expect(fakes.claude.modelRequests().length - before).toBe(1);
  });

  it("says a refused connection is unreachable", async () => {
    const error = await failure(
      new ClaudeProvider({ apiKey: "k", baseUrl: await closedPortUrl() }).analyze(prompt, signal()),
    );
    expect(error.failure).toBe("unreachable");
  });
});

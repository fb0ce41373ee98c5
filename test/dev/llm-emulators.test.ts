// The LLM API emulators reproduce the real APIs' bad days, each checked through the real SDK the
// bot uses: Ollama's silent prompt truncation, `done_reason: "length"`, cold loads and 503; Gemini's
// schema subset, thinking tokens and MAX_TOKENS, 404 for an unknown model; Claude's 400 for
// structured output on a model without it, `refusal`, `max_tokens` and 529.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { Ollama, type Message } from "ollama";
import { afterEach, describe, expect, it } from "vitest";
import { AnthropicFake } from "../../dev/emulators/llm/anthropic.js";
import { modelTokens } from "../../dev/emulators/llm/fake-server.js";
import { enforcedProblems, GeminiFake, ignoredKeywords } from "../../dev/emulators/llm/gemini.js";
import { OllamaFake, type OllamaSeen } from "../../dev/emulators/llm/ollama.js";
import { MODEL_OUTPUT_JSON_SCHEMA } from "../../domain/analysis.js";
import { validAnswer } from "../../dev/llm-incident.js";

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((fake) => fake.close()));
});

async function started<T extends { start(): Promise<string>; close(): Promise<void> }>(fake: T): Promise<T> {
  await fake.start();
  running.push(fake);
  return fake;
}

/** A prompt of about `tokens` tokens whose first line says where it starts. */
function longPrompt(tokens: number): Message[] {
  // 44 characters, 11 tokens a line
  const filler = "log line: upstream connection reset by peer\n".repeat(Math.ceil(tokens / 11) + 10);
  return [
    { role: "system", content: "BEGINNING-OF-PROMPT: you are the incident analyst." },
    { role: "user", content: `${filler}END-OF-PROMPT` },
  ];
}

describe("Ollama emulator", () => {
  it("cuts a prompt longer than the default 4096-token window at its beginning and still answers 200 stop", async () => {
    const fake = await started(new OllamaFake(validAnswer));
    const client = new Ollama({ host: fake.url });
    const response = await client.chat({ model: "qwen2.5:7b", stream: false, messages: longPrompt(7_000) });
    const seen = fake.modelRequests().at(-1)?.seen as unknown as OllamaSeen;
    expect(seen.promptTokens).toBeGreaterThan(7_000);
    expect(seen.truncated).toBe(true);
    expect(seen.window).toBe(4096);
    expect(seen.read).not.toContain("BEGINNING-OF-PROMPT");
    expect(seen.read).toContain("END-OF-PROMPT");
    // nothing in the answer says so but the count of tokens read
    expect(response.done_reason).toBe("stop");
    expect(response.prompt_eval_count).toBe(4096);
    expect(JSON.parse(response.message.content)).toEqual(validAnswer());
  });

  it("reads the whole prompt when num_ctx makes room for it, up to the trained length", async () => {
    const fake = await started(new OllamaFake(validAnswer, { trainedContext: 8192 }));
    const client = new Ollama({ host: fake.url });
    const messages = longPrompt(7_000);
    const fits = await client.chat({
      model: "qwen2.5:7b",
      stream: false,
      messages,
      options: { num_ctx: 8192 },
    });
    const seen = fake.modelRequests().at(-1)?.seen as unknown as OllamaSeen;
    expect(seen.truncated).toBe(false);
    expect(seen.read).toContain("BEGINNING-OF-PROMPT");
    expect(fits.prompt_eval_count).toBe(seen.promptTokens);
    // asking beyond the trained length gets the trained length
    await client.chat({
      model: "qwen2.5:7b",
      stream: false,
      messages: longPrompt(9_000),
      options: { num_ctx: 65_536 },
    });
    expect((fake.modelRequests().at(-1)?.seen as unknown as OllamaSeen).window).toBe(8192);
  });

  it("refuses an over-long prompt with a 400 when the request says truncate: false", async () => {
    const fake = await started(new OllamaFake(validAnswer));
    const response = await fetch(`${fake.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({
        model: "qwen2.5:7b",
        stream: false,
        truncate: false,
        messages: longPrompt(5_000),
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/exceeds the context length \(4096/);
  });

  it("cuts rather than refuses when the server is older than the truncate field", async () => {
    const fake = await started(new OllamaFake(validAnswer, { knowsTruncate: false }));
    const response = await fetch(`${fake.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({
        model: "qwen2.5:7b",
        stream: false,
        truncate: false,
        messages: longPrompt(5_000),
      }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { prompt_eval_count: number }).prompt_eval_count).toBe(4096);
  });

  it("stops with done_reason length when the answer fills the window and shift is off", async () => {
    const fake = await started(new OllamaFake(validAnswer));
    const response = await fetch(`${fake.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({
        model: "qwen2.5:7b",
        stream: false,
        shift: false,
        messages: longPrompt(2_000),
        options: { num_ctx: 2048 },
      }),
    });
    const body = (await response.json()) as {
      done_reason: string;
      prompt_eval_count: number;
      eval_count: number;
    };
    expect(body.done_reason).toBe("length");
    expect(body.prompt_eval_count + body.eval_count).toBeLessThanOrEqual(2048);
  });

  it("stops at num_predict with done_reason length and the content cut there", async () => {
    const fake = await started(new OllamaFake(validAnswer));
    const client = new Ollama({ host: fake.url });
    const response = await client.chat({
      model: "qwen2.5:7b",
      stream: false,
      messages: [{ role: "user", content: "hi" }],
      options: { num_predict: 20 },
    });
    expect(response.done_reason).toBe("length");
    expect(response.eval_count).toBeLessThanOrEqual(20);
    expect(() => JSON.parse(response.message.content) as unknown).toThrow();
  });

  it("loads a cold model once, reports load_duration, and reloads when num_ctx changes", async () => {
    const fake = await started(new OllamaFake(validAnswer, { loadMs: 150 }));
    const client = new Ollama({ host: fake.url });
    const ask = (numCtx: number) =>
      client.chat({
        model: "qwen2.5:7b",
        stream: false,
        messages: [{ role: "user", content: "hi" }],
        options: { num_ctx: numCtx },
      });
    const cold = await ask(4096);
    const warm = await ask(4096);
    const resized = await ask(8192);
    expect(cold.load_duration).toBeGreaterThanOrEqual(150_000_000);
    expect(warm.load_duration).toBeLessThan(150_000_000);
    expect(resized.load_duration).toBeGreaterThanOrEqual(150_000_000);
  });

  it("answers 503 server busy when its queue is full", async () => {
    const fake = await started(new OllamaFake(validAnswer));
    fake.respondWith({ kind: "busy" });
    const error = await new Ollama({ host: fake.url })
      .chat({ model: "qwen2.5:7b", stream: false, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status_code: 503 });
    expect(String(error)).toContain("server busy");
  });

  it("tells a model's trained context length on /api/show, and 404 for a model not pulled", async () => {
    const fake = await started(new OllamaFake(validAnswer, { trainedContext: 32_768 }));
    const client = new Ollama({ host: fake.url });
    const show = await client.show({ model: "qwen2.5:7b" });
    expect((show.model_info as unknown as Record<string, unknown>)["qwen2.context_length"]).toBe(32_768);
    await expect(client.show({ model: "nope:1b" })).rejects.toMatchObject({ status_code: 404 });
  });
});

describe("Gemini emulator", () => {
  const gemini = (fake: GeminiFake) =>
    new GoogleGenAI({ apiKey: fake.apiKey, httpOptions: { baseUrl: fake.url } });

  it("ignores the JSON Schema keywords outside its subset, and lists which", () => {
    const ignored = ignoredKeywords(MODEL_OUTPUT_JSON_SCHEMA);
    expect(ignored).toEqual(expect.arrayContaining(["$.cause: maxLength", "$.target.name: pattern"]));
    expect(ignored.some((entry) => entry.endsWith(": enum") || entry.endsWith(": required"))).toBe(false);
    // what it enforces, a real answer cannot break; what it ignores, it can
    const longCause = { ...validAnswer(), cause: "x".repeat(400) };
    expect(enforcedProblems(MODEL_OUTPUT_JSON_SCHEMA, longCause)).toEqual([]);
    expect(
      enforcedProblems(MODEL_OUTPUT_JSON_SCHEMA, { ...validAnswer(), suggested_action: "DROP" }),
    ).not.toEqual([]);
  });

  it("plays an answer that breaks only ignored keywords, and records the keywords it ignored", async () => {
    const fake = await started(new GeminiFake(validAnswer));
    fake.respondWith({ kind: "answer", output: { ...validAnswer(), cause: "x".repeat(400) } });
    const response = await gemini(fake).models.generateContent({
      model: "gemini-2.5-flash",
      contents: "analyse",
      config: { responseMimeType: "application/json", responseJsonSchema: MODEL_OUTPUT_JSON_SCHEMA },
    });
    expect((JSON.parse(response.text ?? "") as { cause: string }).cause).toHaveLength(400);
    expect(fake.modelRequests().at(-1)?.seen?.ignoredKeywords).toContain("$.cause: maxLength");
  });

  it("rejects a JSON Schema keyword in responseSchema (the OpenAPI object) with 400 Unknown name", async () => {
    // @google/genai converts a JSON Schema given as responseSchema and drops what the object lacks;
    // a raw REST caller meets the 400
    const fake = await started(new GeminiFake(validAnswer));
    const response = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": fake.apiKey, "content-type": "application/json" },
      body: JSON.stringify({
        contents: [{ role: "user", parts: [{ text: "analyse" }] }],
        generationConfig: { responseMimeType: "application/json", responseSchema: MODEL_OUTPUT_JSON_SCHEMA },
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe("INVALID_ARGUMENT");
    expect(body.error.message).toContain('Unknown name "additionalProperties"');
  });

  it("spends thinking tokens out of maxOutputTokens and stops at MAX_TOKENS", async () => {
    const fake = await started(new GeminiFake(validAnswer));
    const response = await gemini(fake).models.generateContent({
      model: "gemini-2.5-flash",
      contents: "analyse",
      config: { maxOutputTokens: 1000 },
    });
    expect(response.candidates?.[0]?.finishReason).toBe("MAX_TOKENS");
    expect(response.usageMetadata?.thoughtsTokenCount).toBe(900);
    const bounded = await gemini(fake).models.generateContent({
      model: "gemini-2.5-flash",
      contents: "analyse",
      config: { maxOutputTokens: 1000, thinkingConfig: { thinkingBudget: 0 } },
    });
    expect(bounded.candidates?.[0]?.finishReason).toBe("STOP");
    expect(bounded.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it("refuses a thinking budget of 0 on Pro, which always thinks", async () => {
    const fake = await started(new GeminiFake(validAnswer));
    await expect(
      gemini(fake).models.generateContent({
        model: "gemini-2.5-pro",
        contents: "analyse",
        config: { thinkingConfig: { thinkingBudget: 0 } },
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("stops for SAFETY without content", async () => {
    const fake = await started(new GeminiFake(validAnswer));
    fake.respondWith({ kind: "stopped", reason: "SAFETY" });
    const response = await gemini(fake).models.generateContent({
      model: "gemini-2.5-flash",
      contents: "analyse",
    });
    expect(response.candidates?.[0]?.finishReason).toBe("SAFETY");
    expect(response.candidates?.[0]?.content?.parts).toBeUndefined();
  });

  it("answers 404 NOT_FOUND for an unknown model, on generateContent and models.get", async () => {
    const fake = await started(new GeminiFake(validAnswer));
    const client = gemini(fake);
    await expect(
      client.models.generateContent({ model: "gemini-9-ultra", contents: "x" }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(client.models.get({ model: "gemini-9-ultra" })).rejects.toMatchObject({ status: 404 });
    const known = await client.models.get({ model: "gemini-2.5-flash" });
    expect(known.thinking).toBe(true);
  });

  it("answers 503 UNAVAILABLE when overloaded", async () => {
    const fake = await started(new GeminiFake(validAnswer));
    fake.respondWith({ kind: "busy" });
    await expect(
      gemini(fake).models.generateContent({ model: "gemini-2.5-flash", contents: "x" }),
    ).rejects.toMatchObject({ status: 503 });
  });
});

describe("Anthropic emulator", () => {
  const claude = (fake: AnthropicFake) =>
    new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
  const format = { type: "json_schema" as const, schema: MODEL_OUTPUT_JSON_SCHEMA };
  const ask = (fake: AnthropicFake, model: string, extra: Record<string, unknown> = {}) =>
    claude(fake).messages.create({
      model,
      max_tokens: 2048,
      messages: [{ role: "user", content: "analyse" }],
      ...extra,
    });

  it("answers 400 invalid_request_error for structured output on a model without it, and says so on the Models API", async () => {
    const fake = await started(new AnthropicFake(validAnswer));
    await expect(ask(fake, "claude-3-5-haiku-20241022", { output_config: { format } })).rejects.toMatchObject(
      {
        status: 400,
        error: { error: { type: "invalid_request_error" } },
      },
    );
    const old = await claude(fake).models.retrieve("claude-3-5-haiku-20241022");
    const current = await claude(fake).models.retrieve("claude-haiku-4-5");
    expect(old.capabilities?.structured_outputs.supported).toBe(false);
    expect(current.capabilities?.structured_outputs.supported).toBe(true);
    // the same model without structured output answers
    expect((await ask(fake, "claude-3-5-haiku-20241022")).stop_reason).toBe("end_turn");
  });

  it("answers 404 not_found_error for an unknown model", async () => {
    const fake = await started(new AnthropicFake(validAnswer));
    await expect(ask(fake, "claude-nope")).rejects.toMatchObject({ status: 404 });
    await expect(claude(fake).models.retrieve("claude-nope")).rejects.toMatchObject({ status: 404 });
  });

  it("stops at max_tokens with the content cut there", async () => {
    const fake = await started(new AnthropicFake(validAnswer));
    const message = await ask(fake, "claude-haiku-4-5", { max_tokens: 16 });
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.usage.output_tokens).toBeLessThanOrEqual(16);
    const text = message.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    expect(modelTokens(text)).toBeLessThanOrEqual(16);
  });

  it("stops with refusal", async () => {
    const fake = await started(new AnthropicFake(validAnswer));
    fake.respondWith({ kind: "stopped", reason: "refusal" });
    const message = await ask(fake, "claude-haiku-4-5", { output_config: { format } });
    expect(message.stop_reason).toBe("refusal");
    expect(message.content).toEqual([]);
  });

  it("answers 529 overloaded_error when overloaded", async () => {
    const fake = await started(new AnthropicFake(validAnswer));
    fake.respondWith({ kind: "busy" });
    await expect(ask(fake, "claude-haiku-4-5")).rejects.toMatchObject({
      status: 529,
      error: { error: { type: "overloaded_error" } },
    });
  });
});

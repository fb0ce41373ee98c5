// A fake of the Anthropic Messages API: POST /v1/messages and GET /v1/models/{id} with the key
// (`x-api-key` or bearer) and `anthropic-version`; answers are Message objects with usage, errors
// the `{type:"error"}` body. The real API's bad days, from platform.claude.com/docs
// (structured-outputs, handling-stop-reasons, errors, models API):
// - structured output (`output_config.format`, formerly `output_format`) exists only on some
//   models (4.5 and later); other models answer 400 invalid_request_error. The Models API says
//   which: `capabilities.structured_outputs.supported`;
// - an unknown model is 404 not_found_error;
// - `stop_reason: "refusal"` (the classifiers stopped the answer, content cut or empty) and
//   `"max_tokens"` (the answer reached `max_tokens`, content cut there);
// - 529 overloaded_error when the API is overloaded.
import { randomBytes } from "node:crypto";
import {
  FakeLlmServer,
  modelTokens,
  type FakeBehaviour,
  type RecordedRequest,
  type Reply,
} from "./fake-server.js";

function error(type: string, message: string): unknown {
  return { type: "error", error: { type, message } };
}

/** The API takes the key as `x-api-key` or, from newer SDKs, as `Authorization: Bearer`. */
export function presentedKey(request: RecordedRequest): string | undefined {
  const header = request.headers["x-api-key"];
  if (typeof header === "string") return header;
  return /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
}

export interface ClaudeModel {
  structuredOutputs: boolean;
  maxTokens: number;
}

export const CLAUDE_MODELS: Readonly<Record<string, ClaudeModel>> = {
  "claude-haiku-4-5": { structuredOutputs: true, maxTokens: 64_000 },
  "claude-sonnet-4-5": { structuredOutputs: true, maxTokens: 64_000 },
  "claude-opus-4-5": { structuredOutputs: true, maxTokens: 64_000 },
  "claude-3-5-haiku-20241022": { structuredOutputs: false, maxTokens: 8_192 },
  "claude-3-7-sonnet-20250219": { structuredOutputs: false, maxTokens: 64_000 },
};

interface MessagesBody {
  model?: unknown;
  max_tokens?: unknown;
  output_config?: { format?: unknown };
  output_format?: unknown;
}

export class AnthropicFake extends FakeLlmServer {
  constructor(
    validAnswer: () => object,
    readonly apiKey = "test-anthropic-key",
    readonly models: Readonly<Record<string, ClaudeModel>> = CLAUDE_MODELS,
  ) {
    super(validAnswer);
  }

  protected isModelCall(request: RecordedRequest): boolean {
    return request.path === "/v1/messages";
  }

  protected route(request: RecordedRequest, behaviour: FakeBehaviour): Reply | "hang" {
    const requestId = { "request-id": `req_${randomBytes(12).toString("hex")}` };
    const modelPath = /^\/v1\/models\/([^/?]+)/.exec(request.path);
    const messages = request.method === "POST" && request.path === "/v1/messages";
    if (!messages && !(request.method === "GET" && modelPath !== null)) {
      return { status: 404, headers: requestId, body: error("not_found_error", "Not found") };
    }
    if (presentedKey(request) !== this.apiKey) {
      return { status: 401, headers: requestId, body: error("authentication_error", "invalid x-api-key") };
    }
    if (request.headers["anthropic-version"] === undefined) {
      return {
        status: 400,
        headers: requestId,
        body: error("invalid_request_error", "anthropic-version header is required"),
      };
    }
    if (modelPath !== null)
      return { ...this.modelInfo(decodeURIComponent(modelPath[1] ?? "")), headers: requestId };

    const body = request.body as MessagesBody | undefined;
    const model = typeof body?.model === "string" ? body.model : "";
    const spec = this.models[model];
    if (spec === undefined) {
      return { status: 404, headers: requestId, body: error("not_found_error", `model: ${model}`) };
    }
    const format = body?.output_config?.format ?? body?.output_format;
    if (format !== undefined && !spec.structuredOutputs) {
      // the type and status are the documented ones; the wording is this fake's
      return {
        status: 400,
        headers: requestId,
        body: error(
          "invalid_request_error",
          `'${model}' does not support structured outputs (output_config.format).`,
        ),
      };
    }
    switch (behaviour.kind) {
      case "hang":
        return "hang";
      case "rate_limit":
        return {
          status: 429,
          headers: { ...requestId, "retry-after": String(behaviour.retryAfterSeconds ?? 30) },
          body: error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
        };
      case "busy":
        return { status: 529, headers: requestId, body: error("overloaded_error", "Overloaded") };
      case "server_error":
        return {
          status: behaviour.status ?? 500,
          headers: requestId,
          body: error("api_error", "Internal server error"),
        };
      case "stopped":
      case "answer":
      case "invalid_json":
      case "hostile": {
        const full = behaviour.kind === "stopped" ? "" : this.answerText(behaviour);
        const limit = typeof body?.max_tokens === "number" ? body.max_tokens : spec.maxTokens;
        const cut = modelTokens(full) > limit;
        const text = cut ? [...full].slice(0, limit * 4).join("") : full;
        const stopReason = behaviour.kind === "stopped" ? behaviour.reason : cut ? "max_tokens" : "end_turn";
        return {
          status: 200,
          headers: requestId,
          body: {
            id: `msg_${randomBytes(12).toString("hex")}`,
            type: "message",
            role: "assistant",
            model,
            content: text === "" ? [] : [{ type: "text", text }],
            stop_reason: stopReason,
            stop_sequence: null,
            usage: {
              input_tokens: modelTokens(request.rawBody),
              output_tokens: modelTokens(text),
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 0,
              service_tier: "standard",
            },
          },
        };
      }
    }
  }

  /** GET /v1/models/{id}: the model and its capabilities (free: no tokens). */
  private modelInfo(id: string): Reply {
    const spec = this.models[id];
    if (spec === undefined) return { status: 404, body: error("not_found_error", `model: ${id}`) };
    const support = (supported: boolean) => ({ supported });
    return {
      status: 200,
      body: {
        type: "model",
        id,
        display_name: id,
        created_at: "2025-10-01T00:00:00Z",
        deprecated_at: null,
        retires_at: null,
        lifecycle: "active",
        line: null,
        max_input_tokens: 200_000,
        max_tokens: spec.maxTokens,
        capabilities: {
          batch: support(true),
          citations: support(true),
          code_execution: support(false),
          image_input: support(true),
          pdf_input: support(true),
          structured_outputs: support(spec.structuredOutputs),
        },
      },
    };
  }
}

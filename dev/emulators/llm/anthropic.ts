// A fake of the Anthropic Messages API: POST /v1/messages with the key (`x-api-key` or bearer) and
// `anthropic-version`; answers are Message objects with usage, errors the `{type:"error"}` body.
import { randomBytes } from "node:crypto";
import {
  approxTokens,
  FakeLlmServer,
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

export class AnthropicFake extends FakeLlmServer {
  constructor(
    validAnswer: () => object,
    readonly apiKey = "test-anthropic-key",
  ) {
    super(validAnswer);
  }

  modelRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === "/v1/messages");
  }

  protected route(request: RecordedRequest, behaviour: FakeBehaviour): Reply | "hang" {
    const requestId = { "request-id": `req_${randomBytes(12).toString("hex")}` };
    if (request.method !== "POST" || request.path !== "/v1/messages") {
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
    const body = request.body as { model?: unknown } | undefined;
    const model = typeof body?.model === "string" ? body.model : "claude-haiku-4-5";
    switch (behaviour.kind) {
      case "hang":
        return "hang";
      case "rate_limit":
        return {
          status: 429,
          headers: { ...requestId, "retry-after": String(behaviour.retryAfterSeconds ?? 30) },
          body: error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
        };
      case "server_error":
        return {
          status: behaviour.status ?? 500,
          headers: requestId,
          body: error("api_error", "Internal server error"),
        };
      case "answer":
      case "invalid_json":
      case "hostile": {
        const text = this.answerText(behaviour);
        return {
          status: 200,
          headers: requestId,
          body: {
            id: `msg_${randomBytes(12).toString("hex")}`,
            type: "message",
            role: "assistant",
            model,
            content: [{ type: "text", text }],
            stop_reason: "end_turn",
            stop_sequence: null,
            usage: {
              input_tokens: approxTokens(request.rawBody),
              output_tokens: approxTokens(text),
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 0,
              service_tier: "standard",
            },
          },
        };
      }
    }
  }
}

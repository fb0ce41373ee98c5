// A fake of the Gemini API as @google/genai 2.x calls it: POST /v1beta/models/{model}:generateContent
// with the key in `x-goog-api-key`; answers carry candidates and usageMetadata, errors the
// google.rpc.Status body (with RetryInfo on 429).
import {
  approxTokens,
  FakeLlmServer,
  type FakeBehaviour,
  type RecordedRequest,
  type Reply,
} from "./fake-server.js";

const GENERATE = /^\/v1beta\/models\/([^/:]+):generateContent$/;

function status(code: number, name: string, message: string, details: unknown[] = []): unknown {
  return { error: { code, message, status: name, ...(details.length > 0 ? { details } : {}) } };
}

export class GeminiFake extends FakeLlmServer {
  constructor(
    validAnswer: () => object,
    readonly apiKey = "test-gemini-key",
  ) {
    super(validAnswer);
  }

  modelRequests(): RecordedRequest[] {
    return this.requests.filter((r) => GENERATE.test(r.path));
  }

  protected route(request: RecordedRequest, behaviour: FakeBehaviour): Reply | "hang" {
    const match = GENERATE.exec(request.path);
    if (request.method !== "POST" || match === null) {
      return { status: 404, body: status(404, "NOT_FOUND", `Method not found: ${request.path}`) };
    }
    if (request.headers["x-goog-api-key"] !== this.apiKey) {
      return {
        status: 400,
        body: status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" },
        ]),
      };
    }
    const model = match[1] ?? "";
    switch (behaviour.kind) {
      case "hang":
        return "hang";
      case "rate_limit": {
        const seconds = behaviour.retryAfterSeconds ?? 30;
        return {
          status: 429,
          body: status(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${seconds}s` }],
          ),
        };
      }
      case "server_error":
        return {
          status: behaviour.status ?? 500,
          body: status(behaviour.status ?? 500, "INTERNAL", "Internal error encountered."),
        };
      case "answer":
      case "invalid_json":
      case "hostile": {
        const text = this.answerText(behaviour);
        const promptTokenCount = approxTokens(request.rawBody);
        const candidatesTokenCount = approxTokens(text);
        return {
          status: 200,
          body: {
            candidates: [{ content: { parts: [{ text }], role: "model" }, finishReason: "STOP", index: 0 }],
            usageMetadata: {
              promptTokenCount,
              candidatesTokenCount,
              totalTokenCount: promptTokenCount + candidatesTokenCount,
              promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokenCount }],
            },
            modelVersion: model,
            responseId: "fake-response-1",
          },
        };
      }
    }
  }
}

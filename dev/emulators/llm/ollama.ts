// A fake Ollama server speaking its REST API: POST /api/chat (non-streamed) and GET /api/tags,
// with the real response fields (prompt_eval_count / eval_count are the token usage).
import {
  approxTokens,
  FakeLlmServer,
  type FakeBehaviour,
  type RecordedRequest,
  type Reply,
} from "./fake-server.js";

export class OllamaFake extends FakeLlmServer {
  constructor(
    validAnswer: () => object,
    readonly models: readonly string[] = ["qwen2.5:7b"],
  ) {
    super(validAnswer);
  }

  modelRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === "/api/chat");
  }

  protected route(request: RecordedRequest, behaviour: FakeBehaviour): Reply | "hang" {
    if (request.method === "GET" && request.path === "/api/tags") return { status: 200, body: this.tags() };
    if (request.method === "GET" && request.path === "/") return { status: 200, body: "Ollama is running" };
    if (request.method !== "POST" || request.path !== "/api/chat") {
      return { status: 404, body: { error: "404 page not found" } };
    }
    const body = request.body as { model?: unknown; messages?: { content?: unknown }[] } | undefined;
    const model = typeof body?.model === "string" ? body.model : "";
    if (!this.models.includes(model)) {
      return { status: 404, body: { error: `model "${model}" not found, try pulling it first` } };
    }
    switch (behaviour.kind) {
      case "hang":
        return "hang";
      case "rate_limit":
        return {
          status: 429,
          headers: { "retry-after": String(behaviour.retryAfterSeconds ?? 30) },
          body: { error: "too many requests" },
        };
      case "server_error":
        return {
          status: behaviour.status ?? 500,
          body: { error: "llama runner process has terminated: signal: killed" },
        };
      case "answer":
      case "invalid_json":
      case "hostile": {
        const content = this.answerText(behaviour);
        const prompt = (body?.messages ?? [])
          .map((m) => (typeof m.content === "string" ? m.content : ""))
          .join("");
        return {
          status: 200,
          body: {
            model,
            created_at: new Date().toISOString(),
            message: { role: "assistant", content },
            done_reason: "stop",
            done: true,
            total_duration: 4_935_886_791,
            load_duration: 534_986_708,
            prompt_eval_count: approxTokens(prompt),
            prompt_eval_duration: 107_345_000,
            eval_count: approxTokens(content),
            eval_duration: 4_289_432_000,
          },
        };
      }
    }
  }

  private tags(): unknown {
    return {
      models: this.models.map((name) => ({
        name,
        model: name,
        modified_at: "2026-03-01T10:00:00.000000000+08:00",
        size: 4_683_087_332,
        digest: "845dbda0ea48ed749caafd9e6037047aa19acfcfd82e704d7ca97d631a0b697e",
        details: {
          parent_model: "",
          format: "gguf",
          family: "qwen2",
          families: ["qwen2"],
          parameter_size: "7.6B",
          quantization_level: "Q4_K_M",
        },
      })),
    };
  }
}

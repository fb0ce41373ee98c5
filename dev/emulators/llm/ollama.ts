// A fake Ollama server speaking its REST API: POST /api/chat (non-streamed), POST /api/show and
// GET /api/tags, with the real response fields and the real server's bad days:
// - the context window: a request without `options.num_ctx` gets the server's default (4096 on a
//   GPU under 24 GiB, docs/context-length.mdx), capped by the model's trained length. A longer
//   prompt is cut at its beginning and answered anyway with a 200 and `done_reason: "stop"`; only
//   `prompt_eval_count` (the tokens actually read) shows it (ollama/ollama#17889, #10368 "truncating
//   input prompt", PR #17944). With `truncate: false` the request is refused with a 400 instead.
// - `done_reason: "length"` when the answer hits `num_predict`, or fills the window with
//   `shift: false` (by default a full window is shifted and generation goes on); the content is
//   cut where generation stopped.
// - a cold load: the first request for a model, or for a different `num_ctx` (the runner is
//   restarted with the new window), waits `loadMs` and reports it in `load_duration` (ns).
// - 503 "server busy" when its queue is full (OLLAMA_MAX_QUEUE, docs/faq.md).
import {
  FakeLlmServer,
  modelTokens,
  sleep,
  type FakeBehaviour,
  type RecordedRequest,
  type Reply,
} from "./fake-server.js";

export interface OllamaFakeOptions {
  models?: readonly string[];
  /** The window a request without `num_ctx` gets (the server's default, by VRAM). */
  defaultContext?: number;
  /** The models' trained context length (GGUF `<family>.context_length`); `num_ctx` above it is capped. */
  trainedContext?: number;
  /** Real milliseconds a cold load takes. */
  loadMs?: number;
  /** Whether the server knows the `truncate` field (older servers ignore it and cut). Default true. */
  knowsTruncate?: boolean;
}

interface ChatBody {
  model?: unknown;
  messages?: { role?: unknown; content?: unknown }[];
  options?: { num_ctx?: unknown; num_predict?: unknown };
  truncate?: unknown;
  shift?: unknown;
}

/** What the model read of one request. */
export interface OllamaSeen {
  /** The prompt as the chat template renders it, and as the model read it (its beginning cut). */
  rendered: string;
  read: string;
  promptTokens: number;
  window: number;
  truncated: boolean;
}

/** Qwen's chat template (ChatML): each message framed by `<|im_start|>role` and `<|im_end|>`. */
export function renderChat(messages: readonly { role?: unknown; content?: unknown }[]): string {
  return (
    messages
      .map(
        (m) => `<|im_start|>${String(m.role)}\n${typeof m.content === "string" ? m.content : ""}<|im_end|>\n`,
      )
      .join("") + "<|im_start|>assistant\n"
  );
}

/** The last `tokens` tokens of `text`, by the same count as `modelTokens`. */
function lastTokens(text: string, tokens: number): string {
  const chars = [...text];
  let count = 0;
  let ascii = 0;
  let start = chars.length;
  while (start > 0) {
    const char = chars[start - 1] ?? "";
    if (char.charCodeAt(0) < 128) {
      ascii++;
      if (ascii % 4 === 1) count++;
    } else count++;
    if (count > tokens) break;
    start--;
  }
  return chars.slice(start).join("");
}

/** The first `tokens` tokens of `text`. */
function firstTokens(text: string, tokens: number): string {
  const chars = [...text];
  let end = 0;
  while (end < chars.length && modelTokens(chars.slice(0, end + 1).join("")) <= tokens) end++;
  return chars.slice(0, end).join("");
}

export class OllamaFake extends FakeLlmServer {
  readonly models: readonly string[];
  readonly defaultContext: number;
  readonly trainedContext: number;
  loadMs: number;
  readonly knowsTruncate: boolean;
  /** The window each loaded model runs with. */
  private readonly loaded = new Map<string, number>();

  constructor(validAnswer: () => object, options: OllamaFakeOptions | readonly string[] = {}) {
    super(validAnswer);
    const settings: OllamaFakeOptions = Array.isArray(options)
      ? { models: options }
      : (options as OllamaFakeOptions);
    this.models = settings.models ?? ["qwen2.5:7b"];
    this.defaultContext = settings.defaultContext ?? 4096;
    this.trainedContext = settings.trainedContext ?? 32_768;
    this.loadMs = settings.loadMs ?? 0;
    this.knowsTruncate = settings.knowsTruncate ?? true;
  }

  protected isModelCall(request: RecordedRequest): boolean {
    return request.path === "/api/chat";
  }

  /** Forgets every loaded model, as a restarted server (or an expired keep_alive) does. */
  unloadAll(): void {
    this.loaded.clear();
  }

  protected async route(request: RecordedRequest, behaviour: FakeBehaviour): Promise<Reply | "hang"> {
    if (request.method === "GET" && request.path === "/api/tags") return { status: 200, body: this.tags() };
    if (request.method === "GET" && request.path === "/") return { status: 200, body: "Ollama is running" };
    if (request.method === "POST" && request.path === "/api/show") return this.show(request);
    if (request.method !== "POST" || request.path !== "/api/chat") {
      return { status: 404, body: { error: "404 page not found" } };
    }
    const body = request.body as ChatBody | undefined;
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
      case "busy":
        // server/sched.go: ErrMaxQueue, answered 503 when OLLAMA_MAX_QUEUE requests already wait
        return {
          status: 503,
          body: { error: "server busy, please try again.  maximum pending requests exceeded" },
        };
      case "server_error":
        return {
          status: behaviour.status ?? 500,
          body: { error: "llama runner process has terminated: signal: killed" },
        };
      case "stopped":
      case "answer":
      case "invalid_json":
      case "hostile":
        return this.chat(model, body ?? {}, behaviour, request);
    }
  }

  private async chat(
    model: string,
    body: ChatBody,
    behaviour: FakeBehaviour,
    request: RecordedRequest,
  ): Promise<Reply> {
    const asked = typeof body.options?.num_ctx === "number" ? body.options.num_ctx : this.defaultContext;
    const window = Math.min(asked, this.trainedContext);
    const rendered = renderChat(body.messages ?? []);
    const promptTokens = modelTokens(rendered);
    const truncated = promptTokens > window;
    if (truncated && body.truncate === false && this.knowsTruncate) {
      request.seen = { rendered, read: "", promptTokens, window, truncated } satisfies OllamaSeen;
      return {
        status: 400,
        body: {
          error: `the input length (${promptTokens} tokens) exceeds the context length (${window} tokens)`,
        },
      };
    }

    // a different window restarts the runner; a model not in memory is loaded first
    let loadNs = 18_000_000;
    if (this.loaded.get(model) !== window) {
      await sleep(this.loadMs);
      this.loaded.set(model, window);
      loadNs = Math.max(loadNs, this.loadMs * 1_000_000);
    }

    // the runner keeps the end of the prompt: the system instruction at its start is what goes
    const read = truncated ? lastTokens(rendered, window) : rendered;
    const readTokens = truncated ? window : promptTokens;
    request.seen = { rendered, read, promptTokens, window, truncated } satisfies OllamaSeen;

    const full = behaviour.kind === "stopped" ? "" : this.answerText(behaviour);
    const predict =
      typeof body.options?.num_predict === "number" && body.options.num_predict > 0
        ? body.options.num_predict
        : Number.POSITIVE_INFINITY;
    // a full window is shifted (half discarded) and generation goes on, unless `shift: false`
    const room = body.shift === false ? Math.min(predict, Math.max(0, window - readTokens)) : predict;
    const length = modelTokens(full) > room || behaviour.kind === "stopped";
    const content = length ? firstTokens(full, room) : full;
    return {
      status: 200,
      body: {
        model,
        created_at: new Date().toISOString(),
        message: { role: "assistant", content },
        done_reason: length ? "length" : "stop",
        done: true,
        total_duration: loadNs + 4_396_777_000,
        load_duration: loadNs,
        prompt_eval_count: readTokens,
        prompt_eval_duration: 107_345_000,
        eval_count: modelTokens(content),
        eval_duration: 4_289_432_000,
      },
    };
  }

  /** POST /api/show: the model's details, its trained context length and its capabilities. */
  private show(request: RecordedRequest): Reply {
    const model = (request.body as { model?: unknown } | undefined)?.model;
    if (typeof model !== "string" || !this.models.includes(model)) {
      return { status: 404, body: { error: `model '${String(model)}' not found` } };
    }
    return {
      status: 200,
      body: {
        modelfile: `FROM ${model}`,
        parameters: 'stop "<|im_start|>"\nstop "<|im_end|>"',
        template: "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}",
        details: this.details(),
        model_info: {
          "general.architecture": "qwen2",
          "general.parameter_count": 7_615_616_512,
          "qwen2.context_length": this.trainedContext,
          "qwen2.embedding_length": 3584,
        },
        capabilities: ["completion", "tools"],
        modified_at: "2026-03-01T10:00:00.000000000+08:00",
      },
    };
  }

  private details(): Record<string, unknown> {
    return {
      parent_model: "",
      format: "gguf",
      family: "qwen2",
      families: ["qwen2"],
      parameter_size: "7.6B",
      quantization_level: "Q4_K_M",
    };
  }

  private tags(): unknown {
    return {
      models: this.models.map((name) => ({
        name,
        model: name,
        modified_at: "2026-03-01T10:00:00.000000000+08:00",
        size: 4_683_087_332,
        digest: "845dbda0ea48ed749caafd9e6037047aa19acfcfd82e704d7ca97d631a0b697e",
        details: this.details(),
      })),
    };
  }
}

// A fake of the Gemini API as @google/genai 2.x calls it: POST /v1beta/models/{model}:generateContent
// and GET /v1beta/models/{model}, with the key in `x-goog-api-key`; answers carry candidates and
// usageMetadata, errors the google.rpc.Status body (with RetryInfo on 429). What the real API does
// on its bad days, from ai.google.dev/gemini-api/docs (structured-output, thinking, troubleshooting):
// - an unknown model is 404 NOT_FOUND;
// - `responseSchema` is the OpenAPI Schema object: a field it does not have (`additionalProperties`,
//   `$schema`, `const`…) is a 400 INVALID_ARGUMENT "Unknown name"; `responseJsonSchema` takes JSON
//   Schema but enforces only a subset, and silently ignores the other keywords. The fake records
//   which keywords it ignored, and refuses to play an answer that breaks an enforced one (a real
//   model could not produce it), so tests can only ever break what Gemini does not enforce;
// - 2.5 models think first: thought tokens (`usageMetadata.thoughtsTokenCount`) come out of
//   `maxOutputTokens`, so an answer can stop at `finishReason: "MAX_TOKENS"`, cut or empty;
//   `thinkingConfig.thinkingBudget` bounds them (0 turns thinking off on Flash, Pro cannot);
// - SAFETY (and other) stops come without content; 503 UNAVAILABLE when the model is overloaded.
import {
  FakeLlmServer,
  modelTokens,
  type FakeBehaviour,
  type RecordedRequest,
  type Reply,
} from "./fake-server.js";

const GENERATE = /^\/v1beta\/models\/([^/:]+):generateContent$/;
const MODEL = /^\/v1beta\/models\/([^/:?]+)(?:\?.*)?$/;

function status(code: number, name: string, message: string, details: unknown[] = []): unknown {
  return { error: { code, message, status: name, ...(details.length > 0 ? { details } : {}) } };
}

/** Fields of the OpenAPI Schema object `responseSchema` takes (ai.google.dev api/caching#Schema). */
const OPENAPI_SCHEMA_FIELDS = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "maxItems",
  "minItems",
  "properties",
  "required",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "anyOf",
  "propertyOrdering",
  "default",
  "items",
  "minimum",
  "maximum",
]);

/**
 * The JSON Schema keywords `responseJsonSchema` enforces (docs/structured-output, "JSON Schema
 * support"); anything else is accepted and ignored.
 */
const ENFORCED_KEYWORDS = new Set([
  "type",
  "enum",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "anyOf",
  "oneOf",
  "$ref",
  "$defs",
  "format",
]);
/** Keywords that only describe. */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "propertyOrdering",
  "$id",
  "$anchor",
  "default",
  "examples",
]);

type Json = Record<string, unknown>;

/** Every keyword of `schema` that Gemini ignores, as `path: keyword`. */
export function ignoredKeywords(schema: unknown, path = "$"): string[] {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema as Json)) {
    if (!ENFORCED_KEYWORDS.has(key) && !ANNOTATIONS.has(key)) found.push(`${path}: ${key}`);
    if (key === "properties" || key === "$defs") {
      for (const [name, child] of Object.entries((value ?? {}) as Json))
        found.push(...ignoredKeywords(child, `${path}.${name}`));
    } else if (key === "items" || key === "additionalProperties") {
      found.push(...ignoredKeywords(value, `${path}[]`));
    } else if ((key === "anyOf" || key === "oneOf" || key === "prefixItems") && Array.isArray(value)) {
      value.forEach((child, i) => found.push(...ignoredKeywords(child, `${path}|${i}`)));
    }
  }
  return found;
}

/** Where `value` breaks a keyword Gemini enforces (none means a real model could produce it). */
export function enforcedProblems(schema: unknown, value: unknown, path = "$"): string[] {
  if (schema === null || typeof schema !== "object") return [];
  const s = schema as Json;
  const problems: string[] = [];
  const type = s.type;
  const actual = Array.isArray(value)
    ? "array"
    : value === null
      ? "null"
      : typeof value === "number" && Number.isInteger(value)
        ? "integer"
        : typeof value;
  if (typeof type === "string" && type !== actual && !(type === "number" && actual === "integer")) {
    return [`${path}: ${actual} is not ${type}`];
  }
  if (Array.isArray(s.enum) && !s.enum.includes(value)) problems.push(`${path}: not one of the enum`);
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) problems.push(`${path}: below minimum`);
    if (typeof s.maximum === "number" && value > s.maximum) problems.push(`${path}: above maximum`);
  }
  if (actual === "object" && value !== null) {
    const object = value as Json;
    const properties = (s.properties ?? {}) as Json;
    for (const name of (s.required ?? []) as string[])
      if (!(name in object)) problems.push(`${path}: ${name} missing`);
    for (const [name, child] of Object.entries(object)) {
      if (name in properties) problems.push(...enforcedProblems(properties[name], child, `${path}.${name}`));
      else if (s.additionalProperties === false) problems.push(`${path}: ${name} not allowed`);
    }
  }
  return problems;
}

/** The first field of `schema` the OpenAPI Schema object does not have, with its path. */
function unknownOpenApiField(schema: unknown, path: string): string | undefined {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return undefined;
  for (const [key, value] of Object.entries(schema as Json)) {
    if (!OPENAPI_SCHEMA_FIELDS.has(key)) return `Unknown name "${key}" at '${path}': Cannot find field.`;
    const children =
      key === "properties"
        ? Object.entries((value ?? {}) as Json).map(([name, child]) => [
            `${path}.properties[${name}].value`,
            child,
          ])
        : key === "items"
          ? [[`${path}.items`, value]]
          : [];
    for (const [childPath, child] of children) {
      const found = unknownOpenApiField(child, String(childPath));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export interface GeminiModel {
  /** Thinks before answering (the 2.5 family). */
  thinking: boolean;
  /** Thinking cannot be turned off (Pro). */
  alwaysThinks?: boolean;
  outputTokenLimit?: number;
}

export const GEMINI_MODELS: Readonly<Record<string, GeminiModel>> = {
  "gemini-2.5-flash": { thinking: true },
  "gemini-2.5-pro": { thinking: true, alwaysThinks: true },
  "gemini-2.0-flash": { thinking: false, outputTokenLimit: 8192 },
};

interface GenerateBody {
  generationConfig?: {
    responseSchema?: unknown;
    responseJsonSchema?: unknown;
    maxOutputTokens?: unknown;
    thinkingConfig?: { thinkingBudget?: unknown };
  };
}

export class GeminiFake extends FakeLlmServer {
  /** Thought tokens a thinking model spends when no budget bounds them (dynamic thinking). */
  thinkingTokens = 900;

  constructor(
    validAnswer: () => object,
    readonly apiKey = "test-gemini-key",
    readonly models: Readonly<Record<string, GeminiModel>> = GEMINI_MODELS,
  ) {
    super(validAnswer);
  }

  protected isModelCall(request: RecordedRequest): boolean {
    return GENERATE.test(request.path);
  }

  protected route(request: RecordedRequest, behaviour: FakeBehaviour): Reply | "hang" {
    if (request.headers["x-goog-api-key"] !== this.apiKey) {
      return {
        status: 400,
        body: status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" },
        ]),
      };
    }
    const read = MODEL.exec(request.path);
    if (request.method === "GET" && read !== null) return this.modelResource(read[1] ?? "");
    const match = GENERATE.exec(request.path);
    if (request.method !== "POST" || match === null) {
      return { status: 404, body: status(404, "NOT_FOUND", `Method not found: ${request.path}`) };
    }
    const model = match[1] ?? "";
    const spec = this.models[model];
    if (spec === undefined) return notFound(model);
    const config = (request.body as GenerateBody | undefined)?.generationConfig ?? {};
    if (config.responseSchema !== undefined) {
      const unknown = unknownOpenApiField(config.responseSchema, "generation_config.response_schema");
      if (unknown !== undefined)
        return {
          status: 400,
          body: status(400, "INVALID_ARGUMENT", `Invalid JSON payload received. ${unknown}`),
        };
    }
    const budget = config.thinkingConfig?.thinkingBudget;
    if (budget === 0 && spec.alwaysThinks === true) {
      return {
        status: 400,
        body: status(400, "INVALID_ARGUMENT", "Budget 0 is invalid. This model only works in thinking mode."),
      };
    }
    const schema = config.responseJsonSchema;
    request.seen = { ignoredKeywords: schema === undefined ? [] : ignoredKeywords(schema) };
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
      case "busy":
        return {
          status: 503,
          body: status(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        };
      case "server_error":
        return {
          status: behaviour.status ?? 500,
          body: status(behaviour.status ?? 500, "INTERNAL", "Internal error encountered."),
        };
      case "stopped":
      case "answer":
      case "invalid_json":
      case "hostile": {
        const text = behaviour.kind === "stopped" ? "" : this.answerText(behaviour);
        // hostile answers are played as they are: they test the chain's own checks, which must not
        // lean on a provider's decoding (a proxy in front of Gemini constrains nothing)
        if (schema !== undefined && behaviour.kind === "answer") {
          const problems =
            jsonOrUndefined(text) === undefined ? [] : enforcedProblems(schema, jsonOrUndefined(text));
          if (problems.length > 0) {
            // a test asked for an answer constrained decoding could never give
            return {
              status: 500,
              body: status(
                500,
                "INTERNAL",
                `fake: the answer breaks an enforced keyword: ${problems.join("; ")}`,
              ),
            };
          }
        }
        const thoughts = !spec.thinking
          ? 0
          : typeof budget === "number" && budget >= 0
            ? Math.min(budget, this.thinkingTokens)
            : this.thinkingTokens;
        const limit =
          typeof config.maxOutputTokens === "number"
            ? config.maxOutputTokens
            : (spec.outputTokenLimit ?? 65_536);
        const room = Math.max(0, limit - thoughts);
        const cut = modelTokens(text) > room;
        const shown = cut ? [...text].slice(0, room * 4).join("") : text;
        const finishReason = behaviour.kind === "stopped" ? behaviour.reason : cut ? "MAX_TOKENS" : "STOP";
        const promptTokenCount = modelTokens(request.rawBody);
        const candidatesTokenCount = modelTokens(shown);
        const spent = Math.min(thoughts, limit);
        return {
          status: 200,
          body: {
            candidates: [
              {
                // a stop without content has no parts at all
                content: shown === "" ? { role: "model" } : { parts: [{ text: shown }], role: "model" },
                finishReason,
                index: 0,
                ...(finishReason === "SAFETY"
                  ? {
                      safetyRatings: [
                        { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
                      ],
                    }
                  : {}),
              },
            ],
            usageMetadata: {
              promptTokenCount,
              candidatesTokenCount,
              totalTokenCount: promptTokenCount + candidatesTokenCount + spent,
              promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokenCount }],
              ...(spent > 0 ? { thoughtsTokenCount: spent } : {}),
            },
            modelVersion: model,
            responseId: "fake-response-1",
          },
        };
      }
    }
  }

  /** GET /v1beta/models/{model}: the model resource (free: no tokens). */
  private modelResource(model: string): Reply {
    const spec = this.models[model];
    if (spec === undefined) return notFound(model);
    return {
      status: 200,
      body: {
        name: `models/${model}`,
        version: "001",
        displayName: model,
        inputTokenLimit: 1_048_576,
        outputTokenLimit: spec.outputTokenLimit ?? 65_536,
        supportedGenerationMethods: [
          "generateContent",
          "countTokens",
          "createCachedContent",
          "batchGenerateContent",
        ],
        temperature: 1,
        topP: 0.95,
        topK: 64,
        maxTemperature: 2,
        thinking: spec.thinking,
      },
    };
  }
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function notFound(model: string): Reply {
  return {
    status: 404,
    body: status(
      404,
      "NOT_FOUND",
      `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
    ),
  };
}

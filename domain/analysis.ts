// The structured result of an incident analysis. `ModelOutputSchema` is what a model must
// return (also sent to the models as a JSON Schema); `AnalysisSchema` adds what the chain knows
// (which provider, tokens, cost). `validateModelOutput` is the gate every model answer passes.
import { z } from "zod";
import {
  ACTION_RISK,
  ACTION_TARGET_KINDS,
  higherRisk,
  NAMESPACED_KINDS,
  RISK_LEVELS,
  SUGGESTED_ACTIONS,
  TARGET_KINDS,
  type SuggestedAction,
} from "./actions.js";
import { ANY_TARGET_NAME, NAMESPACE_NAME } from "./names.js";
import { targetProblem, type IncidentScope } from "./scope.js";

// C0/C1 controls, DEL, and the bidi overrides that make text read differently than it is.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS_EXCEPT_NEWLINE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

const line = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_CHARS.test(value), { error: "must not contain control characters" });

const paragraph = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_CHARS_EXCEPT_NEWLINE.test(value), {
      error: "must not contain control characters",
    });

export const TargetSchema = z.strictObject({
  kind: z.enum(TARGET_KINDS),
  namespace: z.string().max(63).regex(NAMESPACE_NAME).optional(),
  name: z.string().min(1).max(253).regex(ANY_TARGET_NAME),
});
export type Target = z.infer<typeof TargetSchema>;

export const BlastRadiusSchema = z.strictObject({
  affected_pods: z.number().int().min(0).max(1000),
  estimated_downtime_seconds: z.number().int().min(0).max(86_400),
});

const modelOutputShape = {
  suggested_action: z.enum(SUGGESTED_ACTIONS),
  target: TargetSchema,
  confidence: z.number().min(0).max(1),
  risk_level: z.enum(RISK_LEVELS),
  blast_radius: BlastRadiusSchema,
  owner_team: line(64),
  cause: line(300),
  reasoning: paragraph(2000),
};

function actionFitsTarget(
  output: { suggested_action: SuggestedAction; target: Target },
  ctx: z.RefinementCtx,
): void {
  const kinds = ACTION_TARGET_KINDS[output.suggested_action];
  if (!kinds.includes(output.target.kind)) {
    ctx.addIssue({
      code: "custom",
      path: ["target", "kind"],
      message: `${output.suggested_action} acts on ${kinds.join(" or ")}, not ${output.target.kind}`,
    });
  }
}

/** Exactly what a model must answer; nothing more is accepted. */
export const ModelOutputSchema = z.strictObject(modelOutputShape).superRefine(actionFitsTarget);
export type ModelOutput = z.infer<typeof ModelOutputSchema>;

/** The model output schema as JSON Schema, the form the providers' structured output takes. */
export const MODEL_OUTPUT_JSON_SCHEMA: Readonly<Record<string, unknown>> = (() => {
  // `$schema` names the dialect only, and some endpoints refuse keywords they do not know.
  const { $schema: _dialect, ...schema } = z.toJSONSchema(ModelOutputSchema);
  return Object.freeze(schema);
})();

/** "human": a person asked for the action in the chat (`/rollback`); no model was involved. */
export const ENGINES = ["llm", "offline", "human"] as const;
export type Engine = (typeof ENGINES)[number];

export const AnalysisSchema = z
  .strictObject({
    ...modelOutputShape,
    provider: z.enum(["ollama", "gemini", "claude", "offline", "human"]),
    model: z.string().min(1).max(128),
    tokens: z.strictObject({ input: z.number().int().min(0), output: z.number().int().min(0) }),
    cost_usd: z.number().min(0),
    engine: z.enum(ENGINES),
  })
  .superRefine(actionFitsTarget);
export type Analysis = z.infer<typeof AnalysisSchema>;

export type OutputVerdict =
  /** `normalised`: the near-misses corrected on the way (`confidence: "0.8"` → 0.8). */
  | { ok: true; output: ModelOutput; normalised: string[] }
  /** `invalid_output`: not JSON, or not the shape asked for; `rejected`: shaped, but unsafe. */
  | { ok: false; kind: "invalid_output" | "rejected"; problems: string[] };

const MAX_OUTPUT_CHARS = 32_768;
const SAFETY_FIELDS = new Set(["suggested_action", "target"]);

/**
 * Parses and checks one model answer against the incident's scope. The answer must be the
 * strict shape, propose a listed action on the incident's own resource, and carry no injected
 * instructions. The risk level is raised to the action's own risk when a model rates it lower.
 */
export function validateModelOutput(raw: string | object, scope: IncidentScope): OutputVerdict {
  const parsed = typeof raw === "string" ? parseJsonText(raw) : { ok: true as const, value: raw };
  if (!parsed.ok) return { ok: false, kind: "invalid_output", problems: [parsed.problem] };
  if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    return { ok: false, kind: "invalid_output", problems: ["the answer is not a JSON object"] };
  }

  const { value: normalisedValue, notes: normalised } = normaliseNearMisses(
    parsed.value as Record<string, unknown>,
  );
  const result = ModelOutputSchema.safeParse(normalisedValue);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "answer"}: ${issue.message}`,
    );
    const unsafe = result.error.issues.some(
      (issue) => SAFETY_FIELDS.has(String(issue.path[0])) && issue.code !== "invalid_type",
    );
    return { ok: false, kind: unsafe ? "rejected" : "invalid_output", problems };
  }

  const output = result.data;
  const problems: string[] = [];
  const targetIssue = targetProblem(output.target, scope);
  if (targetIssue !== undefined) problems.push(`target: ${targetIssue}`);
  for (const field of ["cause", "reasoning", "owner_team"] as const) {
    if (looksLikeInjection(output[field])) problems.push(`${field}: carries instructions aimed at the model`);
  }
  if (problems.length > 0) return { ok: false, kind: "rejected", problems };

  return {
    ok: true,
    output: { ...output, risk_level: higherRisk(output.risk_level, ACTION_RISK[output.suggested_action]) },
    normalised,
  };
}

const UNIT_NUMBER = /^\s*(?:0?\.\d+|0|1|0\.\d*|1\.0*)\s*$/;
const WHOLE_NUMBER = /^\s*\d{1,6}\s*$/;
const TEXT_LIMITS = { cause: 300, reasoning: 2000 } as const;

/**
 * Corrects what real models get almost right, where only one reading exists: a confidence or a
 * count sent as a numeric string ("0.8", "2"); an empty or null namespace on a target that has
 * none (a Docker container, a host); free text longer than its limit (Gemini does not enforce
 * lengths), cut at the limit. Nothing that would need a guess is touched: a confidence of "high"
 * or "80%", an empty namespace on a Deployment, a name that breaks its pattern stay wrong and are
 * refused.
 */
export function normaliseNearMisses(value: Record<string, unknown>): {
  value: Record<string, unknown>;
  notes: string[];
} {
  const notes: string[] = [];
  const out: Record<string, unknown> = { ...value };
  if (typeof out.confidence === "string" && UNIT_NUMBER.test(out.confidence)) {
    notes.push(`confidence ${JSON.stringify(out.confidence)} read as a number`);
    out.confidence = Number(out.confidence);
  }
  const blast = out.blast_radius;
  if (blast !== null && typeof blast === "object" && !Array.isArray(blast)) {
    const copy: Record<string, unknown> = { ...(blast as Record<string, unknown>) };
    for (const key of ["affected_pods", "estimated_downtime_seconds"]) {
      const field = copy[key];
      if (typeof field === "string" && WHOLE_NUMBER.test(field)) {
        notes.push(`blast_radius.${key} ${JSON.stringify(field)} read as a number`);
        copy[key] = Number(field);
      }
    }
    out.blast_radius = copy;
  }
  const target = out.target;
  if (target !== null && typeof target === "object" && !Array.isArray(target)) {
    const copy: Record<string, unknown> = { ...(target as Record<string, unknown>) };
    const namespace = copy.namespace;
    const kind = copy.kind;
    const blank = namespace === null || (typeof namespace === "string" && namespace.trim() === "");
    if (
      "namespace" in copy &&
      blank &&
      typeof kind === "string" &&
      (TARGET_KINDS as readonly string[]).includes(kind) &&
      !NAMESPACED_KINDS.has(kind as (typeof TARGET_KINDS)[number])
    ) {
      notes.push(`target.namespace ${JSON.stringify(namespace)} dropped: a ${kind} has none`);
      delete copy.namespace;
    }
    out.target = copy;
  }
  for (const [field, max] of Object.entries(TEXT_LIMITS)) {
    const text = out[field];
    if (typeof text === "string" && text.length > max) {
      notes.push(`${field} cut from ${text.length} to ${max} characters`);
      out[field] = `${text.slice(0, max - 1)}…`;
    }
  }
  return { value: out, notes };
}

function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (text.length > MAX_OUTPUT_CHARS)
    return { ok: false, problem: `the answer exceeds ${MAX_OUTPUT_CHARS} characters` };
  // Some models wrap JSON in a Markdown fence even when asked for bare JSON.
  const unfenced = text
    .trim()
    .replace(/^```(?:json)?\s*\n?/i, "")
    .replace(/\n?```$/, "");
  try {
    return { ok: true, value: JSON.parse(unfenced) };
  } catch (error) {
    return { ok: false, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const INJECTION_MARKERS = [
  /ignore (all |any )?(the )?(previous|prior|above|earlier|system) (instructions|prompts?|rules)/i,
  /disregard (all |any )?(the )?(previous|prior|above|system)/i,
  // a string, not a literal: the bundle escapes non-ASCII in strings but not in regular expressions,
  // and one character past Latin-1 doubles the size of its whole chunk in memory (dev/build.ts)
  new RegExp("忽略(之前|先前|以上|上述|所有)的?(指示|指令|規則|提示)"),
  /you are now|new instructions?:|system prompt/i,
  /<\/?untrusted-data|<<<|>>>/i,
];

/** Text that tries to steer a model, echoed back from an alert or log. */
export function looksLikeInjection(value: string): boolean {
  return INJECTION_MARKERS.some((marker) => marker.test(value));
}

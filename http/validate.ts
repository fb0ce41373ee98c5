// The one way a route reads input it did not type itself: a zod schema, and on failure a 400
// naming the first problems ("alerts[0].labels: must not be empty").
import type { z } from "zod";
import { ApiError } from "./errors.js";

/** "alerts[0].labels: must not be empty" for the first few problems. */
export function describeIssues(error: z.ZodError): {
  message: string;
  issues: { path: string; message: string }[];
} {
  const issues = error.issues.slice(0, 10).map((issue) => ({
    path: issue.path.reduce<string>(
      (text, part) =>
        typeof part === "number"
          ? `${text}[${part}]`
          : text === ""
            ? String(part)
            : `${text}.${String(part)}`,
      "",
    ),
    message: issue.message,
  }));
  const first = issues[0];
  const message =
    first === undefined ? "invalid body" : `${first.path === "" ? "body" : first.path}: ${first.message}`;
  return { message, issues };
}

/** `value` as the schema's output, or a 400 `invalid_payload` (a body) / `invalid_query` (a query or path). */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  code: "invalid_payload" | "invalid_query" = "invalid_payload",
): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const { message, issues } = describeIssues(result.error);
    throw new ApiError(code, message, { issues });
  }
  return result.data;
}

/** Deepest nesting of arrays and objects a webhook body may have (real payloads stay under 20). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether the JSON text nests arrays/objects deeper than `maxDepth`, found by one scan of the bytes
 * (strings and escapes skipped) before anything recursive touches it: a body nested 10,000 deep
 * is a 400, never a stack overflow and a retryable 5xx. Every webhook delivery passes here, and
 * most of an alert's bytes are inside strings: each string is jumped over with a native search for
 * its closing quote instead of being walked byte by byte.
 */
export function jsonTooDeep(text: string | Buffer, maxDepth: number = MAX_JSON_DEPTH): boolean {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x22) {
      const end = closingQuote(bytes, i);
      // unterminated: not JSON, which the parser says next
      if (end === -1) return false;
      i = end;
    } else if (byte === 0x7b || byte === 0x5b) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return false;
}

/** Where the string opened at `open` ends: the next quote not escaped by an odd run of backslashes. */
function closingQuote(bytes: Buffer, open: number): number {
  let end = bytes.indexOf(0x22, open + 1);
  while (end !== -1) {
    let backslashes = 0;
    for (let j = end - 1; bytes[j] === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = bytes.indexOf(0x22, end + 1);
  }
  return -1;
}

/** The body as JSON, or a 400: too deep (checked before parsing) or not JSON at all. */
export function parseJsonBody(raw: string | Buffer): unknown {
  if (jsonTooDeep(raw))
    throw new ApiError("invalid_json", `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8")) as unknown;
  } catch (error) {
    throw new ApiError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

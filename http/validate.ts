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

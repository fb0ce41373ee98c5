// Reads the registry YAML, checks its shape and its cross-references, and reports every problem
// as `file:line:column: path: message`, one per problem, all at once.
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import type { Registry } from "./model.js";
import { formatPath, locate, type Path } from "./positions.js";
import { resolveRegistry } from "./resolve.js";
import { RegistryFile } from "./schema.js";
import { checkRegistry } from "./semantic.js";

export const DEFAULT_REGISTRY_PATH = "registry/services.yaml";

export interface RegistryIssue {
  file: string;
  /** 1-based; absent when the file could not be read at all. */
  line?: number;
  column?: number;
  /** Where in the document, e.g. `services[3].k8s[0].replicas`; empty for the whole file. */
  path: string;
  message: string;
}

export type ParseResult = { ok: true; registry: Registry } | { ok: false; issues: RegistryIssue[] };

export function formatIssue(issue: RegistryIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.path === "" ? "" : `${issue.path}: `}${issue.message}`;
}

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(readonly issues: readonly RegistryIssue[]) {
    super(issues.map(formatIssue).join("\n"));
  }
}

/** Loads and checks the registry; throws a `RegistryError` listing every problem. */
export async function loadRegistryFile(file: string): Promise<Registry> {
  const result = await readRegistry(file);
  if (!result.ok) throw new RegistryError(result.issues);
  return result.registry;
}

export async function readRegistry(file: string): Promise<ParseResult> {
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    return {
      ok: false,
      issues: [{ file, path: "", message: `cannot read the registry (${(error as Error).message})` }],
    };
  }
  return parseRegistry(source, file);
}

/** Parses registry text; `file` is only used to name the source in issues. */
export function parseRegistry(source: string, file: string): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return { file, line, column: col, path: "", message: error.message };
      }),
    };
  }
  const at = (path: Path, message: string, key?: string): RegistryIssue => {
    const { line, column } = locate(doc, lines, path, key);
    return { file, line, column, path: formatPath(key === undefined ? path : [...path, key]), message };
  };

  const parsed = RegistryFile.safeParse(doc.toJS({ maxAliasCount: 1000 }), { error: plainMessage });
  if (!parsed.success) {
    return { ok: false, issues: sortByPosition(parsed.error.issues.flatMap((issue) => fromZod(issue, at))) };
  }
  const semantic = checkRegistry(parsed.data);
  if (semantic.length > 0) {
    return { ok: false, issues: sortByPosition(semantic.map((issue) => at(issue.path, issue.message))) };
  }
  return { ok: true, registry: resolveRegistry(parsed.data, file) };
}

function fromZod(issue: z.core.$ZodIssue, at: (path: Path, message: string, key?: string) => RegistryIssue) {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => at(issue.path, "unknown key", key));
  }
  return [at(issue.path, issue.message)];
}

/**
 * Messages for zod's own checks, worded for someone editing YAML ("expected a number", "is
 * required"). Messages the schema sets itself take precedence over these.
 */
function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describe(issue.input)}`;
    case "invalid_value": {
      const values = issue.values.map((value) => String(value));
      if (values.length === 1) return `must be ${values[0] ?? ""}`;
      return `expected one of ${values.join(", ")}, got ${describe(issue.input)}`;
    }
    case "too_small":
      return issue.origin === "array"
        ? `must list at least ${String(issue.minimum)}`
        : `must be at least ${String(issue.minimum)}`;
    case "too_big":
      return issue.origin === "array"
        ? `must list at most ${String(issue.maximum)}`
        : `must be at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
}

const TYPE_NAMES: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

function describe(value: unknown): string {
  if (value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

function sortByPosition(issues: RegistryIssue[]): RegistryIssue[] {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

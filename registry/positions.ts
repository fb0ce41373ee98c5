// Maps a path inside the parsed registry (["services", 3, "k8s", 0, "replicas"]) back to a line
// and column of the YAML source, so every error points at the place to fix.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";

export type Path = readonly PropertyKey[];

export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Position of the value at `path` (of its key when the value is empty). When the path runs past
 * what the document holds (a required key that is missing), the nearest existing ancestor. With
 * `key`, the position of that key inside the mapping at `path` (for unknown keys).
 */
export function locate(doc: Document, lines: LineCounter, path: Path, key?: string): SourcePosition {
  let node: Node | null = doc.contents;
  let found: Node | null = node;
  for (const segment of key === undefined ? path : [...path, key]) {
    const next = child(doc, node, segment, key !== undefined && segment === key);
    if (next === undefined) break;
    found = next.position ?? found;
    node = next.value;
  }
  const offset = found?.range?.[0] ?? 0;
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/** The child at `segment`: its value node, and the node whose position stands for it. */
function child(
  doc: Document,
  parent: Node | null,
  segment: PropertyKey,
  wantKey: boolean,
): { value: Node | null; position: Node | null } | undefined {
  const node = isAlias(parent) ? (parent.resolve(doc) ?? null) : parent;
  if (isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    if (pair === undefined) return undefined;
    const keyNode = isScalar(pair.key) ? pair.key : null;
    const value = (pair.value as Node | null) ?? null;
    return { value, position: wantKey || value === null ? keyNode : value };
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = (node.items[segment] as Node | null | undefined) ?? undefined;
    return item === undefined ? undefined : { value: item, position: item };
  }
  return undefined;
}

/** `services[3].k8s[0].replicas` */
export function formatPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

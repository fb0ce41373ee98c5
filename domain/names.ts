// Name patterns for analysis targets. A model's target names an existing resource; a value that
// does not look like a resource name of its kind (spaces, `;`, `$(`, quotes, …) is refused.
import type { TargetKind } from "./actions.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;
const CONTAINER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const REDIS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}(:\d{1,5})?$/;
const POSTGRES_TABLE = /^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/;
const MODEL =
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,2}(:[A-Za-z0-9._-]{1,128})?$/;
const CERTIFICATE = /^(?=.{1,253}$)(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const AI_PROVIDER = /^(ollama|gemini|claude)$/;
const ALERT = /^[A-Za-z_][A-Za-z0-9_:.-]{0,127}$/;

/** The loosest of the patterns below; it is what the JSON schema sent to models carries. */
export const ANY_TARGET_NAME = /^[A-Za-z0-9_*][A-Za-z0-9_.:/*-]{0,252}$/;

export const NAMESPACE_NAME = DNS1123_LABEL;

export const NAME_PATTERNS: Record<TargetKind, RegExp> = {
  Deployment: DNS1123_SUBDOMAIN,
  StatefulSet: DNS1123_SUBDOMAIN,
  Pod: DNS1123_SUBDOMAIN,
  Container: CONTAINER,
  Redis: REDIS,
  PostgresTable: POSTGRES_TABLE,
  Host: HOSTNAME,
  Model: MODEL,
  Certificate: CERTIFICATE,
  AiProvider: AI_PROVIDER,
  Service: CONTAINER,
  Alert: ALERT,
};

export function isValidName(kind: TargetKind, name: string): boolean {
  return NAME_PATTERNS[kind].test(name);
}

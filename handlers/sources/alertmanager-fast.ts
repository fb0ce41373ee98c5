// The webhook intake's fast path through the Alertmanager schema (alertmanager.ts). The schema is
// the definition; parsing with it copies every object of the body (its output is a new object per
// alert, label set and annotation set), which made zod and the garbage of those copies a large share
// of the intake's CPU per alert. Here the common case is checked in place: a group or an alert that
// holds only the schema's own fields, each of the schema's type, is accepted as it was parsed (only
// the schema's defaults are filled in; a group's few fields are copied). Anything else (a field the
// schema does not know, such as Grafana's `values`; a wrong type; a key named __proto__) is left to
// the schema: these functions answer `undefined`, never a refusal, so the schema alone decides what
// is refused and with which message. The test compares both on the real payloads and on thousands
// of variants of them (test/handlers/sources/alertmanager-fast.test.ts).
import {
  FINGERPRINT_MAX,
  isTimestamp,
  TIMESTAMP_MAX,
  URL_MAX,
  VALUE_STRING_MAX,
  type AlertmanagerAlert,
  type AlertmanagerPayload,
} from "./alertmanager.js";

type Json = Record<string, unknown>;

/**
 * The fields this checks, written out rather than read from the schema: a field added to the schema
 * sends its alerts to the schema until a check for it is written here.
 */
const ALERT_FIELDS = new Set([
  "status",
  "labels",
  "annotations",
  "startsAt",
  "endsAt",
  "generatorURL",
  "fingerprint",
  "silenceURL",
  "dashboardURL",
  "panelURL",
  "valueString",
]);

/*
 * String lengths here are UTF-16 code units, never fewer than the code points zod counts past a
 * maximum: a string this refuses may still pass the schema, never the reverse.
 */

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Only the named fields, none of them __proto__ (JSON.parse makes it an own field; see the header). */
function onlyFields(value: Json, fields: ReadonlySet<string>): boolean {
  for (const key in value) if (!fields.has(key)) return false;
  return true;
}

/** A label or annotation set: strings only; `nonEmpty` as the schema's labels refinement. */
function isLabelSet(value: unknown, nonEmpty: boolean): boolean {
  if (!isObject(value)) return false;
  let count = 0;
  for (const key in value) {
    if (key === "__proto__" || typeof value[key] !== "string") return false;
    count++;
  }
  return !nonEmpty || count > 0;
}

/** Absent, or a string of at most `max` code units. */
function optionalString(value: unknown, max: number): boolean {
  return value === undefined || (typeof value === "string" && value.length <= max);
}

/**
 * The last startsAt and the last endsAt found valid, each in its own slot: the alerts of one group
 * usually share their startsAt (one rule evaluation) and endsAt (the zero time while firing), so most
 * are checked by one comparison each. (One slot for both missed every time: the two alternate.)
 */
const lastValid: Record<"startsAt" | "endsAt", string | undefined> = {
  startsAt: undefined,
  endsAt: undefined,
};

function optionalTimestamp(value: unknown, field: keyof typeof lastValid): boolean {
  if (value === undefined || value === lastValid[field]) return true;
  if (typeof value !== "string" || value.length > TIMESTAMP_MAX || !isTimestamp(value)) return false;
  lastValid[field] = value;
  return true;
}

/**
 * `value` as the schema would output it, when it is one of the common alerts this checks in place;
 * undefined when the schema has to decide. Fills in the schema's default (no annotations: `{}`) on
 * `value` itself, which the caller owns (it was just parsed from the body).
 */
export function acceptAlert(value: unknown): AlertmanagerAlert | undefined {
  if (!isObject(value) || !onlyFields(value, ALERT_FIELDS)) return undefined;
  if (value.status !== "firing" && value.status !== "resolved") return undefined;
  if (!isLabelSet(value.labels, true)) return undefined;
  if (value.annotations !== undefined && !isLabelSet(value.annotations, false)) return undefined;
  if (!optionalTimestamp(value.startsAt, "startsAt") || !optionalTimestamp(value.endsAt, "endsAt"))
    return undefined;
  if (
    !optionalString(value.generatorURL, URL_MAX) ||
    !optionalString(value.silenceURL, URL_MAX) ||
    !optionalString(value.dashboardURL, URL_MAX) ||
    !optionalString(value.panelURL, URL_MAX) ||
    !optionalString(value.fingerprint, FINGERPRINT_MAX) ||
    !optionalString(value.valueString, VALUE_STRING_MAX)
  )
    return undefined;
  value.annotations ??= {};
  return value as AlertmanagerAlert;
}

/** Every alert of `values` accepted in place, or undefined as soon as one needs the schema. */
export function acceptAlerts(values: readonly unknown[]): AlertmanagerAlert[] | undefined {
  for (const value of values) if (acceptAlert(value) === undefined) return undefined;
  return values as AlertmanagerAlert[];
}

/**
 * The envelope of a group (its alerts not yet looked at), as the schema would output it: a new
 * object of the schema's fields (one per request, so fields the schema drops, such as Grafana's
 * `numFiring`, need not send the group to the schema), or undefined when the schema has to decide.
 */
export function acceptGroupEnvelope(
  value: unknown,
  maxAlerts: number,
): (Omit<AlertmanagerPayload, "alerts"> & { alerts: unknown[] }) | undefined {
  if (!isObject(value) || Object.hasOwn(value, "__proto__")) return undefined;
  const { version, status, groupKey, receiver, truncatedAlerts, orgId, externalURL, alerts } = value;
  if (version !== "4" && version !== "1") return undefined;
  if (status !== "firing" && status !== "resolved") return undefined;
  if (typeof groupKey !== "string" || typeof receiver !== "string") return undefined;
  if (
    truncatedAlerts !== undefined &&
    !(Number.isSafeInteger(truncatedAlerts) && (truncatedAlerts as number) >= 0)
  )
    return undefined;
  if (orgId !== undefined && !Number.isSafeInteger(orgId)) return undefined;
  const { groupLabels = {}, commonLabels = {}, commonAnnotations = {} } = value;
  for (const set of [groupLabels, commonLabels, commonAnnotations])
    if (!isLabelSet(set, false)) return undefined;
  if (externalURL !== undefined && typeof externalURL !== "string") return undefined;
  if (!Array.isArray(alerts) || alerts.length === 0 || alerts.length > maxAlerts) return undefined;
  return {
    version,
    groupKey,
    truncatedAlerts: (truncatedAlerts as number | undefined) ?? 0,
    status,
    receiver,
    groupLabels: groupLabels as Record<string, string>,
    commonLabels: commonLabels as Record<string, string>,
    commonAnnotations: commonAnnotations as Record<string, string>,
    externalURL: externalURL ?? "",
    alerts: alerts as unknown[],
    ...(orgId === undefined ? {} : { orgId: orgId as number }),
  };
}

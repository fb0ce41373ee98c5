// The intake's fast path (handlers/sources/alertmanager-fast.ts) against the schema it shortcuts:
// whatever the fast path accepts, the schema accepts too, with the same output; whatever it is not
// sure of, it leaves to the schema. Checked on the real payloads of test/fixtures/real and on
// thousands of variants of them (a field removed, replaced by a value of another type or length, or
// added), from a seeded generator so that a failure names a case that can be replayed.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import {
  AlertmanagerAlertSchema,
  AlertmanagerPayloadSchema,
  MAX_GROUP_ALERTS,
} from "../../../handlers/sources/alertmanager.js";
import {
  acceptAlert,
  acceptAlerts,
  acceptGroupEnvelope,
} from "../../../handlers/sources/alertmanager-fast.js";

type Json = Record<string, unknown>;

const REAL = new URL("../../fixtures/real/", import.meta.url);

function bodies(route: "alertmanager" | "grafana"): { file: string; body: Json }[] {
  const folder = new URL(`${route}/`, REAL);
  return readdirSync(folder)
    .filter((file) => file.endsWith(".json"))
    .map((file) => ({
      file,
      body: (JSON.parse(readFileSync(new URL(file, folder), "utf8")) as { body: Json }).body,
    }));
}

const ALERTMANAGER = bodies("alertmanager");
const GRAFANA = bodies("grafana");

/** A JSON copy, as a parsed body is: the fast path may fill in defaults on what it is given. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The whole group through the fast path, as the route takes it; undefined where it defers. */
function fastGroup(body: unknown): unknown {
  const envelope = acceptGroupEnvelope(body, MAX_GROUP_ALERTS);
  if (envelope === undefined) return undefined;
  const alerts = acceptAlerts(envelope.alerts);
  return alerts === undefined ? undefined : { ...envelope, alerts };
}

/** mulberry32: small, seeded, good enough to pick mutations. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Values of every JSON type and of the lengths and shapes the schema draws lines at. */
const VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 60,
  "",
  "x",
  "firing",
  "resolved",
  "4",
  "1",
  "2026-12-04T10:00:00Z",
  "2026-12-04T10:00:00.123456789+08:00",
  "0001-01-01T00:00:00Z",
  "2026-13-45T99:00:00Z",
  "12/04/2026",
  "2".repeat(64),
  `2026-12-04T${"0".repeat(60)}`,
  "f".repeat(128),
  "f".repeat(129),
  "u".repeat(8192),
  "u".repeat(8193),
  [],
  ["a"],
  {},
  { a: "b" },
  { a: 1 },
  { a: null },
  JSON.parse('{"__proto__":"x"}') as unknown,
  JSON.parse('{"alertname":"A","__proto__":{"polluted":"yes"}}') as unknown,
];

const ALERT_KEYS = [
  ...Object.keys(AlertmanagerAlertSchema.shape),
  "values",
  "imageURL",
  "__proto__",
  "unknownField",
];
const GROUP_KEYS = [...Object.keys(AlertmanagerPayloadSchema.shape), "title", "state", "message", "extra"];

function mutate(target: Json, keys: string[], next: () => number): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const key = pick(keys);
  const roll = next();
  if (roll < 0.25) delete target[key];
  else
    Object.defineProperty(target, key, {
      value: copy(pick(VALUES)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

describe("the intake's fast path through the Alertmanager schema", () => {
  it("leaves an empty or malformed timestamp to the schema, also before it has seen a valid one", () => {
    const alert = { status: "firing", labels: { alertname: "A" } };
    expect(acceptAlert({ ...alert, startsAt: "" })).toBeUndefined();
    expect(acceptAlert({ ...alert, startsAt: "2026-12-04T10:00:00Z" })).toBeDefined();
    expect(acceptAlert({ ...alert, startsAt: "" })).toBeUndefined();
    expect(acceptAlert({ ...alert, endsAt: "2026-12-04" })).toBeUndefined();
    expect(acceptAlert({ ...alert, endsAt: "" })).toBeUndefined();
  });

  it("checks a group's shared startsAt and endsAt once each, not once per alert", () => {
    const parse = vi.spyOn(Date, "parse");
    try {
      // a firing group: one rule evaluation's startsAt, the zero time as endsAt, on every alert
      const firing = {
        status: "firing",
        labels: { alertname: "A" },
        startsAt: "2026-12-04T10:00:00.000Z",
        endsAt: "0001-01-01T00:00:00Z",
      };
      for (let i = 0; i < 100; i++) expect(acceptAlert({ ...firing })).toBeDefined();
      expect(parse.mock.calls.length).toBeLessThanOrEqual(2);
      // what was refused is not remembered: refused again, checked again
      parse.mockClear();
      expect(acceptAlert({ ...firing, endsAt: "0001-13-01T00:00:00Z" })).toBeUndefined();
      expect(acceptAlert({ ...firing, endsAt: "0001-13-01T00:00:00Z" })).toBeUndefined();
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
  });

  it("takes every real Alertmanager group in place, with the schema's own output", () => {
    for (const { file, body } of ALERTMANAGER) {
      const fast = fastGroup(copy(body));
      expect(fast, file).toBeDefined();
      expect(fast, file).toEqual(AlertmanagerPayloadSchema.parse(copy(body)));
    }
  });

  it("agrees with the schema on the real Grafana groups, leaving those with fields it does not know to it", () => {
    let deferred = 0;
    for (const { file, body } of GRAFANA) {
      const fast = fastGroup(copy(body));
      if (fast === undefined) deferred++;
      else expect(fast, file).toEqual(AlertmanagerPayloadSchema.parse(copy(body)));
    }
    // Grafana's alerts carry `values` and `imageURL`, which the schema drops
    expect(deferred).toBeGreaterThan(0);
  });

  it("never accepts an alert the schema refuses, nor gives another output, on 20,000 variants", () => {
    const next = random(20261204);
    const alerts = [...ALERTMANAGER, ...GRAFANA].flatMap(({ body }) => body.alerts as Json[]);
    let accepted = 0;
    let refusedBySchema = 0;
    for (let index = 0; index < 20_000; index++) {
      const alert = copy(alerts[index % alerts.length] as Json);
      const mutations = 1 + Math.floor(next() * 3);
      for (let m = 0; m < mutations; m++) mutate(alert, ALERT_KEYS, next);
      const schema = AlertmanagerAlertSchema.safeParse(copy(alert));
      const fast = acceptAlert(copy(alert));
      if (!schema.success) refusedBySchema++;
      if (fast === undefined) continue;
      accepted++;
      expect(schema.success, `variant ${index}: ${JSON.stringify(alert).slice(0, 300)}`).toBe(true);
      expect(fast, `variant ${index}`).toEqual(schema.data);
    }
    // both sides of the line were exercised
    expect(accepted).toBeGreaterThan(2_000);
    expect(refusedBySchema).toBeGreaterThan(2_000);
  });

  it("never accepts a group the schema refuses, nor gives another output, on 10,000 variants", () => {
    const next = random(4122026);
    const groups = [...ALERTMANAGER, ...GRAFANA].map(({ body }) => body);
    let accepted = 0;
    for (let index = 0; index < 10_000; index++) {
      const group = copy(groups[index % groups.length] as Json);
      if (next() < 0.7) mutate(group, GROUP_KEYS, next);
      const alerts = group.alerts;
      if (Array.isArray(alerts) && alerts.length > 0 && next() < 0.3) {
        const alert: unknown = alerts[Math.floor(next() * alerts.length)];
        if (typeof alert === "object" && alert !== null) mutate(alert as Json, ALERT_KEYS, next);
      }
      const fast = fastGroup(copy(group));
      if (fast === undefined) continue;
      accepted++;
      const schema = AlertmanagerPayloadSchema.safeParse(copy(group));
      expect(schema.success, `variant ${index}: ${JSON.stringify(group).slice(0, 300)}`).toBe(true);
      expect(fast, `variant ${index}`).toEqual(schema.data);
    }
    expect(accepted).toBeGreaterThan(1_000);
  });

  it("leaves a group over the alert limit, or with none, to the schema's refusal", () => {
    const group = copy(ALERTMANAGER[0]?.body as Json);
    expect(acceptGroupEnvelope({ ...group, alerts: [] }, MAX_GROUP_ALERTS)).toBeUndefined();
    const alerts = group.alerts as unknown[];
    expect(acceptGroupEnvelope(group, alerts.length - 1)).toBeUndefined();
    expect(acceptGroupEnvelope(group, alerts.length)).toBeDefined();
  });
});

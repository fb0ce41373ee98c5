// Builders for webhook payloads, starting from the samples in dev/samples/.
import { readFileSync } from "node:fs";
import type { AlertmanagerPayload } from "../handlers/sources/alertmanager.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8"));

export const alertmanagerFiring = (): AlertmanagerPayload =>
  fixture("alertmanager-firing.json") as AlertmanagerPayload;
export const sentryIssueCreated = (): Record<string, unknown> =>
  fixture("sentry-issue-created.json") as Record<string, unknown>;

/** The fixture's alert with other labels (a different fingerprint when `fingerprint` is set). */
export function alertmanagerPayload(
  options: {
    status?: "firing" | "resolved";
    labels?: Record<string, string>;
    fingerprint?: string | null;
    /** Replaces the fixture's startsAt; a resolution then ends now (else at the fixture's 12:10). */
    startsAt?: Date;
    count?: number;
  } = {},
): AlertmanagerPayload {
  const base = alertmanagerFiring();
  const template = base.alerts[0];
  if (template === undefined) throw new Error("fixture has no alert");
  const status = options.status ?? "firing";
  const alerts = Array.from({ length: options.count ?? 1 }, (_, index) => {
    const labels = {
      ...template.labels,
      ...options.labels,
      ...(options.count === undefined ? {} : { pod: `p-${index}` }),
    };
    const { fingerprint: _fingerprint, ...rest } = template;
    const fingerprint =
      options.fingerprint === null
        ? {}
        : {
            fingerprint: `${options.fingerprint ?? template.fingerprint ?? "fp"}${options.count === undefined ? "" : `-${index}`}`,
          };
    return {
      ...rest,
      ...fingerprint,
      status,
      labels,
      ...(options.startsAt === undefined ? {} : { startsAt: options.startsAt.toISOString() }),
      ...(status === "resolved"
        ? {
            endsAt: options.startsAt === undefined ? "2026-03-29T12:10:00.000Z" : new Date().toISOString(),
          }
        : {}),
    };
  });
  return { ...base, status, alerts };
}

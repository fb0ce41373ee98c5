// Use case: one received alert becomes a new incident, a repeat of a live one, a reopening of
// one resolved moments ago (a flap), or its resolution. Idempotent per delivery key.
import {
  addEvent,
  deliveryRecorded,
  findLatestIncident,
  findLiveIncident,
  insertAlert,
  insertIncident,
  lockFingerprint,
  markResolved,
  nextIncidentId,
  recordFiring,
  clearAcknowledgement,
} from "../db/incidents.js";
import { inTransaction, type Pool, type Queryable } from "../db/pool.js";
import type { NormalizedAlert } from "../domain/normalized-alert.js";
import type { DedupWindow } from "../kv/dedup.js";

export interface IngestDeps {
  pool: Pool;
  /** Which incident each alert identity fired for lately (kv/dedup.ts). */
  dedup: Pick<DedupWindow, "recent" | "seen">;
}

export interface IngestInput {
  /** Unique per alert per queue job, so a redelivered job changes nothing. */
  deliveryKey: string;
  alert: NormalizedAlert;
  receivedAt: Date;
}

export type IngestOutcome =
  | "opened"
  | "repeated"
  | "deduplicated"
  | "reopened"
  | "resolved"
  | "already_resolved"
  | "unknown_resolved"
  | "redelivered";

export interface IngestResult {
  outcome: IngestOutcome;
  /** Absent only for a resolution of an alert never seen. */
  incidentId?: string;
  /** Whether the incident changed (its card needs an update). */
  changed: boolean;
}

export async function ingestAlert(deps: IngestDeps, input: IngestInput): Promise<IngestResult> {
  const { alert } = input;
  const result = await inTransaction(deps.pool, async (client) => {
    await lockFingerprint(client, alert.source, alert.fingerprint);
    const recorded = await deliveryRecorded(client, input.deliveryKey);
    if (recorded !== undefined)
      return { outcome: "redelivered", incidentId: recorded, changed: false } as const;
    const recentId = await deps.dedup.recent(alert.source, alert.fingerprint);
    return alert.status === "firing" ? fire(client, input, recentId) : resolve(client, input);
  });
  if (alert.status === "firing" && result.incidentId !== undefined && result.outcome !== "redelivered") {
    // A sliding window: the identity stays "just seen" while repeats keep arriving.
    await deps.dedup.seen(alert.source, alert.fingerprint, result.incidentId);
  }
  return result;
}

async function fire(
  client: Queryable,
  input: IngestInput,
  recentId: string | undefined,
): Promise<IngestResult> {
  const { alert, receivedAt } = input;
  const seenAt = alert.startsAt !== undefined && alert.startsAt > receivedAt ? alert.startsAt : receivedAt;
  const live = await findLiveIncident(client, alert.source, alert.fingerprint);
  if (live !== undefined) {
    const deduplicated = recentId === live.id;
    await recordFiring(client, live.id, alert, seenAt);
    await addEvent(client, live.id, "repeated", { deduplicated, delivery: input.deliveryKey });
    await insertAlert(client, { ...input, incidentId: live.id, deduplicated });
    return { outcome: deduplicated ? "deduplicated" : "repeated", incidentId: live.id, changed: true };
  }
  const latest =
    recentId === undefined && alert.reopen !== true
      ? undefined
      : await findLatestIncident(client, alert.source, alert.fingerprint);
  if (latest !== undefined && (latest.id === recentId || alert.reopen === true)) {
    await recordFiring(client, latest.id, alert, seenAt);
    // It fired again: whoever acknowledged the first firing has not seen this one, so the SLA
    // clock starts over (the earlier acknowledgement and escalation stay in the timeline).
    await clearAcknowledgement(client, latest.id);
    await addEvent(client, latest.id, "reopened", { delivery: input.deliveryKey });
    await insertAlert(client, { ...input, incidentId: latest.id, deduplicated: true });
    return { outcome: "reopened", incidentId: latest.id, changed: true };
  }
  const id = await nextIncidentId(client);
  await insertIncident(client, id, alert, alert.startsAt ?? receivedAt);
  await addEvent(client, id, "opened", {
    source: alert.source,
    severity: alert.severity,
    delivery: input.deliveryKey,
  });
  await insertAlert(client, { ...input, incidentId: id, deduplicated: false });
  return { outcome: "opened", incidentId: id, changed: true };
}

async function resolve(client: Queryable, input: IngestInput): Promise<IngestResult> {
  const { alert, receivedAt } = input;
  const live = await findLiveIncident(client, alert.source, alert.fingerprint);
  if (live !== undefined) {
    await markResolved(client, live.id, alert.endsAt ?? receivedAt, alert.resolution);
    await addEvent(client, live.id, "resolved", {
      by: alert.source,
      delivery: input.deliveryKey,
      ...(alert.resolution === undefined ? {} : { resolution: alert.resolution }),
    });
    await insertAlert(client, { ...input, incidentId: live.id, deduplicated: false });
    return { outcome: "resolved", incidentId: live.id, changed: true };
  }
  const latest = await findLatestIncident(client, alert.source, alert.fingerprint);
  if (latest === undefined) return { outcome: "unknown_resolved", changed: false };
  await insertAlert(client, { ...input, incidentId: latest.id, deduplicated: true });
  return { outcome: "already_resolved", incidentId: latest.id, changed: false };
}

// Data access for incidents, their alerts, timeline and Telegram messages. SQL only: the rules
// (when to open, repeat, resolve) live in handlers/.
import type {
  AlertSource,
  Incident,
  IncidentEvent,
  IncidentSource,
  IncidentStatus,
  Severity,
} from "../domain/incident.js";
import type { NormalizedAlert } from "../domain/normalized-alert.js";
import type { Queryable } from "./pool.js";

export interface TelegramMessage {
  incidentId: string;
  chatId: string;
  /** The forum topic the card is in; null for the chat itself (a forum's General topic). */
  threadId: number | null;
  messageId: number;
  renderedHash: string;
  renderedVersion: number;
  postedAt: Date;
  editedAt: Date | null;
}

const INCIDENT_COLUMNS = `id, fingerprint, source, severity, status, title, service, summary, target, labels,
  annotations, links, first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", resolved_at AS "resolvedAt",
  occurrences, version, created_at AS "createdAt", updated_at AS "updatedAt",
  acknowledged_at AS "acknowledgedAt", acknowledged_by AS "acknowledgedBy", escalated_at AS "escalatedAt",
  snoozed_until AS "snoozedUntil", snoozed_by AS "snoozedBy", truncated_alerts AS "truncatedAlerts", cut,
  resolution`;

/** The next `INC-YYYYMMDD-NNNN` for the current UTC day; gap-free because it rolls back with the transaction. */
export async function nextIncidentId(client: Queryable): Promise<string> {
  const { rows } = await client.query<{ day: string; seq: number }>(
    `INSERT INTO incident_day_counters AS c (day, last_seq)
     VALUES ((now() AT TIME ZONE 'UTC')::date, 1)
     ON CONFLICT (day) DO UPDATE SET last_seq = c.last_seq + 1
     RETURNING to_char(day, 'YYYYMMDD') AS day, last_seq AS seq`,
  );
  const row = rows[0];
  if (row === undefined) throw new Error("incident counter returned no row");
  return `INC-${row.day}-${String(row.seq).padStart(4, "0")}`;
}

/** Serializes work on one alert identity inside the current transaction. */
export async function lockFingerprint(
  client: Queryable,
  source: IncidentSource,
  fingerprint: string,
): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${source}:${fingerprint}`]);
}

export async function findLiveIncident(
  client: Queryable,
  source: IncidentSource,
  fingerprint: string,
): Promise<Incident | undefined> {
  const { rows } = await client.query<Incident>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents
     WHERE source = $1 AND fingerprint = $2 AND status <> 'resolved' FOR UPDATE`,
    [source, fingerprint],
  );
  return rows[0];
}

export async function findLatestIncident(
  client: Queryable,
  source: AlertSource,
  fingerprint: string,
): Promise<Incident | undefined> {
  const { rows } = await client.query<Incident>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE source = $1 AND fingerprint = $2
     ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
    [source, fingerprint],
  );
  return rows[0];
}

export async function getIncident(db: Queryable, id: string): Promise<Incident | undefined> {
  const { rows } = await db.query<Incident>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id]);
  return rows[0];
}

export async function insertIncident(
  client: Queryable,
  id: string,
  /** An alert, or a request from the chat (source "chatops"). */
  alert: Omit<NormalizedAlert, "source" | "status" | "raw" | "resolution"> & { source: IncidentSource },
  seenAt: Date,
): Promise<Incident> {
  const { rows } = await client.query<Incident>(
    `INSERT INTO incidents (id, fingerprint, source, severity, title, service, summary, target, labels,
       annotations, links, first_seen_at, last_seen_at, truncated_alerts, cut)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14)
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      id,
      alert.fingerprint,
      alert.source,
      alert.severity,
      alert.title,
      alert.service ?? null,
      alert.summary ?? null,
      alert.target === undefined ? null : JSON.stringify(alert.target),
      JSON.stringify(alert.labels),
      JSON.stringify(alert.annotations),
      JSON.stringify(alert.links),
      seenAt,
      alert.truncatedAlerts ?? 0,
      JSON.stringify(alert.cut ?? []),
    ],
  );
  return rows[0] as Incident;
}

/** A firing repeat: one more occurrence, fresher text; a resolved incident is reopened. */
export async function recordFiring(
  client: Queryable,
  id: string,
  alert: NormalizedAlert,
  seenAt: Date,
): Promise<Incident> {
  const { rows } = await client.query<Incident>(
    `UPDATE incidents SET
       occurrences = occurrences + 1,
       last_seen_at = GREATEST(last_seen_at, $2),
       status = CASE WHEN status = 'resolved' THEN 'open' ELSE status END,
       resolved_at = NULL,
       summary = COALESCE($3, summary),
       annotations = $4,
       -- a delivery without links (older Sentry bodies) keeps the ones an earlier delivery gave
       links = CASE WHEN $5::jsonb = '[]'::jsonb THEN links ELSE $5::jsonb END,
       truncated_alerts = GREATEST(truncated_alerts, $6),
       cut = $7,
       resolution = NULL,
       -- a graver delivery raises the incident (a Sentry metric alert going from warning to critical);
       -- a milder one never lowers it ("P0" < "P1" < "P2")
       severity = LEAST(severity, $8::text),
       version = version + 1,
       updated_at = now()
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [
      id,
      seenAt,
      alert.summary ?? null,
      JSON.stringify(alert.annotations),
      JSON.stringify(alert.links),
      alert.truncatedAlerts ?? 0,
      JSON.stringify(alert.cut ?? []),
      alert.severity,
    ],
  );
  return rows[0] as Incident;
}

export async function markResolved(
  client: Queryable,
  id: string,
  at: Date,
  /** Why no action is needed, and who said so ("archived in Sentry by Jane"). */
  resolution?: string,
): Promise<Incident> {
  const { rows } = await client.query<Incident>(
    `UPDATE incidents SET status = 'resolved', resolved_at = $2, resolution = $3, version = version + 1,
       updated_at = now()
     WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
    [id, at, resolution ?? null],
  );
  return rows[0] as Incident;
}

/** Records one received alert; false when this delivery was already recorded (a redelivered job). */
export async function insertAlert(
  client: Queryable,
  row: {
    deliveryKey: string;
    incidentId: string;
    alert: NormalizedAlert;
    receivedAt: Date;
    deduplicated: boolean;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO alerts (delivery_key, incident_id, source, fingerprint, status, labels, annotations,
       starts_at, ends_at, received_at, deduplicated, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      row.deliveryKey,
      row.incidentId,
      row.alert.source,
      row.alert.fingerprint,
      row.alert.status,
      JSON.stringify(row.alert.labels),
      JSON.stringify(row.alert.annotations),
      row.alert.startsAt ?? null,
      row.alert.endsAt ?? null,
      row.receivedAt,
      row.deduplicated,
      JSON.stringify(row.alert.raw ?? null),
    ],
  );
}

export async function deliveryRecorded(client: Queryable, deliveryKey: string): Promise<string | undefined> {
  const { rows } = await client.query<{ incidentId: string }>(
    `SELECT incident_id AS "incidentId" FROM alerts WHERE delivery_key = $1`,
    [deliveryKey],
  );
  return rows[0]?.incidentId;
}

export async function addEvent(
  client: Queryable,
  incidentId: string,
  kind: string,
  detail: Record<string, unknown> = {},
  actor = "system",
): Promise<void> {
  await client.query(
    `INSERT INTO incident_events (incident_id, kind, actor, detail) VALUES ($1, $2, $3, $4)`,
    [incidentId, kind, actor, JSON.stringify(detail)],
  );
}

/**
 * The incident's newest `limit` events, oldest first. Without its repeats (`repeats: false`) it is
 * what a card shows, repeats being the occurrence count there: read among all events, a few hours of
 * an alert repeated every minute pushed who took the incident, the approvals and the analysis's
 * failure off the card. That predicate is spelled as the partial index's (migration 013), which
 * keeps the read off the repeats.
 */
export async function listEvents(
  db: Queryable,
  incidentId: string,
  limit = 200,
  { repeats = true }: { repeats?: boolean } = {},
): Promise<IncidentEvent[]> {
  const { rows } = await db.query<IncidentEvent>(
    `SELECT id, at, kind, actor, detail FROM (
       SELECT * FROM incident_events WHERE incident_id = $1${repeats ? "" : " AND kind <> 'repeated'"}
       ORDER BY id DESC LIMIT $2
     ) newest ORDER BY id`,
    [incidentId, limit],
  );
  return rows;
}

export interface IncidentFilter {
  status?: IncidentStatus[];
  severity?: Severity[];
  source?: IncidentSource;
  limit: number;
  /** Keyset pagination: incidents created before this one. */
  before?: string;
}

export async function listIncidents(db: Queryable, filter: IncidentFilter): Promise<Incident[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (filter.status !== undefined) add((p) => `status = ANY(${p})`, filter.status);
  if (filter.severity !== undefined) add((p) => `severity = ANY(${p})`, filter.severity);
  if (filter.source !== undefined) add((p) => `source = ${p}`, filter.source);
  if (filter.before !== undefined)
    add((p) => `(created_at, id) < (SELECT created_at, id FROM incidents WHERE id = ${p})`, filter.before);
  params.push(filter.limit);
  const { rows } = await db.query<Incident>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

export async function recentAlerts(
  db: Queryable,
  incidentId: string,
  limit = 20,
): Promise<
  { id: number; status: string; receivedAt: Date; deduplicated: boolean; labels: Record<string, string> }[]
> {
  const { rows } = await db.query<{
    id: number;
    status: string;
    receivedAt: Date;
    deduplicated: boolean;
    labels: Record<string, string>;
  }>(
    `SELECT id, status, received_at AS "receivedAt", deduplicated, labels FROM alerts
     WHERE incident_id = $1 ORDER BY id DESC LIMIT $2`,
    [incidentId, limit],
  );
  return rows;
}

const MESSAGE_COLUMNS = `incident_id AS "incidentId", chat_id AS "chatId",
  message_thread_id::int AS "threadId", message_id AS "messageId",
  rendered_hash AS "renderedHash", rendered_version AS "renderedVersion", posted_at AS "postedAt",
  edited_at AS "editedAt"`;

export async function telegramMessages(db: Queryable, incidentId: string): Promise<TelegramMessage[]> {
  const { rows } = await db.query<TelegramMessage>(
    `SELECT ${MESSAGE_COLUMNS} FROM telegram_messages WHERE incident_id = $1 ORDER BY posted_at`,
    [incidentId],
  );
  return rows;
}

/** Whether this chat's message `messageId` is the card posted for `incidentId`. */
export async function isCardMessage(
  db: Queryable,
  where: { incidentId: string; chatId: number | string; messageId: number },
): Promise<boolean> {
  const { rowCount } = await db.query(
    "SELECT 1 FROM telegram_messages WHERE incident_id = $1 AND chat_id = $2 AND message_id = $3",
    [where.incidentId, String(where.chatId), where.messageId],
  );
  return rowCount === 1;
}

export async function saveTelegramMessage(
  db: Queryable,
  row: {
    incidentId: string;
    chatId: string;
    /** The forum topic the card is in, if any. */
    threadId?: number;
    messageId: number;
    renderedHash: string;
    renderedVersion: number;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO telegram_messages (incident_id, chat_id, message_thread_id, message_id, rendered_hash, rendered_version)
     VALUES ($1, $2, $6, $3, $4, $5)
     ON CONFLICT (incident_id, chat_id) DO UPDATE SET
       message_id = EXCLUDED.message_id, rendered_hash = EXCLUDED.rendered_hash,
       rendered_version = EXCLUDED.rendered_version, edited_at = now(),
       message_thread_id = EXCLUDED.message_thread_id`,
    [row.incidentId, row.chatId, row.messageId, row.renderedHash, row.renderedVersion, row.threadId ?? null],
  );
}

/** Records the first acknowledgement; later ones change nothing. True when this call acknowledged it. */
export async function acknowledgeIncident(db: Queryable, id: string, actor: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE incidents SET acknowledged_at = now(), acknowledged_by = $2, version = version + 1, updated_at = now()
     WHERE id = $1 AND acknowledged_at IS NULL`,
    [id, actor],
  );
  return rowCount === 1;
}

/**
 * Someone takes the incident ("I'm on it"): it is acknowledged by them from now on, whoever
 * acknowledged it before (a takeover moves it). False when it is resolved or gone.
 */
export async function takeIncident(db: Queryable, id: string, actor: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE incidents SET acknowledged_at = now(), acknowledged_by = $2, version = version + 1, updated_at = now()
     WHERE id = $1 AND status <> 'resolved'`,
    [id, actor],
  );
  return rowCount === 1;
}

/**
 * Who took the incident last ("I'm on it"), if anyone, and when. A reopening clears the
 * acknowledgement (clearAcknowledgement), so a taking before the latest reopening no longer counts.
 */
export async function currentTaker(
  db: Queryable,
  id: string,
): Promise<{ actor: string; at: Date } | undefined> {
  const { rows } = await db.query<{ actor: string; at: Date }>(
    `SELECT actor, at FROM incident_events WHERE incident_id = $1 AND kind = 'taken'
       AND id > COALESCE((SELECT max(id) FROM incident_events WHERE incident_id = $1 AND kind = 'reopened'), 0)
     ORDER BY id DESC LIMIT 1`,
    [id],
  );
  return rows[0];
}

/** Which open incidents /incidents lists: of one severity, of one service, or taken by someone. */
export interface OpenIncidentsFilter {
  severity?: Severity;
  service?: string;
  /** The names the taker may go by (`@alice`, `tg:1001`): whoever took the incident last is one of them. */
  takenBy?: readonly string[];
}

/** One page of the incidents not yet resolved, newest first, and how many there are in all. */
export async function openIncidentsPage(
  db: Queryable,
  page: { limit: number; offset: number },
  filter: OpenIncidentsFilter = {},
): Promise<{ incidents: Incident[]; total: number }> {
  const where = ["status <> 'resolved'"];
  const params: unknown[] = [];
  const add = (clause: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (filter.severity !== undefined) add((p) => `severity = ${p}`, filter.severity);
  if (filter.service !== undefined) add((p) => `lower(service) = lower(${p})`, filter.service);
  if (filter.takenBy !== undefined)
    add(
      // the latest taking since the latest reopening (which cleared the acknowledgement)
      (p) => `(SELECT e.actor FROM incident_events e WHERE e.incident_id = incidents.id AND e.kind = 'taken'
                 AND e.id > COALESCE((SELECT max(r.id) FROM incident_events r
                                      WHERE r.incident_id = incidents.id AND r.kind = 'reopened'), 0)
               ORDER BY e.id DESC LIMIT 1) = ANY(${p})`,
      filter.takenBy,
    );
  const condition = where.join(" AND ");
  const [rows, count] = await Promise.all([
    db.query<Incident>(
      `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE ${condition}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.limit, page.offset],
    ),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM incidents WHERE ${condition}`, params),
  ]);
  return { incidents: rows.rows, total: count.rows[0]?.total ?? 0 };
}

/** Incidents not yet resolved, per severity (a severity with none is absent). */
export async function countOpenBySeverity(db: Queryable): Promise<Partial<Record<Severity, number>>> {
  const { rows } = await db.query<{ severity: Severity; count: number }>(
    `SELECT severity, count(*)::int AS count FROM incidents WHERE status <> 'resolved' GROUP BY severity`,
  );
  return Object.fromEntries(rows.map((row) => [row.severity, row.count]));
}

/** Moves the incident to `to` when it is in one of `from`; true when it did (one UPDATE). */
export async function setIncidentStatus(
  db: Queryable,
  id: string,
  from: readonly IncidentStatus[],
  to: IncidentStatus,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE incidents SET status = $3, version = version + 1, updated_at = now()
     WHERE id = $1 AND status = ANY($2)`,
    [id, from, to],
  );
  return rowCount === 1;
}

/**
 * Locks the incident's row until the transaction ends, ordering work on one incident across
 * processes; its status, or undefined when there is no such incident.
 */
export async function lockIncident(client: Queryable, id: string): Promise<IncidentStatus | undefined> {
  const { rows } = await client.query<{ status: IncidentStatus }>(
    `SELECT status FROM incidents WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0]?.status;
}

/** It fired again after resolving: the acknowledgement and escalation of the first firing no longer hold. */
export async function clearAcknowledgement(client: Queryable, id: string): Promise<void> {
  await client.query(
    `UPDATE incidents SET acknowledged_at = NULL, acknowledged_by = NULL, escalated_at = NULL WHERE id = $1`,
    [id],
  );
}

/**
 * Snoozes the incident until `until` unless it is resolved or a snooze ending later than
 * `replaceBefore` is in force (one that ends by `now` counts as over). The new end, or undefined.
 */
export async function snoozeUntil(
  db: Queryable,
  row: { id: string; until: Date; by: string; now: Date; replaceBefore: Date },
): Promise<Date | undefined> {
  const { rows } = await db.query<{ snoozedUntil: Date }>(
    `UPDATE incidents SET snoozed_until = $2, snoozed_by = $3, version = version + 1, updated_at = now()
     WHERE id = $1 AND status <> 'resolved'
       AND (snoozed_until IS NULL OR snoozed_until <= $4 OR snoozed_until < $5)
     RETURNING snoozed_until AS "snoozedUntil"`,
    [row.id, row.until, row.by, row.now, row.replaceBefore],
  );
  return rows[0]?.snoozedUntil;
}

/** Ends exactly the snooze that runs until `until`; false when another snooze or a resolution came first. */
export async function clearSnooze(db: Queryable, id: string, until: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE incidents SET snoozed_until = NULL, snoozed_by = NULL, version = version + 1, updated_at = now()
     WHERE id = $1 AND snoozed_until = $2 AND status <> 'resolved'`,
    [id, until],
  );
  return rowCount === 1;
}

/**
 * Marks the incident escalated if it still qualifies: a failed repair escalates once per
 * incident; an SLA escalation only an incident nobody acknowledged, snoozed or escalated yet.
 */
export async function markEscalated(
  client: Queryable,
  id: string,
  reason: "sla" | "repair_failed",
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE incidents SET escalated_at = COALESCE(escalated_at, now()), version = version + 1, updated_at = now()
     WHERE id = $1 AND status <> 'resolved'
       AND (($2 = 'repair_failed'
             AND NOT EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = $1
                               AND e.kind = 'escalated' AND e.detail->>'reason' = 'repair_failed'))
            OR (escalated_at IS NULL AND acknowledged_at IS NULL
                AND (snoozed_until IS NULL OR snoozed_until <= now())))`,
    [id, reason],
  );
  return rowCount === 1;
}

/** Who rejected the incident as a whole (no action proposed) since its latest analysis, if anyone. */
export async function incidentRejectedBy(db: Queryable, incidentId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ actor: string }>(
    `SELECT e.actor FROM incident_events e
     WHERE e.incident_id = $1 AND e.kind = 'rejected' AND NOT (e.detail ? 'action')
       AND e.at >= COALESCE((SELECT max(created_at) FROM analyses WHERE incident_id = $1), '-infinity')
     ORDER BY e.id DESC LIMIT 1`,
    [incidentId],
  );
  return rows[0]?.actor;
}

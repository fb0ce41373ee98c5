// Data access for alert storms: which chat is in a storm, which incidents were folded into its
// summary card instead of getting their own, and what the summary counts. SQL only.
import type { Severity } from "../domain/incident.js";
import type { StormCounts } from "../domain/notices.js";
import { type Queryable } from "./pool.js";

export interface Storm {
  id: number;
  chatId: string;
  /** The forum topic its summary card goes to; null for the chat itself. */
  threadId: number | null;
  startedAt: Date;
  endedAt: Date | null;
  messageId: number | null;
  renderedHash: string | null;
  escalationNotifiedAt: Date | null;
}

export interface StormFold {
  incidentId: string;
  chatId: string;
  stormId: number;
  foldedAt: Date;
  promotedAt: Date | null;
}

const STORM_COLUMNS = `id::int AS id, chat_id AS "chatId", message_thread_id::int AS "threadId", started_at AS "startedAt", ended_at AS "endedAt",
  message_id::int AS "messageId", rendered_hash AS "renderedHash",
  escalation_notified_at AS "escalationNotifiedAt"`;

const FOLD_COLUMNS = `incident_id AS "incidentId", chat_id AS "chatId", storm_id::int AS "stormId",
  folded_at AS "foldedAt", promoted_at AS "promotedAt"`;

export async function getStorm(db: Queryable, id: number): Promise<Storm | undefined> {
  const { rows } = await db.query<Storm>(`SELECT ${STORM_COLUMNS} FROM storms WHERE id = $1`, [id]);
  return rows[0];
}

/**
 * The chat's storm in progress, started now when there is none (one per chat, also across
 * processes); a new one's summary card goes to `threadId`, the topic of the place that opened it.
 */
export async function openStorm(db: Queryable, chatId: string, threadId?: number): Promise<Storm> {
  for (;;) {
    const inserted = await db.query<Storm>(
      `INSERT INTO storms (chat_id, message_thread_id) VALUES ($1, $2)
       ON CONFLICT (chat_id) WHERE ended_at IS NULL DO NOTHING RETURNING ${STORM_COLUMNS}`,
      [chatId, threadId ?? null],
    );
    if (inserted.rows[0] !== undefined) return inserted.rows[0];
    const { rows } = await db.query<Storm>(
      `SELECT ${STORM_COLUMNS} FROM storms WHERE chat_id = $1 AND ended_at IS NULL`,
      [chatId],
    );
    // the storm in progress may have ended between the two statements: try again
    if (rows[0] !== undefined) return rows[0];
  }
}

/** Folds the incident into the storm; the first fold of an incident in a chat wins. */
export async function foldIncident(
  db: Queryable,
  row: { incidentId: string; chatId: string; stormId: number },
): Promise<StormFold> {
  await db.query(
    `INSERT INTO storm_folds (incident_id, chat_id, storm_id) VALUES ($1, $2, $3)
     ON CONFLICT (incident_id, chat_id) DO NOTHING`,
    [row.incidentId, row.chatId, row.stormId],
  );
  return (await foldOf(db, row.incidentId, row.chatId)) as StormFold;
}

export async function foldOf(
  db: Queryable,
  incidentId: string,
  chatId: string,
): Promise<StormFold | undefined> {
  const { rows } = await db.query<StormFold>(
    `SELECT ${FOLD_COLUMNS} FROM storm_folds WHERE incident_id = $1 AND chat_id = $2`,
    [incidentId, chatId],
  );
  return rows[0];
}

/** Every chat the incident was folded in (for the API and /incidents). */
export async function foldsOfIncident(db: Queryable, incidentId: string): Promise<StormFold[]> {
  const { rows } = await db.query<StormFold>(
    `SELECT ${FOLD_COLUMNS} FROM storm_folds WHERE incident_id = $1 ORDER BY folded_at`,
    [incidentId],
  );
  return rows;
}

/** True when this call promoted the folded incident to its own card. */
export async function markPromoted(db: Queryable, incidentId: string, chatId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE storm_folds SET promoted_at = now()
     WHERE incident_id = $1 AND chat_id = $2 AND promoted_at IS NULL`,
    [incidentId, chatId],
  );
  return rowCount === 1;
}

export async function saveStormMessage(
  db: Queryable,
  row: { stormId: number; messageId: number; renderedHash: string },
): Promise<void> {
  await db.query(`UPDATE storms SET message_id = $2, rendered_hash = $3 WHERE id = $1`, [
    row.stormId,
    row.messageId,
    row.renderedHash,
  ]);
}

/** Ends the storm; true when this call ended it. */
export async function endStorm(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE storms SET ended_at = now() WHERE id = $1 AND ended_at IS NULL`,
    [id],
  );
  return rowCount === 1;
}

/**
 * The storm's card goes to its chat's General topic from now on (its own topic is gone), posted
 * afresh there.
 */
export async function moveStormToGeneral(db: Queryable, id: number): Promise<void> {
  await db.query(
    `UPDATE storms SET message_thread_id = NULL, message_id = NULL, rendered_hash = NULL WHERE id = $1`,
    [id],
  );
}

/** Open incidents of the storm still without a card of their own (to show one by one elsewhere). */
export async function openFolded(db: Queryable, stormId: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT i.id FROM storm_folds f JOIN incidents i ON i.id = f.incident_id
     WHERE f.storm_id = $1 AND f.promoted_at IS NULL AND i.status <> 'resolved'
     ORDER BY i.severity, f.folded_at`,
    [stormId],
  );
  return rows.map((row) => row.id);
}

/** Open incidents of the storm, still without a card of their own, that need a person (P0 or awaiting approval). */
export async function foldedNeedingCards(db: Queryable, stormId: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT i.id FROM storm_folds f JOIN incidents i ON i.id = f.incident_id
     WHERE f.storm_id = $1 AND f.promoted_at IS NULL AND i.status <> 'resolved'
       AND (i.severity = 'P0' OR i.status = 'awaiting_approval')
     ORDER BY i.severity, f.folded_at`,
    [stormId],
  );
  return rows.map((row) => row.id);
}

/** True for the first caller only: the storm's one on-call mention for escalated folded incidents. */
export async function claimStormEscalationNotice(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE storms SET escalation_notified_at = now() WHERE id = $1 AND escalation_notified_at IS NULL`,
    [id],
  );
  return rowCount === 1;
}

export async function stormCounts(
  db: Queryable,
  stormId: number,
  newest = 5,
  services = 5,
): Promise<StormCounts> {
  const [totals, byService, latest] = await Promise.all([
    db.query<{
      folded: number;
      open: number;
      p0: number;
      p1: number;
      p2: number;
      awaiting: number;
      escalated: number;
    }>(
      `SELECT count(*)::int AS folded,
              count(*) FILTER (WHERE i.status <> 'resolved')::int AS open,
              count(*) FILTER (WHERE i.severity = 'P0')::int AS p0,
              count(*) FILTER (WHERE i.severity = 'P1')::int AS p1,
              count(*) FILTER (WHERE i.severity = 'P2')::int AS p2,
              count(*) FILTER (WHERE i.status = 'awaiting_approval')::int AS awaiting,
              count(*) FILTER (WHERE i.escalated_at IS NOT NULL)::int AS escalated
       FROM storm_folds f JOIN incidents i ON i.id = f.incident_id WHERE f.storm_id = $1`,
      [stormId],
    ),
    db.query<{ service: string; count: number }>(
      `SELECT COALESCE(i.service, 'unknown') AS service, count(*)::int AS count
       FROM storm_folds f JOIN incidents i ON i.id = f.incident_id WHERE f.storm_id = $1
       GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
      [stormId, services],
    ),
    db.query<{ id: string; severity: Severity; service: string | null; title: string }>(
      `SELECT i.id, i.severity, i.service, i.title
       FROM storm_folds f JOIN incidents i ON i.id = f.incident_id WHERE f.storm_id = $1
       ORDER BY f.folded_at DESC, i.id DESC LIMIT $2`,
      [stormId, newest],
    ),
  ]);
  const row = totals.rows[0];
  return {
    folded: row?.folded ?? 0,
    open: row?.open ?? 0,
    bySeverity: { P0: row?.p0 ?? 0, P1: row?.p1 ?? 0, P2: row?.p2 ?? 0 },
    awaitingApproval: row?.awaiting ?? 0,
    escalated: row?.escalated ?? 0,
    topServices: byService.rows,
    newest: latest.rows,
  };
}

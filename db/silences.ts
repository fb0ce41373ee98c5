// Silences: who muted which label set, until when, and whether Alertmanager holds it too. The
// bot also honours them itself: no new card is posted for an incident an active silence matches.
import { type Queryable } from "./pool.js";

/** One label matcher as Alertmanager's API v2 takes it. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false for `!=` and `!~`. */
  isEqual: boolean;
}

export interface Silence {
  id: number;
  /** NULL when the silence is local only (no ALERTMANAGER_URL). */
  alertmanagerId: string | null;
  matchers: SilenceMatcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
  incidentId: string | null;
  expiredAt: Date | null;
  expiredBy: string | null;
  createdAt: Date;
}

const COLUMNS = `id::int AS id, alertmanager_id AS "alertmanagerId", matchers, starts_at AS "startsAt",
  ends_at AS "endsAt", created_by AS "createdBy", comment, incident_id AS "incidentId",
  expired_at AS "expiredAt", expired_by AS "expiredBy", created_at AS "createdAt"`;

const ACTIVE = `expired_at IS NULL AND starts_at <= now() AND ends_at > now()`;

export async function insertSilence(
  db: Queryable,
  row: {
    matchers: readonly SilenceMatcher[];
    startsAt: Date;
    endsAt: Date;
    createdBy: string;
    comment: string;
    incidentId?: string;
  },
): Promise<Silence> {
  const { rows } = await db.query<Silence>(
    `INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, incident_id)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [
      JSON.stringify(row.matchers),
      row.startsAt,
      row.endsAt,
      row.createdBy,
      row.comment,
      row.incidentId ?? null,
    ],
  );
  return rows[0] as Silence;
}

export async function setAlertmanagerId(db: Queryable, id: number, alertmanagerId: string): Promise<void> {
  await db.query(`UPDATE silences SET alertmanager_id = $2 WHERE id = $1`, [id, alertmanagerId]);
}

/** Ends a silence that has not ended yet, in one statement; undefined when it already had. */
export async function expireSilence(db: Queryable, id: number, by: string): Promise<Silence | undefined> {
  const { rows } = await db.query<Silence>(
    `UPDATE silences SET expired_at = now(), expired_by = $2
     WHERE id = $1 AND expired_at IS NULL AND ends_at > now() RETURNING ${COLUMNS}`,
    [id, by],
  );
  return rows[0];
}

export async function getSilence(db: Queryable, id: number): Promise<Silence | undefined> {
  const { rows } = await db.query<Silence>(`SELECT ${COLUMNS} FROM silences WHERE id = $1`, [id]);
  return rows[0];
}

export async function findSilenceByAlertmanagerId(
  db: Queryable,
  alertmanagerId: string,
): Promise<Silence | undefined> {
  const { rows } = await db.query<Silence>(`SELECT ${COLUMNS} FROM silences WHERE alertmanager_id = $1`, [
    alertmanagerId,
  ]);
  return rows[0];
}

/** Silences in force now, the ones ending soonest first. */
export async function activeSilences(db: Queryable, limit = 100): Promise<Silence[]> {
  const { rows } = await db.query<Silence>(
    `SELECT ${COLUMNS} FROM silences WHERE ${ACTIVE} ORDER BY ends_at, id LIMIT $1`,
    [limit],
  );
  return rows;
}

/**
 * The silences in force now, unless the incident's card was posted already: a silence holds back a
 * card's first post only, so a card being edited needs none of them read.
 */
export async function silencesBeforeFirstPost(db: Queryable, incidentId: string): Promise<Silence[]> {
  const { rows } = await db.query<Silence>(
    `SELECT ${COLUMNS} FROM silences WHERE ${ACTIVE}
       AND NOT EXISTS (SELECT 1 FROM telegram_messages WHERE incident_id = $2)
     ORDER BY ends_at, id LIMIT $1`,
    [1_000, incidentId],
  );
  return rows;
}

/** The silence of this incident still in force, if any. */
export async function activeSilenceOfIncident(
  db: Queryable,
  incidentId: string,
): Promise<Silence | undefined> {
  const { rows } = await db.query<Silence>(
    `SELECT ${COLUMNS} FROM silences WHERE incident_id = $1 AND ${ACTIVE} ORDER BY ends_at DESC LIMIT 1`,
    [incidentId],
  );
  return rows[0];
}

/** Alertmanager's semantics: a missing label is the empty string; a regex is anchored at both ends. */
export function matcherMatches(matcher: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[matcher.name] ?? "";
  let hit: boolean;
  if (matcher.isRegex) {
    try {
      hit = new RegExp(`^(?:${matcher.value})$`).test(value);
    } catch {
      return false;
    }
  } else {
    hit = value === matcher.value;
  }
  return matcher.isEqual ? hit : !hit;
}

export function silenceMatches(
  matchers: readonly SilenceMatcher[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return matchers.length > 0 && matchers.every((matcher) => matcherMatches(matcher, labels));
}

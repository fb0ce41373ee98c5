// Data access for the chats the bot writes to: aliases left by group→supergroup migrations, and
// the chats it cannot reach. SQL only: when to follow, fall back or report is in handlers/chat-delivery.ts.
import type { UnreachableReason } from "../domain/card.js";
import type { Queryable } from "./pool.js";

export interface ChatFailure {
  chatId: string;
  reason: UnreachableReason;
  description: string;
  since: Date;
  lastAt: Date;
  failures: number;
}

/** The chat each of `chatIds` has become, for those that moved (one hop: a supergroup does not migrate again). */
export async function chatAliases(db: Queryable, chatIds: readonly string[]): Promise<Map<string, string>> {
  if (chatIds.length === 0) return new Map();
  const { rows } = await db.query<{ from: string; to: string }>(
    `SELECT from_chat_id AS "from", to_chat_id AS "to" FROM chat_aliases WHERE from_chat_id = ANY($1::text[])`,
    [chatIds],
  );
  return new Map(rows.map((row) => [row.from, row.to]));
}

/**
 * Records that `from` became `to`: the alias (and any alias that pointed at `from` now points at
 * `to`), and forgets the cards of unresolved incidents shown in `from`, which can no longer be
 * edited there. A storm in progress moves to `to` with its folds, its summary card to be posted
 * there. Returns those incidents and storms, to show again in `to`, and whether the alias is new.
 */
export async function recordChatMigration(
  db: Queryable,
  from: string,
  to: string,
): Promise<{ firstSeen: boolean; incidentIds: string[]; stormIds: number[] }> {
  const inserted = await db.query(
    `INSERT INTO chat_aliases (from_chat_id, to_chat_id) VALUES ($1, $2)
     ON CONFLICT (from_chat_id) DO UPDATE SET to_chat_id = EXCLUDED.to_chat_id
       WHERE chat_aliases.to_chat_id IS DISTINCT FROM EXCLUDED.to_chat_id`,
    [from, to],
  );
  await db.query(`UPDATE chat_aliases SET to_chat_id = $2 WHERE to_chat_id = $1`, [from, to]);
  await db.query(`DELETE FROM chat_failures WHERE chat_id = $1`, [from]);
  const { rows } = await db.query<{ incidentId: string }>(
    `DELETE FROM telegram_messages t USING incidents i
     WHERE t.incident_id = i.id AND t.chat_id = $1 AND i.status <> 'resolved'
     RETURNING t.incident_id AS "incidentId"`,
    [from],
  );
  const storms = await db.query<{ id: number }>(
    `UPDATE storms SET chat_id = $2, message_id = NULL, rendered_hash = NULL
     WHERE chat_id = $1 AND ended_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM storms s WHERE s.chat_id = $2 AND s.ended_at IS NULL)
     RETURNING id`,
    [from, to],
  );
  const stormIds = storms.rows.map((row) => row.id);
  await db.query(
    `UPDATE storm_folds f SET chat_id = $2
     WHERE f.chat_id = $1 AND f.storm_id = ANY($3::bigint[])
       AND NOT EXISTS (SELECT 1 FROM storm_folds g WHERE g.incident_id = f.incident_id AND g.chat_id = $2)`,
    [from, to, stormIds],
  );
  return { firstSeen: inserted.rowCount === 1, incidentIds: rows.map((row) => row.incidentId), stormIds };
}

/** Notes a refused delivery; `first` when the chat was reachable until now. */
export async function recordChatFailure(
  db: Queryable,
  failure: { chatId: string; reason: UnreachableReason; description: string },
): Promise<{ first: boolean }> {
  const { rows } = await db.query<{ first: boolean }>(
    `INSERT INTO chat_failures AS f (chat_id, reason, description) VALUES ($1, $2, $3)
     ON CONFLICT (chat_id) DO UPDATE SET reason = EXCLUDED.reason, description = EXCLUDED.description,
       last_at = now(), failures = f.failures + 1
     RETURNING (xmax = 0) AS first`,
    [failure.chatId, failure.reason, failure.description],
  );
  return { first: rows[0]?.first === true };
}

/** Forgets a chat's failure; true when there was one (the chat is reachable again). */
export async function clearChatFailure(db: Queryable, chatId: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM chat_failures WHERE chat_id = $1`, [chatId]);
  return (rowCount ?? 0) > 0;
}

export async function chatFailures(db: Queryable): Promise<ChatFailure[]> {
  const { rows } = await db.query<ChatFailure>(
    `SELECT chat_id AS "chatId", reason, description, since, last_at AS "lastAt", failures
     FROM chat_failures ORDER BY since`,
  );
  return rows;
}

// Proposed actions and the audit log.
import { type Queryable } from "./pool.js";

export type ActionStatus =
  "pending" | "approved" | "executing" | "verifying" | "succeeded" | "failed" | "rejected" | "superseded";

export interface PendingAction {
  id: number;
  incidentId: string;
  analysisId: number;
  action: string;
  params: Record<string, unknown>;
  status: ActionStatus;
  decidedBy: string | null;
  result: Record<string, unknown> | null;
}

const COLUMNS = `id, incident_id AS "incidentId", analysis_id AS "analysisId", action, params, status,
  decided_by AS "decidedBy", result`;

/** Replaces any still-pending proposal of the incident with this one. */
export async function proposeAction(
  db: Queryable,
  row: { incidentId: string; analysisId: number; action: string; params: Record<string, unknown> },
): Promise<PendingAction | undefined> {
  await db.query(
    `UPDATE pending_actions SET status = 'superseded', updated_at = now() WHERE incident_id = $1 AND status = 'pending'`,
    [row.incidentId],
  );
  // An approved or running action of the incident stays; then there is no new proposal.
  const { rows } = await db.query<PendingAction>(
    `INSERT INTO pending_actions (incident_id, analysis_id, action, params) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [row.incidentId, row.analysisId, row.action, JSON.stringify(row.params)],
  );
  return rows[0];
}

/**
 * An action the guardrails allowed to run by itself: stored already approved by `decidedBy`, in
 * one INSERT. Undefined when the incident already has a live action (nothing new runs then).
 */
export async function insertApprovedAction(
  db: Queryable,
  row: {
    incidentId: string;
    analysisId: number;
    action: string;
    params: Record<string, unknown>;
    decidedBy: string;
  },
): Promise<PendingAction | undefined> {
  await db.query(
    `UPDATE pending_actions SET status = 'superseded', updated_at = now() WHERE incident_id = $1 AND status = 'pending'`,
    [row.incidentId],
  );
  const { rows } = await db.query<PendingAction>(
    `INSERT INTO pending_actions (incident_id, analysis_id, action, params, status, decided_by, decided_at)
     VALUES ($1, $2, $3, $4, 'approved', $5, now())
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [row.incidentId, row.analysisId, row.action, JSON.stringify(row.params), row.decidedBy],
  );
  return rows[0];
}

/** Moves an action from one status to another in one statement; undefined when it was not in `from`. */
export async function transitionAction(
  db: Queryable,
  where: { id?: number; incidentId?: string },
  from: readonly ActionStatus[],
  to: ActionStatus,
  extra: { decidedBy?: string; result?: Record<string, unknown> } = {},
): Promise<PendingAction | undefined> {
  const { rows } = await db.query<PendingAction>(
    `UPDATE pending_actions SET status = $3, updated_at = now(),
       decided_by = COALESCE($4, decided_by), decided_at = CASE WHEN $4::text IS NULL THEN decided_at ELSE now() END,
       result = COALESCE($5, result)
     WHERE ($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR incident_id = $2) AND status = ANY($6)
     RETURNING ${COLUMNS}`,
    [
      where.id ?? null,
      where.incidentId ?? null,
      to,
      extra.decidedBy ?? null,
      extra.result === undefined ? null : JSON.stringify(extra.result),
      from,
    ],
  );
  return rows[0];
}

export async function getAction(db: Queryable, id: number): Promise<PendingAction | undefined> {
  const { rows } = await db.query<PendingAction>(`SELECT ${COLUMNS} FROM pending_actions WHERE id = $1`, [
    id,
  ]);
  return rows[0];
}

export async function latestAction(db: Queryable, incidentId: string): Promise<PendingAction | undefined> {
  const { rows } = await db.query<PendingAction>(
    `SELECT ${COLUMNS} FROM pending_actions WHERE incident_id = $1 ORDER BY id DESC LIMIT 1`,
    [incidentId],
  );
  return rows[0];
}

export async function audit(
  db: Queryable,
  row: {
    incidentId: string | null;
    actor: string;
    what: string;
    outcome: string;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (incident_id, actor, what, outcome, detail) VALUES ($1, $2, $3, $4, $5)`,
    [row.incidentId, row.actor, row.what, row.outcome, JSON.stringify(row.detail ?? {})],
  );
}

export interface AuditEntry {
  at: Date;
  actor: string;
  what: string;
  outcome: string;
  detail: Record<string, unknown>;
}

export async function auditTrail(db: Queryable, incidentId: string): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditEntry>(
    `SELECT at, actor, what, outcome, detail FROM audit_log WHERE incident_id = $1 ORDER BY id`,
    [incidentId],
  );
  return rows;
}

export interface PendingApproval {
  id: number;
  incidentId: string;
  action: string;
  params: Record<string, unknown>;
  createdAt: Date;
  severity: string;
  title: string;
  service: string | null;
  /** The guardrails' one-line verdict. */
  decision: string | null;
}

/** Actions waiting for a human, oldest first, with what the card shows about their incident. */
export async function pendingApprovals(db: Queryable): Promise<PendingApproval[]> {
  const { rows } = await db.query<PendingApproval>(
    `SELECT p.id, p.incident_id AS "incidentId", p.action, p.params, p.created_at AS "createdAt",
            i.severity, i.title, i.service, a.decision->>'summary' AS decision
     FROM pending_actions p JOIN incidents i ON i.id = p.incident_id JOIN analyses a ON a.id = p.analysis_id
     WHERE p.status = 'pending' ORDER BY p.created_at`,
  );
  return rows;
}

/** Actions that sat in a status longer than the loop should ever leave them there. */
export async function staleActions(
  db: Queryable,
  olderThan: { approved: Date; executing: Date; verifying: Date },
): Promise<{ id: number; status: "approved" | "executing" | "verifying" }[]> {
  const { rows } = await db.query<{ id: string; status: "approved" | "executing" | "verifying" }>(
    `SELECT id, status FROM pending_actions
     WHERE (status = 'approved' AND updated_at < $1) OR (status = 'executing' AND updated_at < $2)
        OR (status = 'verifying' AND updated_at < $3)
     ORDER BY id LIMIT 100`,
    [olderThan.approved, olderThan.executing, olderThan.verifying],
  );
  return rows.map((row) => ({ id: Number(row.id), status: row.status }));
}

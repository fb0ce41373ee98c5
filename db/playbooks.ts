// Learned playbooks: which action worked for incidents with a given signature, and which did not.
// Verified repairs teach successes and failures; a person rejecting a proposal teaches a
// rejection, with the reason. Every lesson is also kept, with who and why, in playbook_feedback.
import { SUGGESTED_ACTIONS } from "../domain/actions.js";
import { AnalysisContextSchema, type Playbook } from "../domain/analysis-context.js";
import { playbookSignatures } from "../domain/playbooks.js";
import { getIncident } from "./incidents.js";
import { type Queryable } from "./pool.js";
import { type Incident } from "../domain/incident.js";

export type PlaybookOutcome = "success" | "failure" | "rejected";

export interface StoredPlaybook {
  id: number;
  signature: string;
  action: string;
  successes: number;
  failures: number;
  rejections: number;
  lastUsedAt: Date | null;
  lastOutcome: PlaybookOutcome | null;
  lastIncidentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, signature, action, successes, failures, rejections, last_used_at AS "lastUsedAt",
  last_outcome AS "lastOutcome", last_incident_id AS "lastIncidentId", created_at AS "createdAt",
  updated_at AS "updatedAt"`;

const CONTEXT_SOURCES = new Set(["alertmanager", "sentry", "signoz"]);

/**
 * The playbook signatures of an incident, most specific first (ai/playbooks.ts); a lesson is
 * stored under the first. Incidents opened from the chat have no alert to match: their title is.
 */
export function incidentSignatures(
  incident: Pick<Incident, "source" | "title" | "labels" | "annotations">,
): string[] {
  if (!CONTEXT_SOURCES.has(incident.source)) return [`${incident.source}:${incident.title}`];
  return playbookSignatures(
    AnalysisContextSchema.parse({
      source: incident.source,
      title: incident.title.slice(0, 512),
      labels: incident.labels,
      annotations: incident.annotations,
    }),
  );
}

async function signatureOf(db: Queryable, incidentId: string): Promise<string> {
  const incident = await getIncident(db, incidentId);
  if (incident === undefined) throw new Error(`no incident ${incidentId}`);
  const signature = incidentSignatures(incident)[0];
  if (signature === undefined) throw new Error(`incident ${incidentId} has no playbook signature`);
  return signature;
}

/**
 * Counts one lesson: ensures the (signature, action) playbook exists, then records the feedback
 * row and bumps the counter in one statement. With an `actionId`, an action teaches once
 * however often this is called. Returns the playbook, or undefined when it was already counted.
 */
async function learn(
  db: Queryable,
  row: {
    incidentId: string;
    action: string;
    outcome: PlaybookOutcome;
    actor: string;
    params?: Record<string, unknown>;
    reason?: string;
    actionId?: number;
  },
): Promise<StoredPlaybook | undefined> {
  const signature = await signatureOf(db, row.incidentId);
  await db.query(
    `INSERT INTO playbooks (signature, action) VALUES ($1, $2) ON CONFLICT (signature, action) DO NOTHING`,
    [signature, row.action],
  );
  const counter = { success: "successes", failure: "failures", rejected: "rejections" }[row.outcome];
  const { rows } = await db.query<StoredPlaybook>(
    `WITH pb AS (SELECT id FROM playbooks WHERE signature = $1 AND action = $2),
     fb AS (
       INSERT INTO playbook_feedback (playbook_id, incident_id, action_id, action, params, outcome, reason, actor)
       SELECT pb.id, $3, $4, $2, $5, $6, $7, $8 FROM pb
       ON CONFLICT (action_id) WHERE action_id IS NOT NULL DO NOTHING
       RETURNING playbook_id
     )
     UPDATE playbooks p SET ${counter} = p.${counter} + 1, last_used_at = now(), last_outcome = $6,
       last_incident_id = $3, updated_at = now()
     FROM fb WHERE p.id = fb.playbook_id
     RETURNING ${COLUMNS}`,
    [
      signature,
      row.action,
      row.incidentId,
      row.actionId ?? null,
      JSON.stringify(row.params ?? {}),
      row.outcome,
      row.reason ?? null,
      row.actor,
    ],
  );
  return rows[0];
}

/** A verified repair (or one that did not work) teaches the incident's playbook. */
export async function learnFromOutcome(
  db: Queryable,
  input: {
    incidentId: string;
    action: string;
    outcome: "success" | "failure";
    /** The pending action verified: counted once however often this is called for it. */
    actionId?: number;
    params?: Record<string, unknown>;
    /** What verification said. */
    detail?: string;
    actor?: string;
  },
): Promise<StoredPlaybook | undefined> {
  return learn(db, {
    incidentId: input.incidentId,
    action: input.action,
    outcome: input.outcome,
    actor: input.actor ?? "system",
    ...(input.actionId === undefined ? {} : { actionId: input.actionId }),
    ...(input.params === undefined ? {} : { params: input.params }),
    ...(input.detail === undefined ? {} : { reason: input.detail }),
  });
}

/** A person rejected the proposed action: remembered against the playbook, with why and who. */
export async function recordRejection(
  db: Queryable,
  input: {
    incidentId: string;
    action: string;
    params: Record<string, unknown>;
    reason: string;
    actor: string;
  },
): Promise<void> {
  await learn(db, {
    incidentId: input.incidentId,
    action: input.action,
    outcome: "rejected",
    actor: input.actor,
    params: input.params,
    reason: input.reason,
  });
}

/**
 * The playbooks matching any of the signatures, as the analyzer sees them: a person rejecting
 * the action counts against it like a failed repair. Most specific signature first.
 */
export async function playbooksFor(db: Queryable, signatures: readonly string[]): Promise<Playbook[]> {
  if (signatures.length === 0) return [];
  const { rows } = await db.query<{
    signature: string;
    action: string;
    successes: number;
    failures: number;
  }>(
    `SELECT signature, action, successes, failures + rejections AS failures FROM playbooks
     WHERE signature = ANY($1) AND action = ANY($2)
     ORDER BY array_position($1, signature), successes - failures - rejections DESC, id`,
    [signatures, SUGGESTED_ACTIONS],
  );
  return rows as Playbook[];
}

export interface PlaybookPage {
  items: StoredPlaybook[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** Newest playbooks first, `limit` at a time; the cursor is the last id seen. */
export async function listPlaybooks(
  db: Queryable,
  page: { limit: number; cursor?: string },
): Promise<PlaybookPage> {
  const after = page.cursor === undefined ? null : Number(page.cursor);
  if (after !== null && !Number.isSafeInteger(after)) throw new Error(`bad cursor ${page.cursor}`);
  const { rows } = await db.query<StoredPlaybook>(
    `SELECT ${COLUMNS} FROM playbooks WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [after, page.limit + 1],
  );
  const items = rows.slice(0, page.limit).map((row) => ({ ...row, id: Number(row.id) }));
  const last = items.at(-1);
  return rows.length > page.limit && last !== undefined ? { items, nextCursor: String(last.id) } : { items };
}

export interface PlaybookFeedback {
  at: Date;
  incidentId: string;
  action: string;
  params: Record<string, unknown>;
  outcome: PlaybookOutcome;
  reason: string | null;
  actor: string;
}

/** What taught a playbook, newest first. */
export async function playbookHistory(
  db: Queryable,
  playbookId: number,
  limit = 50,
): Promise<PlaybookFeedback[]> {
  const { rows } = await db.query<PlaybookFeedback>(
    `SELECT at, incident_id AS "incidentId", action, params, outcome, reason, actor FROM playbook_feedback
     WHERE playbook_id = $1 ORDER BY id DESC LIMIT $2`,
    [playbookId, limit],
  );
  return rows;
}

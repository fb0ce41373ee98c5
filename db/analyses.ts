// Stored analyses and what they cost.
import type { Analysis } from "../domain/analysis.js";
import { type Attempt } from "../domain/llm.js";
import { type SimilarIncident } from "../domain/analysis-context.js";
import type { Decision } from "../domain/decide.js";
import { type Queryable } from "./pool.js";

export interface StoredAnalysis {
  id: number;
  incidentId: string;
  createdAt: Date;
  requestedBy: string;
  analysis: Analysis;
  attempts: Attempt[];
  decision: Decision | null;
}

const COLUMNS = `id, incident_id AS "incidentId", created_at AS "createdAt", requested_by AS "requestedBy",
  analysis, attempts, decision`;

export async function insertAnalysis(
  db: Queryable,
  row: {
    incidentId: string;
    requestedBy: string;
    analysis: Analysis;
    attempts: Attempt[];
    decision: Decision;
    /** The analyze job it came from: one analysis per job, however often the job runs. */
    jobKey?: string;
  },
): Promise<StoredAnalysis> {
  const { analysis } = row;
  const { rows } = await db.query<StoredAnalysis>(
    `INSERT INTO analyses (incident_id, requested_by, engine, provider, model, suggested_action, confidence,
       risk_level, tokens_input, tokens_output, cost_usd, analysis, attempts, decision, job_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     RETURNING ${COLUMNS}`,
    [
      row.incidentId,
      row.requestedBy,
      analysis.engine,
      analysis.provider,
      analysis.model,
      analysis.suggested_action,
      analysis.confidence,
      analysis.risk_level,
      analysis.tokens.input,
      analysis.tokens.output,
      analysis.cost_usd,
      JSON.stringify(analysis),
      JSON.stringify(row.attempts),
      JSON.stringify(row.decision),
      row.jobKey ?? null,
    ],
  );
  return rows[0] as StoredAnalysis;
}

/** The analysis an analyze job stored, if it already did (a job run again after its worker died). */
export async function analysisOfJob(db: Queryable, jobKey: string): Promise<StoredAnalysis | undefined> {
  const { rows } = await db.query<StoredAnalysis>(`SELECT ${COLUMNS} FROM analyses WHERE job_key = $1`, [
    jobKey,
  ]);
  return rows[0];
}

export async function getAnalysis(db: Queryable, id: number): Promise<StoredAnalysis | undefined> {
  const { rows } = await db.query<StoredAnalysis>(`SELECT ${COLUMNS} FROM analyses WHERE id = $1`, [id]);
  return rows[0];
}

export async function latestAnalysis(db: Queryable, incidentId: string): Promise<StoredAnalysis | undefined> {
  const { rows } = await db.query<StoredAnalysis>(
    `SELECT ${COLUMNS} FROM analyses WHERE incident_id = $1 ORDER BY id DESC LIMIT 1`,
    [incidentId],
  );
  return rows[0];
}

export async function listAnalyses(db: Queryable, incidentId: string): Promise<StoredAnalysis[]> {
  const { rows } = await db.query<StoredAnalysis>(
    `SELECT ${COLUMNS} FROM analyses WHERE incident_id = $1 ORDER BY id`,
    [incidentId],
  );
  return rows;
}

export interface Usage {
  tokens: number;
  costUsd: number;
  analyses: number;
}

export async function incidentUsage(db: Queryable, incidentId: string): Promise<Usage> {
  const { rows } = await db.query<Usage>(
    `SELECT COALESCE(sum(tokens_input + tokens_output), 0)::int AS tokens,
            COALESCE(sum(cost_usd), 0)::float8 AS "costUsd", count(*)::int AS analyses
     FROM analyses WHERE incident_id = $1`,
    [incidentId],
  );
  return rows[0] ?? { tokens: 0, costUsd: 0, analyses: 0 };
}

/** Tokens and cost per UTC day and provider, newest day first. */
export async function dailyUsage(
  db: Queryable,
  days = 7,
): Promise<(Usage & { day: string; provider: string })[]> {
  const { rows } = await db.query<Usage & { day: string; provider: string }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, provider,
            sum(tokens_input + tokens_output)::int AS tokens, sum(cost_usd)::float8 AS "costUsd",
            count(*)::int AS analyses
     FROM analyses WHERE created_at > now() - make_interval(days => $1)
     GROUP BY 1, 2 ORDER BY 1 DESC, 2`,
    [days],
  );
  return rows;
}

/** Earlier incidents of the same alert and service, with what was suggested for them. */
export async function similarIncidents(
  db: Queryable,
  incident: { id: string; title: string; service: string | null },
  limit = 5,
): Promise<SimilarIncident[]> {
  const { rows } = await db.query<{
    id: string;
    title: string;
    status: string;
    summary: string | null;
    at: Date;
    action: string | null;
  }>(
    `SELECT i.id, i.title, i.status, i.summary, i.created_at AS at,
            (SELECT a.suggested_action FROM analyses a WHERE a.incident_id = i.id ORDER BY a.id DESC LIMIT 1) AS action
     FROM incidents i
     WHERE i.id <> $1 AND i.title = $2 AND i.service IS NOT DISTINCT FROM $3
     ORDER BY i.created_at DESC LIMIT $4`,
    [incident.id, incident.title, incident.service, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    title: row.title,
    outcome: row.status,
    at: row.at.toISOString(),
    ...(row.action === null ? {} : { action: row.action }),
    ...(row.summary === null ? {} : { summary: row.summary }),
  }));
}

-- The action an analysis proposes, waiting for a human (or the guardrails), and what became of
-- it; and the audit log of every decision, press, execution and verification.
CREATE TABLE pending_actions (
  id           bigserial   PRIMARY KEY,
  incident_id  text        NOT NULL REFERENCES incidents (id),
  analysis_id  bigint      NOT NULL REFERENCES analyses (id),
  action       text        NOT NULL,
  params       jsonb       NOT NULL,
  status       text        NOT NULL DEFAULT 'pending' CHECK (status IN (
                 'pending', 'approved', 'executing', 'verifying', 'succeeded', 'failed', 'rejected', 'superseded')),
  decided_by   text,
  decided_at   timestamptz,
  result       jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- One live action per incident: a double press or two approvers act on the same row once.
CREATE UNIQUE INDEX pending_actions_one_live ON pending_actions (incident_id)
  WHERE status IN ('pending', 'approved', 'executing', 'verifying');

CREATE TABLE audit_log (
  id           bigserial   PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  incident_id  text        REFERENCES incidents (id),
  actor        text        NOT NULL,
  what         text        NOT NULL,
  outcome      text        NOT NULL,
  detail       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_incident ON audit_log (incident_id, id);

-- Analyses of incidents (LLM chain or offline analyzer), with tokens and cost; the newest one is
-- what the card shows.
CREATE TABLE analyses (
  id                bigserial   PRIMARY KEY,
  incident_id       text        NOT NULL REFERENCES incidents (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  requested_by      text        NOT NULL DEFAULT 'system',
  engine            text        NOT NULL CHECK (engine IN ('llm', 'offline')),
  provider          text        NOT NULL,
  model             text        NOT NULL,
  suggested_action  text        NOT NULL,
  confidence        real        NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  risk_level        text        NOT NULL CHECK (risk_level IN ('LOW', 'MEDIUM', 'CRITICAL')),
  tokens_input      integer     NOT NULL DEFAULT 0,
  tokens_output     integer     NOT NULL DEFAULT 0,
  cost_usd          numeric(12, 6) NOT NULL DEFAULT 0,
  -- the validated Analysis object, and every provider attempt that led to it
  analysis          jsonb       NOT NULL,
  attempts          jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX analyses_by_incident ON analyses (incident_id, id DESC);
CREATE INDEX analyses_by_day ON analyses (created_at);

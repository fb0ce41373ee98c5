-- What people do to an incident from the chat: acknowledge it (any decision on the card does),
-- snooze it, silence it; when it escalated; and the silences themselves. Incidents may also be
-- opened from the chat (`/rollback`), and analysed by a person instead of a model.
ALTER TABLE incidents
  ADD COLUMN acknowledged_at timestamptz,
  ADD COLUMN acknowledged_by text,
  ADD COLUMN escalated_at    timestamptz,
  ADD COLUMN snoozed_until   timestamptz,
  ADD COLUMN snoozed_by      text;

ALTER TABLE incidents DROP CONSTRAINT incidents_source_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_source_check
  CHECK (source IN ('alertmanager', 'sentry', 'signoz', 'chatops'));

ALTER TABLE analyses DROP CONSTRAINT analyses_engine_check;
ALTER TABLE analyses ADD CONSTRAINT analyses_engine_check CHECK (engine IN ('llm', 'offline', 'human'));

-- A manual request (e.g. /rollback) has no analysis behind it.
ALTER TABLE pending_actions ALTER COLUMN analysis_id DROP NOT NULL;

CREATE TABLE silences (
  id               bigserial   PRIMARY KEY,
  -- Alertmanager's silence id; NULL when no ALERTMANAGER_URL is configured (local only)
  alertmanager_id  text        UNIQUE,
  -- [{ name, value, isRegex, isEqual }] as Alertmanager's API v2 takes them
  matchers         jsonb       NOT NULL,
  starts_at        timestamptz NOT NULL,
  ends_at          timestamptz NOT NULL CHECK (ends_at > starts_at),
  created_by       text        NOT NULL,
  comment          text        NOT NULL DEFAULT '',
  incident_id      text        REFERENCES incidents (id),
  expired_at       timestamptz,
  expired_by       text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX silences_active ON silences (ends_at) WHERE expired_at IS NULL;

-- Alert storms: beyond STORM_THRESHOLD new incidents per window in one chat, new incidents are
-- folded into one summary card per chat instead of getting their own. Every folded incident is
-- still an ordinary row in incidents; these tables only say where it was shown and how.
CREATE TABLE storms (
  id                      bigserial   PRIMARY KEY,
  chat_id                 text        NOT NULL,
  started_at              timestamptz NOT NULL DEFAULT now(),
  ended_at                timestamptz,
  -- the summary card; NULL until it is posted
  message_id              bigint,
  rendered_hash           text,
  -- the one on-call mention for escalations of incidents folded into this storm
  escalation_notified_at  timestamptz
);
-- at most one storm in progress per chat
CREATE UNIQUE INDEX storms_active_per_chat ON storms (chat_id) WHERE ended_at IS NULL;

CREATE TABLE storm_folds (
  incident_id  text        NOT NULL REFERENCES incidents (id),
  chat_id      text        NOT NULL,
  storm_id     bigint      NOT NULL REFERENCES storms (id),
  folded_at    timestamptz NOT NULL DEFAULT now(),
  -- set when the incident got its own card after all (P0, or waiting for an approval)
  promoted_at  timestamptz,
  PRIMARY KEY (incident_id, chat_id)
);
CREATE INDEX storm_folds_storm ON storm_folds (storm_id);

-- The spine: incidents, every alert received, a timeline per incident, and the Telegram
-- messages that show each incident.

CREATE TABLE incident_day_counters (
  day      date    PRIMARY KEY,
  last_seq integer NOT NULL
);

CREATE TABLE incidents (
  id             text        PRIMARY KEY CHECK (id ~ '^INC-[0-9]{8}-[0-9]{4,}$'),
  fingerprint    text        NOT NULL,
  source         text        NOT NULL CHECK (source IN ('alertmanager', 'sentry', 'signoz')),
  severity       text        NOT NULL CHECK (severity IN ('P0', 'P1', 'P2')),
  status         text        NOT NULL DEFAULT 'open' CHECK (status IN (
                   'open', 'analyzing', 'awaiting_approval', 'executing', 'verifying',
                   'resolved', 'failed', 'escalated', 'silenced', 'snoozed')),
  title          text        NOT NULL,
  service        text,
  summary        text,
  target         jsonb,
  labels         jsonb       NOT NULL DEFAULT '{}',
  annotations    jsonb       NOT NULL DEFAULT '{}',
  links          jsonb       NOT NULL DEFAULT '{}',
  first_seen_at  timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  resolved_at    timestamptz,
  occurrences    integer     NOT NULL DEFAULT 1 CHECK (occurrences > 0),
  -- bumped on every change, so a card renderer can tell whether what it shows is current
  version        integer     NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- At most one live incident per alert identity; a resolved one may be followed by a new one.
CREATE UNIQUE INDEX incidents_live_fingerprint ON incidents (source, fingerprint) WHERE status <> 'resolved';
CREATE INDEX incidents_by_status ON incidents (status, created_at DESC);
CREATE INDEX incidents_by_created ON incidents (created_at DESC);

CREATE TABLE alerts (
  id            bigserial   PRIMARY KEY,
  -- queue job id + position in the payload: processing a job twice inserts nothing twice
  delivery_key  text        NOT NULL UNIQUE,
  incident_id   text        NOT NULL REFERENCES incidents (id),
  source        text        NOT NULL,
  fingerprint   text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('firing', 'resolved')),
  labels        jsonb       NOT NULL DEFAULT '{}',
  annotations   jsonb       NOT NULL DEFAULT '{}',
  starts_at     timestamptz,
  ends_at       timestamptz,
  received_at   timestamptz NOT NULL,
  deduplicated  boolean     NOT NULL DEFAULT false,
  payload       jsonb       NOT NULL
);
CREATE INDEX alerts_by_incident ON alerts (incident_id, id);

CREATE TABLE incident_events (
  id           bigserial   PRIMARY KEY,
  incident_id  text        NOT NULL REFERENCES incidents (id),
  at           timestamptz NOT NULL DEFAULT now(),
  kind         text        NOT NULL,
  actor        text        NOT NULL DEFAULT 'system',
  detail       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

CREATE TABLE telegram_messages (
  incident_id    text        NOT NULL REFERENCES incidents (id),
  chat_id        text        NOT NULL,
  message_id     bigint      NOT NULL,
  -- hash of the text and buttons last shown, so an unchanged card is never re-sent
  rendered_hash  text        NOT NULL,
  rendered_version integer   NOT NULL,
  posted_at      timestamptz NOT NULL DEFAULT now(),
  edited_at      timestamptz,
  PRIMARY KEY (incident_id, chat_id)
);
CREATE UNIQUE INDEX telegram_messages_by_message ON telegram_messages (chat_id, message_id);

-- Learned playbooks: for incidents with this signature, this action worked (or did not) so many
-- times. Learned from verified repairs and from people rejecting a proposal; every lesson is
-- also kept, with who and why, in playbook_feedback.
CREATE TABLE playbooks (
  id                bigserial   PRIMARY KEY,
  signature         text        NOT NULL,
  action            text        NOT NULL,
  successes         integer     NOT NULL DEFAULT 0 CHECK (successes >= 0),
  failures          integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
  rejections        integer     NOT NULL DEFAULT 0 CHECK (rejections >= 0),
  last_used_at      timestamptz,
  last_outcome      text        CHECK (last_outcome IN ('success', 'failure', 'rejected')),
  last_incident_id  text        REFERENCES incidents (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (signature, action)
);
CREATE INDEX playbooks_recent ON playbooks (updated_at DESC, id DESC);

CREATE TABLE playbook_feedback (
  id           bigserial   PRIMARY KEY,
  playbook_id  bigint      NOT NULL REFERENCES playbooks (id),
  incident_id  text        NOT NULL REFERENCES incidents (id),
  -- the pending action the lesson is about, when there was one: each action teaches once
  action_id    bigint      REFERENCES pending_actions (id),
  action       text        NOT NULL,
  params       jsonb       NOT NULL DEFAULT '{}',
  outcome      text        NOT NULL CHECK (outcome IN ('success', 'failure', 'rejected')),
  reason       text,
  actor        text        NOT NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX playbook_feedback_once_per_action ON playbook_feedback (action_id) WHERE action_id IS NOT NULL;
CREATE INDEX playbook_feedback_by_playbook ON playbook_feedback (playbook_id, id);

-- Where the bot's messages can go. A group Telegram upgraded to a supergroup answers every call
-- with the new id; chat_aliases remembers the move, so routes configured with the old id
-- (TELEGRAM_CHAT_ID, TELEGRAM_ROUTES) keep reaching the chat after a restart. chat_failures holds
-- the chats the bot cannot reach (removed from, blocked in, unknown): /api/v1/health names them,
-- and cards routed there go to the default chat meanwhile.
CREATE TABLE chat_aliases (
  from_chat_id  text        PRIMARY KEY,
  to_chat_id    text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chat_failures (
  chat_id      text        PRIMARY KEY,
  -- removed (kicked from a group), blocked (by the user of a private chat), not_found
  reason       text        NOT NULL,
  -- Telegram's own words, e.g. "Forbidden: bot was kicked from the supergroup chat"
  description  text        NOT NULL,
  since        timestamptz NOT NULL DEFAULT now(),
  last_at      timestamptz NOT NULL DEFAULT now(),
  failures     integer     NOT NULL DEFAULT 1
);

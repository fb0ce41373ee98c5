-- Forum topics. A card, and a storm's summary card, may be posted into one topic of a forum
-- supergroup (TELEGRAM_CHAT_ID or a TELEGRAM_ROUTES entry written <chat id>/<message_thread_id>).
-- The topic is kept beside the chat so that what replies to the card (an escalation, a snooze
-- reminder) lands in the same topic, also after a restart; NULL is the chat itself (a forum's
-- General topic). Edits go by message id and need no topic. A topic Telegram no longer knows is
-- recorded in chat_failures under "<chat id>/<message_thread_id>", its cards meanwhile in the chat's General.
ALTER TABLE telegram_messages ADD COLUMN message_thread_id bigint;
ALTER TABLE storms ADD COLUMN message_thread_id bigint;

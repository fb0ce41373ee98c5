// Where a message goes: a chat, or one topic of a forum supergroup. Settings write a topic as
// "<chat id>/<thread id>" (TELEGRAM_CHAT_ID, TELEGRAM_ROUTES), and routing passes a place around in
// that same one-string form, so routes, migration aliases and unreachable chats treat it the way
// they treat a chat id. Only the send splits it (bot/: message_thread_id), and the database keeps
// the two parts in columns of their own (telegram_messages, storms). The General topic of a forum
// has no thread id: a place without one means the chat itself, which in a forum is its General.

export interface Topic {
  chatId: string;
  /** The forum topic's message_thread_id; absent for the chat itself (a forum's General topic). */
  threadId?: number;
}

/** The chat and topic a place names: "-1001234/42" → { chatId: "-1001234", threadId: 42 }. */
export function topicOf(place: string): Topic {
  const slash = place.lastIndexOf("/");
  if (slash < 0) return { chatId: place };
  const threadId = Number(place.slice(slash + 1));
  if (!Number.isSafeInteger(threadId) || threadId <= 0) return { chatId: place };
  return { chatId: place.slice(0, slash), threadId };
}

/** The chat part of a place. */
export function chatOf(place: string): string {
  return topicOf(place).chatId;
}

/** A place from its parts; a missing thread (null from the database) names the chat itself. */
export function placeOf(chatId: string, threadId?: number | null): string {
  return threadId === undefined || threadId === null ? chatId : `${chatId}/${threadId}`;
}

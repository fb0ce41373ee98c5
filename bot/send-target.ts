// Telegram's way to send to a place (domain/chat-place.ts): chat_id, plus message_thread_id for a
// forum topic. Only a send names the topic: an edit names the message in its chat, and a reply
// made by grammY's ctx.reply inside a topic finds the topic itself (it copies message_thread_id
// from a message whose is_topic_message is set; the General topic has none).
import { topicOf } from "../domain/chat-place.js";

export function sendTarget(place: string): { chatId: string; thread: { message_thread_id?: number } } {
  const { chatId, threadId } = topicOf(place);
  return { chatId, thread: threadId === undefined ? {} : { message_thread_id: threadId } };
}

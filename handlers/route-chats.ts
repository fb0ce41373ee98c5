// Use case: which chats show an incident's card. TELEGRAM_ROUTES sends cards by severity or by
// namespace (the incident's `namespace` label, else its target's namespace) to other chats, or to
// a topic of a forum supergroup ("<chat id>/<thread id>", domain/chat-place.ts).
import { placeOf } from "../domain/chat-place.js";
import { type Incident } from "../domain/incident.js";
import type { ChatRoute } from "../registry/config.js";

export type RoutedIncident = Pick<Incident, "severity" | "labels" | "target">;

export function incidentNamespace(incident: RoutedIncident): string | undefined {
  return incident.labels.namespace ?? incident.target?.namespace;
}

/**
 * Every matching route's place (a chat, or a topic of one), each once, in the order the routes are configured. The default
 * chat (TELEGRAM_CHAT_ID) gets the card only when no route matches: a route means "this team
 * owns these incidents", so copying every routed card into the default chat as well would put
 * the noise back where routing took it away, and would spend that chat's flood budget twice.
 */
export function routeChats(
  routes: readonly ChatRoute[],
  /** TELEGRAM_CHAT_ID as a place: the chat, or `<chat id>/<thread id>` for a topic. */
  defaultChatId: string,
): (incident: RoutedIncident) => string[] {
  return (incident) => {
    const namespace = incidentNamespace(incident);
    const matched = routes
      .filter((route) =>
        "severity" in route.match
          ? route.match.severity === incident.severity
          : route.match.namespace === namespace,
      )
      .map((route) => placeOf(route.chatId, route.threadId));
    return matched.length === 0 ? [defaultChatId] : [...new Set(matched)];
  };
}

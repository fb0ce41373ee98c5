// Platform-neutral notices besides incident cards: the storm summary card and the escalation
// message. Use cases build them; each chat platform renders them (Telegram: bot/telegram-notices.ts).
import type { ChatRefusal } from "./card.js";
import type { Severity } from "./incident.js";

export interface StormSummary {
  stormId: number;
  startedAt: Date;
  /** Set once the storm is over: the card becomes its final report. */
  endedAt: Date | null;
  /** Individual cards resume below this many new incidents per window. */
  threshold: number;
  windowSeconds: number;
  counts: StormCounts;
}

export interface EscalationNotice {
  incidentId: string;
  severity: Severity;
  title: string;
  service: string | null;
  reason: "sla" | "repair_failed";
  /** The SLA that passed without acknowledgement ("sla" only). */
  afterSeconds?: number;
  /** What failed, in English ("repair_failed" only): what the chat shows when `failure` says nothing it knows. */
  detail?: string;
  /**
   * The failed repair as the timeline kept it ("repair_failed" only): the action, its `reason` and
   * what ran afterwards (`then`), as data (handlers/execute-action.ts), for the chat's language.
   */
  failure?: { action: string; reason: unknown; then?: unknown };
  /** Telegram usernames without "@"; empty when none are configured. */
  mentions: readonly string[];
  /** Escalated while folded into a storm: the notice stands for the storm's other escalations too. */
  storm?: { escalated: number };
}

/**
 * Each send names a place (a chat id, or "<chat id>/<thread id>" for a forum topic,
 * domain/chat-place.ts); an edit names the chat. A chat that takes no message (migrated, bot
 * removed, unknown, topic gone) is an answer, not an error.
 */
export interface ChatNotices {
  postStorm(
    place: string,
    summary: StormSummary,
  ): Promise<{ kind: "posted"; messageId: number } | ChatRefusal>;
  /** "gone" when the message no longer exists in the chat. */
  updateStorm(
    chatId: string,
    messageId: number,
    summary: StormSummary,
  ): Promise<"updated" | "gone" | ChatRefusal>;
  postEscalation(
    place: string,
    notice: EscalationNotice,
    replyTo?: number,
  ): Promise<{ kind: "posted"; messageId: number } | ChatRefusal>;
}

export interface StormCounts {
  folded: number;
  open: number;
  bySeverity: Record<Severity, number>;
  awaitingApproval: number;
  escalated: number;
  /** Services with the most folded incidents, most first. */
  topServices: { service: string; count: number }[];
  /** The newest folded incidents, newest first. */
  newest: { id: string; severity: Severity; service: string | null; title: string }[];
}

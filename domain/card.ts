// The platform-neutral incident card (the seed's appendix B). Use cases build it from an
// incident; each chat platform renders it (Telegram: bot/cards/).
import type { CardLink, CardTarget, IncidentSource, IncidentStatus, Severity } from "./incident.js";

/** "take": "👀 I'm on it", someone takes the incident (acknowledges it; another may take it over). */
export const CARD_VERBS = ["approve", "reject", "snooze", "silence", "take", "details"] as const;
export type CardVerb = (typeof CARD_VERBS)[number];

export interface CardAnalysis {
  /** Which engine produced it: "ollama/qwen2.5:7b", "gemini/gemini-2.5-flash", "offline rules". */
  engine: string;
  ownerTeam: string;
  /** 0..1 */
  confidence: number;
  cause: string;
  suggestedAction: string;
  /** Human text, e.g. "~30s". */
  estimatedDowntime?: string;
  tokens?: number;
  costUsd?: number;
  /** One line on why the action runs automatically or waits for a human. */
  decision?: string;
  /** Set when a person asked for the action (e.g. /rollback) instead of a model proposing it. */
  requestedBy?: string;
  /** Why the proposed action cannot run in this installation ("KUBECONFIG is not set"); no Approve then. */
  cannotRun?: string;
}

/** Verbs whose button names the proposal it decides on. */
export const VERBS_WITH_ACTION: readonly CardVerb[] = ["approve", "reject"];

export interface CardButton {
  verb: CardVerb;
  /**
   * Approve and Reject: the proposed action the card shows, so a press on a card drawn before the
   * proposal changed acts on nothing rather than on an action its presser never saw.
   */
  actionId?: number;
}

export interface CardTaker {
  by: string;
  at: Date;
  /** Set when it was a takeover: who had it before. */
  from?: string;
}

export interface CardHistoryEntry {
  at: Date;
  text: string;
}

export interface IncidentCard {
  incidentId: string;
  severity: Severity;
  status: IncidentStatus;
  source: IncidentSource;
  service: string;
  title: string;
  summary?: string;
  target?: CardTarget;
  occurrences: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt?: Date;
  /** Who said "I'm on it" last, when, and whom they took it over from. */
  takenBy?: CardTaker;
  /** From the service registry: who owns the service, and its SLO in words. */
  owner?: { team: string; slo?: string };
  /** Absent while the analysis has not run yet. */
  analysis?: CardAnalysis;
  /** Set when no analysis could be made at all (not even offline): why. */
  analysisFailed?: string;
  links: CardLink[];
  /**
   * What the reader must know about the alert itself: the incident closed as needing no action
   * ("archived in Sentry by Jane"), alerts the sender left out of the group, text that was cut.
   */
  notes?: string[];
  /** Who did what, oldest first; the renderer keeps the newest when space runs out. */
  history: CardHistoryEntry[];
  /** Empty once nothing can be decided any more (e.g. resolved). */
  buttons: CardButton[];
}

export const SEVERITY_NAMES: Record<Severity, string> = { P0: "CRITICAL", P1: "HIGH", P2: "MEDIUM" };

/** What the service registry says about the incident's service. */
export interface ServiceFacts {
  ownerTeam?: string;
  slo?: string;
  links: CardLink[];
}

/**
 * Why the bot cannot write to a chat: removed from a group, blocked by a user, or no such chat; or
 * to one forum topic of a chat: no such topic (deleted, or a wrong thread id).
 */
export type UnreachableReason = "removed" | "blocked" | "not_found" | "topic_not_found";

/**
 * A chat that took no message, as an expected outcome: the group became a supergroup (follow it
 * to `toChatId`), or the bot cannot reach the chat at all (Telegram's own words in `description`).
 */
export type ChatRefusal =
  | { kind: "migrated"; toChatId: string }
  | { kind: "unreachable"; reason: UnreachableReason; description: string };

export interface Notifier {
  /** `place`: a chat id, or "<chat id>/<thread id>" for a forum topic (domain/chat-place.ts). */
  post(place: string, card: IncidentCard): Promise<{ kind: "posted"; messageId: number } | ChatRefusal>;
  /** "gone" when the message no longer exists in the chat (someone deleted it). */
  update(
    chatId: string,
    messageId: number,
    card: IncidentCard,
  ): Promise<{ kind: "updated" } | { kind: "gone" } | ChatRefusal>;
}

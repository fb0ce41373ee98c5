// Use case: Snooze. Sets the incident's snoozed_until in one UPDATE that only ever moves it later:
// a double press (or a second approver choosing the same) finds it already set and says by whom;
// choosing a longer snooze replaces a shorter one. A delayed job reminds the chat when it ends.
import { audit } from "../db/actions.js";
import { acknowledgeIncident, addEvent, snoozeUntil, getIncident } from "../db/incidents.js";
import { type Queryable } from "../db/pool.js";
import { guardDecision, type ChatUser } from "./decision-guard.js";
import { clockTime } from "../domain/time.js";
import { formatDuration } from "./silence-matchers.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

/** The choices the card offers, by the word in the callback data. */
export const SNOOZE_CHOICES = { "15m": 15 * 60_000, "1h": 3_600_000, "4h": 4 * 3_600_000 } as const;
export type SnoozeChoice = keyof typeof SNOOZE_CHOICES;

export function isSnoozeChoice(word: string): word is SnoozeChoice {
  return Object.hasOwn(SNOOZE_CHOICES, word);
}

/** A new snooze must end at least this much later than the one in force to replace it. */
const REPLACE_MARGIN_MS = 60_000;

export interface SnoozeDeps {
  db: Queryable;
  approverIds: readonly number[];
  /** Milliseconds per choice; tests shorten them. */
  durations?: Readonly<Record<SnoozeChoice, number>>;
  /** Queues the reminder for `until`; one job per (incident, until). */
  scheduleReminder: (incidentId: string, until: Date) => Promise<unknown>;
  /** BOT_TIMEZONE: the zone times in the answers are shown in (default UTC). */
  timeZone?: string;
  /** BOT_LANGUAGE: the language of the answers; default English. */
  language?: Language;
}

export type SnoozeResult =
  { outcome: "snoozed"; text: string; until: Date } | { outcome: string; text: string };

export async function snoozeIncident(
  deps: SnoozeDeps,
  input: ChatUser & { incidentId: string; choice: SnoozeChoice },
): Promise<SnoozeResult> {
  const guard = await guardDecision(deps, { ...input, what: `snooze ${input.choice}` });
  if (!guard.ok) return guard;
  const { actor } = guard;
  const durationMs = (deps.durations ?? SNOOZE_CHOICES)[input.choice];
  // The app's clock, to the millisecond, so the reminder can name exactly the snooze it ends.
  const now = Date.now();
  const until = await snoozeUntil(deps.db, {
    id: input.incidentId,
    until: new Date(now + durationMs),
    by: actor,
    now: new Date(now),
    replaceBefore: new Date(now + durationMs - Math.min(REPLACE_MARGIN_MS, durationMs / 2)),
  });
  if (until === undefined) {
    // Resolved meanwhile, or a snooze ending as late or later is already in force.
    const state = await getIncident(deps.db, input.incidentId);
    const resolved = state?.status === "resolved";
    await audit(deps.db, {
      incidentId: input.incidentId,
      actor,
      what: `snooze ${input.choice}`,
      outcome: resolved ? "resolved" : "already_snoozed",
    });
    const t = messagesFor(deps.language).answers;
    const text = resolved
      ? t.alreadyResolved({ id: input.incidentId })
      : t.alreadySnoozed({
          who: state?.snoozedBy ?? messagesFor(deps.language).common.someone,
          until: state?.snoozedUntil
            ? clockTime(state.snoozedUntil, deps.timeZone, new Date(), deps.language)
            : "?",
        });
    return { outcome: resolved ? "resolved" : "already_snoozed", text };
  }
  await addEvent(
    deps.db,
    input.incidentId,
    "snoozed",
    { until: until.toISOString(), duration: formatDuration(durationMs) },
    actor,
  );
  await audit(deps.db, {
    incidentId: input.incidentId,
    actor,
    what: `snooze ${input.choice}`,
    outcome: "snoozed",
    detail: { until: until.toISOString() },
  });
  await acknowledgeIncident(deps.db, input.incidentId, actor);
  await deps.scheduleReminder(input.incidentId, until);
  return {
    outcome: "snoozed",
    text: messagesFor(deps.language).answers.snoozed({
      until: clockTime(until, deps.timeZone, new Date(), deps.language),
    }),
    until,
  };
}

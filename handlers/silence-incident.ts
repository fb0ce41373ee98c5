// Use case: the card's Silence button. Creates a silence matching the incident's identifying
// labels (alertname and the workload, never severity or the pod), at most one in force per
// incident: a double press or a second approver finds it and says whose it is.
import { acknowledgeIncident, addEvent, lockIncident } from "../db/incidents.js";
import { activeSilenceOfIncident } from "../db/silences.js";
import { createSilence, type SilenceDeps } from "./create-silence.js";
import { guardDecision, type ChatUser } from "./decision-guard.js";
import { clockTime } from "../domain/time.js";
import { formatMatchers, incidentMatchers } from "./silence-matchers.js";
import { messagesFor } from "../domain/i18n/index.js";

/** The choices the card offers, by the word in the callback data. */
export const SILENCE_CHOICES = { "30m": 30 * 60_000, "2h": 2 * 3_600_000, "24h": 24 * 3_600_000 } as const;
export type SilenceChoice = keyof typeof SILENCE_CHOICES;

export function isSilenceChoice(word: string): word is SilenceChoice {
  return Object.hasOwn(SILENCE_CHOICES, word);
}

export type SilenceIncidentResult = { outcome: string; text: string };

export async function silenceIncident(
  deps: SilenceDeps,
  input: ChatUser & { incidentId: string; choice: SilenceChoice },
): Promise<SilenceIncidentResult> {
  const guard = await guardDecision(deps, { ...input, what: `silence ${input.choice}` });
  if (!guard.ok) return guard;
  const { actor, incident } = guard;
  const matchers = incidentMatchers(incident.labels, incident.service);
  const result = await createSilence(deps, {
    matchers,
    durationMs: SILENCE_CHOICES[input.choice],
    comment: `${incident.id}: ${incident.title} (silenced from the card by ${actor})`,
    actor,
    incidentId: incident.id,
    precondition: async (client) => {
      // the incident row lock orders two presses; the second sees the first one's silence
      await lockIncident(client, incident.id);
      const active = await activeSilenceOfIncident(client, incident.id);
      return active === undefined
        ? undefined
        : messagesFor(deps.language).answers.alreadySilenced({
            who: active.createdBy,
            until: clockTime(active.endsAt, deps.timeZone, new Date(), deps.language),
          });
    },
  });
  if (result.outcome !== "silenced") return result;
  const { silence, local } = result;
  await addEvent(
    deps.db,
    incident.id,
    "silenced",
    {
      silenceId: silence.id,
      until: silence.endsAt.toISOString(),
      matchers: formatMatchers(silence.matchers),
      ...(silence.alertmanagerId === null ? { local: true } : { alertmanagerId: silence.alertmanagerId }),
    },
    actor,
  );
  await acknowledgeIncident(deps.db, incident.id, actor);
  return {
    outcome: "silenced",
    text: local
      ? result.text
      : messagesFor(deps.language).answers.silencedMatching({
          text: result.text,
          matchers: formatMatchers(silence.matchers),
        }),
  };
}

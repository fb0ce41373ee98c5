// Use case: create a silence, from a card or from /silence. Recorded in PostgreSQL first (the bot
// stops posting cards it matches at once), then created in Alertmanager when ALERTMANAGER_URL is
// set; if Alertmanager refuses, the local row is expired again and the person hears why.
import { audit } from "../db/actions.js";
import type { PoolClient } from "../db/pool.js";
import { inTransaction, type Pool } from "../db/pool.js";
import {
  expireSilence,
  insertSilence,
  setAlertmanagerId,
  type Silence,
  type SilenceMatcher,
} from "../db/silences.js";
import { AlertmanagerError, type SilencesGateway } from "../gateways/alertmanager-silences.js";
import { actorOf, type ChatUser } from "./decision-guard.js";
import { clockTime } from "../domain/time.js";
import { formatDuration, formatMatchers, matchersProblem, MAX_SILENCE_MS } from "./silence-matchers.js";
import {
  englishOf,
  messagesFor,
  sayingText,
  type AlertmanagerSaying,
  type Language,
} from "../domain/i18n/index.js";

export interface SilenceDeps {
  db: Pool;
  approverIds: readonly number[];
  /** Absent without ALERTMANAGER_URL: silences are then the bot's own only. */
  alertmanager?: SilencesGateway;
  /** BOT_TIMEZONE: the zone times in the answers are shown in (default UTC). */
  timeZone?: string;
  /** BOT_LANGUAGE: the language of the answers; default English. */
  language?: Language;
}

export type CreateSilenceResult =
  | { outcome: "silenced"; text: string; silence: Silence; local: boolean }
  | { outcome: "invalid" | "refused" | "alertmanager_failed"; text: string };

export async function createSilence(
  deps: SilenceDeps,
  input: {
    matchers: readonly SilenceMatcher[];
    durationMs: number;
    comment: string;
    actor: string;
    incidentId?: string;
    /** Runs in the inserting transaction; a text refuses (e.g. the incident is already silenced). */
    precondition?: (client: PoolClient) => Promise<string | undefined>;
  },
): Promise<CreateSilenceResult> {
  const t = messagesFor(deps.language).answers;
  const problem =
    matchersProblem(input.matchers) ??
    (input.durationMs > MAX_SILENCE_MS
      ? t.silenceTooLong({ max: formatDuration(MAX_SILENCE_MS) })
      : undefined) ??
    (input.durationMs < 60_000 ? t.silenceTooShort : undefined);
  const what = `silence ${formatMatchers(input.matchers)} for ${formatDuration(input.durationMs)}`;
  const incidentId = input.incidentId ?? null;
  if (problem !== undefined) {
    await audit(deps.db, { incidentId, actor: input.actor, what, outcome: "invalid", detail: { problem } });
    return { outcome: "invalid", text: t.cannotSilence({ problem }) };
  }
  const startsAt = new Date();
  const endsAt = new Date(startsAt.getTime() + input.durationMs);
  const comment =
    input.comment.trim() === "" ? `silenced from the chat by ${input.actor}` : input.comment.trim();
  const claimed = await inTransaction(deps.db, async (client) => {
    const refusal = await input.precondition?.(client);
    if (refusal !== undefined) return { refusal };
    const silence = await insertSilence(client, {
      matchers: input.matchers,
      startsAt,
      endsAt,
      createdBy: input.actor,
      comment,
      ...(input.incidentId === undefined ? {} : { incidentId: input.incidentId }),
    });
    return { silence };
  });
  if ("refusal" in claimed) {
    await audit(deps.db, { incidentId, actor: input.actor, what, outcome: "already_silenced" });
    return { outcome: "refused", text: claimed.refusal ?? "" };
  }
  let silence = claimed.silence;
  if (deps.alertmanager !== undefined) {
    try {
      const alertmanagerId = await createOrRecognise(deps.alertmanager, { ...silence, comment });
      await setAlertmanagerId(deps.db, silence.id, alertmanagerId);
      silence = { ...silence, alertmanagerId };
    } catch (error) {
      await expireSilence(deps.db, silence.id, "system");
      // the bot's words as data beside the English the audit keeps; Alertmanager's quoted as they came
      const said: AlertmanagerSaying =
        error instanceof AlertmanagerError ? error.said : { code: "failed", error: String(error) };
      const detail = englishOf("alertmanagerError", said);
      await audit(deps.db, {
        incidentId,
        actor: input.actor,
        what,
        outcome: "alertmanager_failed",
        detail: { error: detail },
      });
      return {
        outcome: "alertmanager_failed",
        text: t.notSilenced({
          detail: sayingText("alertmanagerError", said, messagesFor(deps.language)) ?? detail,
        }),
      };
    }
  }
  const local = silence.alertmanagerId === null;
  await audit(deps.db, {
    incidentId,
    actor: input.actor,
    what,
    outcome: "silenced",
    detail: {
      silenceId: silence.id,
      alertmanagerId: silence.alertmanagerId,
      endsAt: endsAt.toISOString(),
      comment,
    },
  });
  return {
    outcome: "silenced",
    silence,
    local,
    text: t.silenceCreated({
      id: silence.id,
      until: clockTime(endsAt, deps.timeZone, new Date(), deps.language),
      local,
    }),
  };
}

/**
 * Creates the silence in Alertmanager. When the answer is lost (no HTTP status: a timeout, a
 * dropped connection), Alertmanager may have created it all the same; a silence it holds with
 * these matchers, end and author is that one. Otherwise it would mute alerts while the chat was
 * told "not silenced".
 */
async function createOrRecognise(
  gateway: SilencesGateway,
  silence: Parameters<SilencesGateway["create"]>[0],
): Promise<string> {
  try {
    return await gateway.create(silence);
  } catch (error) {
    if (!(error instanceof AlertmanagerError) || error.status !== undefined) throw error;
    const found = await gateway.find(silence).catch(() => undefined);
    if (found === undefined) throw error;
    return found;
  }
}

/** /silence with matchers, a duration and a reason: approvers only. */
export async function silenceLabels(
  deps: SilenceDeps,
  input: ChatUser & { matchers: readonly SilenceMatcher[]; durationMs: number; reason?: string },
): Promise<{ outcome: string; text: string }> {
  const actor = actorOf(input);
  if (!deps.approverIds.includes(input.userId)) {
    await audit(deps.db, {
      incidentId: null,
      actor,
      what: `silence ${formatMatchers(input.matchers)}`,
      outcome: "not_allowed",
    });
    return { outcome: "not_allowed", text: messagesFor(deps.language).answers.notAnApprover };
  }
  const result = await createSilence(deps, {
    matchers: input.matchers,
    durationMs: input.durationMs,
    comment: input.reason ?? "",
    actor,
  });
  if (result.outcome !== "silenced") return result;
  return {
    outcome: result.outcome,
    text: `🔕 ${result.text}\nMatching: ${formatMatchers(result.silence.matchers)}`,
  };
}

// Use case: /silence expire <id>. Ends the silence in PostgreSQL in one UPDATE (a second expiry
// finds it over and says who ended it), then in Alertmanager when it lives there too; a silence
// expired here whose Alertmanager call failed is asked for again.
import { audit } from "../db/actions.js";
import {
  expireSilence as expireSilenceRow,
  findSilenceByAlertmanagerId,
  getSilence,
  type Silence,
} from "../db/silences.js";
import type { SilencesGateway } from "../gateways/alertmanager-silences.js";
import type { SilenceDeps } from "./create-silence.js";
import { actorOf, type ChatUser } from "./decision-guard.js";
import { messagesFor, type Messages } from "../domain/i18n/index.js";
import { clockTime } from "../domain/time.js";
import { formatMatchers } from "./silence-matchers.js";

export type ExpireSilenceResult = { outcome: string; text: string };

async function findSilence(deps: SilenceDeps, ref: string): Promise<Silence | undefined> {
  const local = /^#?(\d{1,12})$/.exec(ref.trim());
  if (local !== null) return getSilence(deps.db, Number(local[1]));
  return /^[0-9a-f-]{8,64}$/i.test(ref.trim()) ? findSilenceByAlertmanagerId(deps.db, ref.trim()) : undefined;
}

export async function expireSilence(
  deps: SilenceDeps,
  input: ChatUser & { ref: string },
): Promise<ExpireSilenceResult> {
  const t = messagesFor(deps.language).silences;
  const someone = messagesFor(deps.language).common.someone;
  const clock = (at: Date) => clockTime(at, deps.timeZone, new Date(), deps.language);
  const actor = actorOf(input);
  const silence = await findSilence(deps, input.ref);
  const what = `expire silence ${input.ref}`;
  const incidentId = silence?.incidentId ?? null;
  if (!deps.approverIds.includes(input.userId)) {
    await audit(deps.db, { incidentId, actor, what, outcome: "not_allowed" });
    return { outcome: "not_allowed", text: messagesFor(deps.language).answers.notAnApprover };
  }
  if (silence === undefined) {
    await audit(deps.db, { incidentId, actor, what, outcome: "unknown_silence" });
    return {
      outcome: "unknown_silence",
      text: t.unknown({ ref: input.ref }),
    };
  }
  const expired = await expireSilenceRow(deps.db, silence.id, actor);
  if (
    expired === undefined &&
    silence.expiredAt !== null &&
    silence.alertmanagerId !== null &&
    silence.endsAt > new Date() &&
    deps.alertmanager !== undefined &&
    (await deps.alertmanager.state(silence.alertmanagerId).catch(() => "expired")) !== "expired"
  ) {
    // Expired here earlier, but Alertmanager refused then (it was away) and still applies it.
    const note = await expireInAlertmanager(deps.alertmanager, silence.alertmanagerId, t);
    await audit(deps.db, {
      incidentId,
      actor,
      what,
      outcome: note === "" ? "expired_in_alertmanager" : "alertmanager_failed",
      detail: {
        silenceId: silence.id,
        alertmanagerId: silence.alertmanagerId,
        ...(note === "" ? {} : { note }),
      },
    });
    return note === ""
      ? {
          outcome: "expired",
          text: t.expiredInAlertmanagerToo({ id: silence.id, who: silence.expiredBy ?? someone }),
        }
      : { outcome: "alertmanager_failed", text: t.expiredHereOnly({ id: silence.id, note }) };
  }
  if (expired === undefined) {
    await audit(deps.db, { incidentId, actor, what, outcome: "already_over" });
    const over =
      silence.expiredAt === null
        ? t.endedAt({ at: clock(silence.endsAt) })
        : t.expiredByAt({ who: silence.expiredBy ?? someone, at: clock(silence.expiredAt) });
    return { outcome: "already_over", text: t.alreadyOver({ id: silence.id, over }) };
  }
  let note = "";
  if (silence.alertmanagerId !== null)
    note = await expireInAlertmanager(deps.alertmanager, silence.alertmanagerId, t);
  await audit(deps.db, {
    incidentId,
    actor,
    what,
    outcome: "expired",
    detail: {
      silenceId: silence.id,
      alertmanagerId: silence.alertmanagerId,
      ...(note === "" ? {} : { note }),
    },
  });
  return {
    outcome: "expired",
    text: t.expired({ id: silence.id, matchers: formatMatchers(silence.matchers), who: actor, note }),
  };
}

async function expireInAlertmanager(
  gateway: SilencesGateway | undefined,
  alertmanagerId: string,
  t: Messages["silences"],
): Promise<string> {
  if (gateway === undefined) return t.amStillHolds;
  try {
    await gateway.expire(alertmanagerId);
    return "";
  } catch (error) {
    return t.amDidNotExpire({ error: (error as Error).message });
  }
}

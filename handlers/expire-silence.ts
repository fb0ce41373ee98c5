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
import { messagesFor } from "../domain/i18n/index.js";
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
      text: `No silence ${input.ref}. /silence list shows the active ones.`,
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
    const note = await expireInAlertmanager(deps.alertmanager, silence.alertmanagerId);
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
          text: `Silence #${silence.id} was already expired here by ${silence.expiredBy ?? "someone"}; Alertmanager, which still applied it, has it expired now too.`,
        }
      : { outcome: "alertmanager_failed", text: `Silence #${silence.id} is expired here. ${note}` };
  }
  if (expired === undefined) {
    await audit(deps.db, { incidentId, actor, what, outcome: "already_over" });
    const over =
      silence.expiredAt === null
        ? `it ended at ${clockTime(silence.endsAt, deps.timeZone)}`
        : `${silence.expiredBy ?? "someone"} expired it at ${clockTime(silence.expiredAt, deps.timeZone)}`;
    return { outcome: "already_over", text: `Silence #${silence.id} is already over: ${over}.` };
  }
  let note = "";
  if (silence.alertmanagerId !== null)
    note = await expireInAlertmanager(deps.alertmanager, silence.alertmanagerId);
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
    text: `Silence #${silence.id} (${formatMatchers(silence.matchers)}) expired by ${actor}.${note === "" ? "" : ` ${note}`}`,
  };
}

async function expireInAlertmanager(
  gateway: SilencesGateway | undefined,
  alertmanagerId: string,
): Promise<string> {
  if (gateway === undefined) return "Alertmanager still holds it: no ALERTMANAGER_URL is set.";
  try {
    await gateway.expire(alertmanagerId);
    return "";
  } catch (error) {
    return `Alertmanager did not expire it: ${(error as Error).message}`;
  }
}

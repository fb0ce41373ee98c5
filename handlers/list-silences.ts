// Use case: /silence list. The silences in force, soonest ending first, as lines for the chat.
import { activeSilences } from "../db/silences.js";
import { type Queryable } from "../db/pool.js";
import { clockTime } from "../domain/time.js";
import { formatMatchers } from "./silence-matchers.js";
import { messagesFor, type Language } from "../domain/i18n/index.js";

const SHOWN = 30;

export async function listSilences(deps: {
  db: Queryable;
  timeZone?: string;
  /** BOT_LANGUAGE: the list's words (default English). */
  language?: Language;
}): Promise<{ text: string; count: number }> {
  const t = messagesFor(deps.language).silences;
  const silences = await activeSilences(deps.db, SHOWN + 1);
  if (silences.length === 0) return { text: t.none, count: 0 };
  const lines = silences.slice(0, SHOWN).map((silence) => {
    const where = silence.alertmanagerId === null ? t.local : `AM ${silence.alertmanagerId.slice(0, 8)}`;
    const incident = silence.incidentId === null ? "" : ` · ${silence.incidentId}`;
    return t.line({
      id: silence.id,
      matchers: formatMatchers(silence.matchers),
      until: clockTime(silence.endsAt, deps.timeZone, new Date(), deps.language),
      who: silence.createdBy,
      where: `${where}${incident}`,
    });
  });
  const more = silences.length > SHOWN ? [t.more({ shown: SHOWN })] : [];
  return {
    text: [t.title, ...lines, ...more].join("\n"),
    count: Math.min(silences.length, SHOWN),
  };
}

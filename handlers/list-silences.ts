// Use case: /silence list. The silences in force, soonest ending first, as lines for the chat.
import { activeSilences } from "../db/silences.js";
import { type Queryable } from "../db/pool.js";
import { clockTime } from "../domain/time.js";
import { formatMatchers } from "./silence-matchers.js";

const SHOWN = 30;

export async function listSilences(deps: {
  db: Queryable;
  timeZone?: string;
}): Promise<{ text: string; count: number }> {
  const silences = await activeSilences(deps.db, SHOWN + 1);
  if (silences.length === 0) return { text: "No active silences.", count: 0 };
  const lines = silences.slice(0, SHOWN).map((silence) => {
    const where = silence.alertmanagerId === null ? "local" : `AM ${silence.alertmanagerId.slice(0, 8)}`;
    const incident = silence.incidentId === null ? "" : ` · ${silence.incidentId}`;
    return `#${silence.id} ${formatMatchers(silence.matchers)} · until ${clockTime(silence.endsAt, deps.timeZone)} · by ${silence.createdBy} · ${where}${incident}`;
  });
  const more = silences.length > SHOWN ? [`… and more; showing the ${SHOWN} ending soonest.`] : [];
  return {
    text: ["🔕 Active silences:", ...lines, ...more].join("\n"),
    count: Math.min(silences.length, SHOWN),
  };
}

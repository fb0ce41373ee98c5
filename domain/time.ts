// How the chat writes a moment: the time of day, with the date when it is not the same day.

/**
 * "14:05 UTC" for toasts, replies and the card; "Nov 25 14:05 UTC" when `at` is on another UTC day
 * than `reference` (a 24 h silence, a week-long one), so a time is never ambiguous.
 */
export function clockTime(at: Date, reference: Date = new Date()): string {
  const time = `${at.toISOString().slice(11, 16)} UTC`;
  if (at.toISOString().slice(0, 10) === reference.toISOString().slice(0, 10)) return time;
  const day = at.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  return `${day} ${time}`;
}

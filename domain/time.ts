// How the chat writes a moment: the time of day in the team's zone (BOT_TIMEZONE), with the date
// when it is not the same day there. The API and the database keep ISO UTC; only the chat reads this.

const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formats.set(timeZone, format);
  }
  return format;
}

let canonicalZones: ReadonlySet<string> | undefined;

/**
 * Whether `name` is a time zone this runtime knows (an IANA name such as "Asia/Taipei", or "UTC").
 * The canonical names and "UTC" (which ECMA-402 requires of every runtime) are looked up in a list;
 * only other names (aliases such as "US/Pacific", other spellings) build a formatter to find out. A
 * formatter maps about 8 MB of ICU's date data into the process for good, which a process that
 * never writes a time for the chat (the intake) need not carry for checking its settings.
 */
export function isTimeZone(name: string): boolean {
  canonicalZones ??= new Set(Intl.supportedValuesOf("timeZone"));
  if (name === "UTC" || canonicalZones.has(name)) return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A moment's parts in a zone: the day (to compare), "Mar 29" ("3月29日" in zh-TW, the chat's
 * language of BOT_LANGUAGE), "12:03" and "UTC" / "GMT+8". The zone is written the same in both
 * languages: "GMT+8" reads the same to everyone.
 */
export function momentIn(
  at: Date,
  timeZone: string,
  language: "en" | "zh-TW" = "en",
): { dayKey: string; day: string; time: string; zone: string } {
  const parts = formatIn(timeZone).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? "";
  const englishDay = `${part("month")} ${part("day")}`;
  const day = language === "zh-TW" ? `${MONTHS.indexOf(part("month")) + 1}月${part("day")}日` : englishDay;
  return {
    dayKey: `${part("year")} ${englishDay}`,
    day,
    time: `${part("hour")}:${part("minute")}`,
    zone: part("timeZoneName"),
  };
}

/**
 * "14:05 UTC" (or "22:05 GMT+8" in Asia/Taipei) for toasts, replies and the card; "Nov 25 14:05 UTC"
 * when `at` falls on another day in that zone than `reference` (a 24 h silence, a week-long one),
 * so a time is never ambiguous.
 */
export function clockTime(
  at: Date,
  timeZone = "UTC",
  reference: Date = new Date(),
  language: "en" | "zh-TW" = "en",
): string {
  if (Number.isNaN(at.getTime())) return "?";
  const moment = momentIn(at, timeZone, language);
  const time = `${moment.time} ${moment.zone}`;
  return moment.dayKey === momentIn(reference, timeZone).dayKey ? time : `${moment.day} ${time}`;
}

/**
 * "4 min", "45 s", "2 h 10 min" ("4 分鐘", "45 秒", "2 小時 10 分鐘" in zh-TW): how long, for the SLA
 * clock and escalation texts.
 */
export function spanText(seconds: number, language: "en" | "zh-TW" = "en"): string {
  const unit = language === "zh-TW" ? { s: "秒", min: "分鐘", h: "小時" } : { s: "s", min: "min", h: "h" };
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} ${unit.s}`;
  const minutes = Math.round(s / 60);
  if (minutes < 120) return `${minutes} ${unit.min}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} ${unit.h}` : `${hours} ${unit.h} ${rest} ${unit.min}`;
}

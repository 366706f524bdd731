// Dates, times and numbers as people read them, with Intl: times in the organization's zone, dates as the calendar
// date they are (a transcript's date has no zone).

/** `2026-12-01` as `Dec 1, 2026` (a calendar date: no zone moves it). */
export function formatDate(date: string, locale?: string): string {
  const [year, month, day] = date.split('-').map(Number);
  if (!year || !month || !day) return date;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

/** An instant as the date and time on the organization's clocks, with the zone's short name. */
export function formatDateTime(instant: string, timeZone: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(new Date(instant));
}

/** An instant's time of day on the organization's clocks, with the zone's short name. */
export function formatTime(instant: string, timeZone: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone, timeZoneName: 'short' }).format(
    new Date(instant),
  );
}

/** A number in E.164 as people dial it: North American numbers as `(833) 616-1157`, others unchanged. */
export function formatPhone(e164: string): string {
  const north = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return north ? `(${north[1]}) ${north[2]}-${north[3]}` : e164;
}

/** Today's date on the organization's clocks, `2026-12-05`. */
export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The calendar date `days` after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** A person's given and family names as one, the parts they have. */
export function personName(person: { firstName?: string | null; lastName?: string | null }): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ');
}

/** The instant of a `datetime-local` field's value, on the browser's clock; null when empty or not a time. */
export function localInstant(local: string): string | null {
  if (!local) return null;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

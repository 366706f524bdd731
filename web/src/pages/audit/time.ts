// The auditors' time fields: a `datetime-local` value is the auditor's own wall clock.

/** The instant of a `datetime-local` value in the browser's zone, or null when empty or not a time. */
export function instant(local: string): string | null {
  if (!local) return null;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

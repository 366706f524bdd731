// A proxy (a parent, a caregiver) opens the record of someone they act for: the API reads it from `X-Acting-For`.
// Which record is open is kept for the tab (sessionStorage): it is no secret, only an account id and a name, and a
// new tab opens the person's own record.
const KEY = 'portal.actingFor';

/** The record a proxy has open: the patient's account id, name and the scope granted. */
export interface ActingFor {
  patientId: string;
  name: string;
  scope: string;
}

/** The record open in this tab, when it is someone else's. */
export function actingFor(): ActingFor | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as ActingFor | null;
    return saved && typeof saved.patientId === 'string' ? saved : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens `record` (undefined: the person's own) on the portal's home page, in a fresh page: nothing read for the
 * previous record stays in the client's cache.
 */
export function openRecord(record: ActingFor | undefined, home: string): void {
  if (record) sessionStorage.setItem(KEY, JSON.stringify(record));
  else sessionStorage.removeItem(KEY);
  window.location.assign(home);
}

/** What a proxy with `scope` may open: the home page's pages for the record. */
export function pagesInScope(scope: string): readonly string[] {
  switch (scope) {
    case 'SCHEDULING':
      return ['appointments'];
    case 'SCHEDULING_AND_MESSAGES':
      return ['appointments', 'messages'];
    default:
      return ['appointments', 'messages', 'results', 'medications', 'billing'];
  }
}

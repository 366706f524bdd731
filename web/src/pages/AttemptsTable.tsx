import { formatDateTime } from '../format';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';

/** One sign-in attempt as the API answers it. */
export interface Attempt {
  id: string;
  at: string;
  outcome: string;
  clientIp?: string | null;
  userAgent?: string | null;
}

/** Sign-in attempts on an account (your own in the profile, any of the organization's on the staff pages). */
export function AttemptsTable({ caption, attempts }: { caption: string; attempts: readonly Attempt[] }) {
  const t = messages.profile.devices;
  const organization = useOrganization();
  return (
    <table className="stack">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t.when}</th>
          <th scope="col">{t.outcome}</th>
          <th scope="col">{t.from}</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((attempt) => (
          <tr key={attempt.id}>
            <td data-label={t.when}>{formatDateTime(attempt.at, organization.timeZone)}</td>
            <td data-label={t.outcome}>{t.outcomes[attempt.outcome] ?? attempt.outcome}</td>
            <td data-label={t.from}>{[attempt.clientIp, attempt.userAgent].filter(Boolean).join(' · ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

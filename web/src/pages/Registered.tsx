import { Link, useLocation } from 'react-router';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';

/** After Create account: where the activation link went, and what to do next. */
export function Registered() {
  const organization = useOrganization();
  const email = (useLocation().state as { email?: string } | null)?.email;
  return (
    <main id="content" className="page narrow">
      <h1>{messages.registered.title}</h1>
      {email && <p>{messages.registered.sentTo(email)}</p>}
      <p>{messages.registered.next}</p>
      <p>
        <Link to={`/o/${organization.code}/sign-in`}>{messages.registered.signIn}</Link>
      </p>
    </main>
  );
}

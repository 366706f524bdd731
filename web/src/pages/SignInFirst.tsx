import { Link, useLocation } from 'react-router';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';

/** A page that needs a session, opened without one: the way to sign in, and back here after. */
export function SignInFirst() {
  const organization = useOrganization();
  const { pathname, search } = useLocation();
  const next = encodeURIComponent(pathname + search);
  return (
    <main id="content" className="page narrow">
      <p role="alert">{messages.signIn.needed}</p>
      <Link to={`/o/${organization.code}/sign-in?next=${next}`}>{messages.signIn.title}</Link>
    </main>
  );
}

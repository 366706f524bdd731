import { Link } from 'react-router';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';

/** A page that needs a session, opened without one: the way to sign in. */
export function SignInFirst() {
  const organization = useOrganization();
  return (
    <main id="content" className="page narrow">
      <p role="alert">{messages.signIn.needed}</p>
      <Link to={`/o/${organization.code}/sign-in`}>{messages.signIn.title}</Link>
    </main>
  );
}

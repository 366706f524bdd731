import { Outlet, useOutletContext } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { SubNav } from '../../components';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { SignInFirst } from '../SignInFirst';

const AreaQuery = graphql(`
  query ProfileArea {
    me {
      id
      email
      role
    }
  }
`);

/** Who the profile area's pages are about. */
export interface AreaAccount {
  id: string;
  email?: string | null | undefined;
  role: string;
}

/** The signed-in account, inside the profile area. */
export function useAreaAccount(): AreaAccount {
  return useOutletContext<AreaAccount>();
}

/** "My profile": the professional profile, password, e-mail, phones, two-step verification and devices, one page each. */
export function ProfileArea() {
  const organization = useOrganization();
  const [{ data, fetching }] = useQuery({ query: AreaQuery });
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  if (!data?.me) return <SignInFirst />;
  const base = `/o/${organization.code}/profile`;
  // A patient has no professional profile: their area opens on the password.
  const patient = data.me.role === 'PATIENT';
  const pages = [
    patient ? undefined : { to: base, label: messages.profile.nav.profile, end: true },
    { to: `${base}/name`, label: messages.profile.nav.name },
    { to: `${base}/password`, label: messages.profile.nav.password },
    { to: `${base}/email`, label: messages.profile.nav.email },
    { to: `${base}/phones`, label: messages.profile.nav.phones },
    { to: `${base}/two-step`, label: messages.profile.nav.twoStep },
    { to: `${base}/devices`, label: messages.profile.nav.devices },
  ];
  return (
    <div className="page">
      <SubNav label={messages.profile.nav.label} pages={pages.filter((page) => page !== undefined)} />
      <Outlet context={data.me} />
    </div>
  );
}

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
    }
  }
`);

/** Who the profile area's pages are about. */
export interface AreaAccount {
  id: string;
  email?: string | null | undefined;
}

/** The signed-in account, inside the profile area. */
export function useAreaAccount(): AreaAccount {
  return useOutletContext<AreaAccount>();
}

/** "My profile": the professional profile, password, e-mail, phones and devices, one page each under one menu. */
export function ProfileArea() {
  const organization = useOrganization();
  const [{ data, fetching }] = useQuery({ query: AreaQuery });
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  if (!data?.me) return <SignInFirst />;
  const base = `/o/${organization.code}/profile`;
  const pages = [
    { to: base, label: messages.profile.nav.profile, end: true },
    { to: `${base}/password`, label: messages.profile.nav.password },
    { to: `${base}/email`, label: messages.profile.nav.email },
    { to: `${base}/phones`, label: messages.profile.nav.phones },
    { to: `${base}/devices`, label: messages.profile.nav.devices },
  ];
  return (
    <div className="page">
      <SubNav label={messages.profile.nav.label} pages={pages} />
      <Outlet context={data.me} />
    </div>
  );
}

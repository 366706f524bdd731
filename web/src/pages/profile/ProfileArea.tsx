import { NavLink, Outlet, useOutletContext } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
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
    { to: `${base}/password`, label: messages.profile.nav.password, end: false },
    { to: `${base}/email`, label: messages.profile.nav.email, end: false },
    { to: `${base}/phones`, label: messages.profile.nav.phones, end: false },
    { to: `${base}/devices`, label: messages.profile.nav.devices, end: false },
  ];
  return (
    <div className="page">
      <nav aria-label={messages.profile.nav.label} className="subnav">
        <ul>
          {pages.map((page) => (
            <li key={page.to}>
              <NavLink to={page.to} end={page.end}>
                {page.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet context={data.me} />
    </div>
  );
}

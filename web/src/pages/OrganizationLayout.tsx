import { createContext, useContext } from 'react';
import { Link, Navigate, Outlet, useParams } from 'react-router';
import { pinnedOrganization } from '../deployment';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { messages } from '../messages';

/** The organization of a portal, as every page of it shows it. */
export const OrganizationQuery = graphql(`
  query Organization($code: String!) {
    organization(code: $code) {
      id
      code
      name
      timeZone
      smsNumber
    }
  }
`);

/** The organization whose portal is open. */
export interface CurrentOrganization {
  id: string;
  code: string;
  name: string;
  /** The IANA zone its times are shown in. */
  timeZone: string;
  /** The number learners text (E.164), when it receives texts. */
  smsNumber?: string | null | undefined;
}

const OrganizationContext = createContext<CurrentOrganization | null>(null);

/** The organization of the page (inside an organization's portal). */
export function useOrganization(): CurrentOrganization {
  const organization = useContext(OrganizationContext);
  if (!organization) throw new Error('useOrganization outside an organization');
  return organization;
}

/** An organization's portal: its name on every page, its pages below. */
export function OrganizationLayout() {
  const { code = '' } = useParams();
  const elsewhere = pinnedOrganization !== undefined && code !== pinnedOrganization;
  const [{ data, fetching, error }] = useQuery({ query: OrganizationQuery, variables: { code }, pause: elsewhere });
  // A deployment pinned to one organization offers no other.
  if (elsewhere) return <Navigate to={`/o/${pinnedOrganization}/`} replace />;
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  const organization = data?.organization;
  if (!organization) {
    return (
      <main id="content" className="page narrow">
        <p role="alert">{error ? messages.errors.network : messages.organization.notFound(code)}</p>
        {!pinnedOrganization && <Link to="/">{messages.organization.choose}</Link>}
      </main>
    );
  }
  return (
    <OrganizationContext.Provider value={organization}>
      <a className="skip" href="#content">
        {messages.skipToContent}
      </a>
      <header className="banner">
        <Link to={`/o/${organization.code}/`} className="brand">
          {organization.name}
        </Link>
      </header>
      <Outlet />
    </OrganizationContext.Provider>
  );
}

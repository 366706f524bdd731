import { createContext, useContext } from 'react';
import { Link, Navigate, Outlet, useParams } from 'react-router';
import { pinnedOrganization } from '../deployment';
import { useClient, useQuery } from 'urql';
import { graphql } from '../gql';
import { messages } from '../messages';
import { actingFor, openRecord } from '../acting';

/** The organization of a portal, as every page of it shows it. */
export const OrganizationQuery = graphql(`
  query Organization($code: String!) {
    organization(code: $code) {
      id
      code
      name
      timeZone
      smsNumber
      displayName
      calendarPublic
      help {
        phone
        hours
        email
        web
      }
    }
  }
`);

/** How people reach an organization's help desk (each part absent when not given). */
export interface HelpContacts {
  phone?: string | null | undefined;
  hours?: string | null | undefined;
  email?: string | null | undefined;
  web?: string | null | undefined;
}

/** The organization whose portal is open. */
export interface CurrentOrganization {
  id: string;
  code: string;
  name: string;
  /** The IANA zone its times are shown in. */
  timeZone: string;
  /** The number learners text (E.164), when it receives texts. */
  smsNumber?: string | null | undefined;
  /** The name its help desk or portal goes by (else its name). */
  displayName?: string;
  /** How people reach its help desk. */
  help?: HelpContacts;
  /** Whether anyone may browse its calendar without signing in. */
  calendarPublic?: boolean;
}

/** How to reach the help desk, at the foot of every page (every seed ends with a number to call and its hours). */
function HelpFooter({ organization }: { organization: CurrentOrganization }) {
  const help = organization.help;
  if (!help || !(help.phone || help.email || help.web)) return null;
  const t = messages.help;
  return (
    <footer className="help-footer">
      <p>
        {t.intro(organization.displayName ?? organization.name)}{' '}
        {help.phone && (
          <span>
            {t.call} <a href={`tel:${help.phone.replace(/[^0-9+]/g, '')}`}>{help.phone}</a>
            {help.hours && ` (${help.hours})`}.{' '}
          </span>
        )}
        {help.email && (
          <span>
            {t.write} <a href={`mailto:${help.email}`}>{help.email}</a>.{' '}
          </span>
        )}
        {help.web && (
          <span>
            {t.visit} <a href={help.web}>{help.web}</a>.
          </span>
        )}
      </p>
    </footer>
  );
}

const OrganizationContext = createContext<CurrentOrganization | null>(null);

/** The organization of the page (inside an organization's portal). */
export function useOrganization(): CurrentOrganization {
  const organization = useContext(OrganizationContext);
  if (!organization) throw new Error('useOrganization outside an organization');
  return organization;
}

/** Reads the organization of the page again (after staff changed what every page shows: its zone, number, help). */
export function useRefreshOrganization(): () => Promise<void> {
  const organization = useOrganization();
  const client = useClient();
  return async () => {
    await client.query(OrganizationQuery, { code: organization.code }, { requestPolicy: 'network-only' }).toPromise();
  };
}

/** Whose record is open, on every page, while a proxy acts for someone (seed 001: "says whose record is open"). */
function ActingBanner({ home }: { home: string }) {
  const record = actingFor();
  if (!record) return null;
  return (
    <div className="acting" role="status">
      <span>{messages.acting.viewing(record.name)}</span>{' '}
      <button type="button" className="small" onClick={() => openRecord(undefined, home)}>
        {messages.acting.own}
      </button>
    </div>
  );
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
      <ActingBanner home={`/o/${organization.code}/`} />
      <Outlet />
      <HelpFooter organization={organization} />
    </OrganizationContext.Provider>
  );
}

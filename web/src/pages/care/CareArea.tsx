import { Suspense } from 'react';
import { Outlet, useOutletContext } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { SubNav } from '../../components';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { SignInFirst } from '../SignInFirst';

const CareAreaQuery = graphql(`
  query CareArea {
    me {
      id
      role
    }
  }
`);

/** The signed-in member of the care team, inside the care team's pages. */
export function useCareMember(): { id: string } {
  return useOutletContext<{ id: string }>();
}

/** Seed 001's other side: the care team's inbox, held results and renewal requests; for providers and staff. */
export function CareArea() {
  const organization = useOrganization();
  const [{ data, fetching }] = useQuery({ query: CareAreaQuery });
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  if (!data?.me) return <SignInFirst />;
  if (data.me.role !== 'PROVIDER' && data.me.role !== 'STAFF') {
    return (
      <main id="content" className="page narrow">
        <p role="alert">{messages.care.onlyCare}</p>
      </main>
    );
  }
  const base = `/o/${organization.code}/care`;
  const pages = [
    { to: base, label: messages.care.nav.inbox, end: true },
    { to: `${base}/results`, label: messages.care.nav.results },
    { to: `${base}/renewals`, label: messages.care.nav.renewals },
  ];
  return (
    <div className="page">
      <SubNav label={messages.care.nav.label} pages={pages} />
      <Suspense fallback={<p>{messages.loading}</p>}>
        <Outlet context={{ id: data.me.id }} />
      </Suspense>
    </div>
  );
}

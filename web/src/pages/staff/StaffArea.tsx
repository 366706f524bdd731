import { Suspense } from 'react';
import { Outlet } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { SubNav } from '../../components';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { SignInFirst } from '../SignInFirst';

const StaffAreaQuery = graphql(`
  query StaffArea {
    me {
      id
      role
    }
  }
`);

/** The staff pages of seed 002's coordinators, one page each under one menu; only for the organization's staff. */
export function StaffArea() {
  const organization = useOrganization();
  const [{ data, fetching }] = useQuery({ query: StaffAreaQuery });
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  if (!data?.me) return <SignInFirst />;
  if (data.me.role !== 'STAFF') {
    return (
      <main id="content" className="page narrow">
        <p role="alert">{messages.staff.onlyStaff}</p>
      </main>
    );
  }
  const base = `/o/${organization.code}/staff`;
  const pages = [
    { to: base, label: messages.staff.nav.schedule, end: true },
    { to: `${base}/sign-in-sheet`, label: messages.staff.nav.sheet },
    { to: `${base}/locked`, label: messages.staff.nav.locked },
    { to: `${base}/invite`, label: messages.staff.nav.invite },
    { to: `${base}/settings`, label: messages.staff.nav.settings },
    { to: `${base}/messages`, label: messages.staff.nav.messages },
    { to: `${base}/deliveries`, label: messages.staff.nav.deliveries },
    { to: `${base}/reports`, label: messages.staff.nav.reports },
    { to: `${base}/patients`, label: messages.staff.nav.patients },
    { to: `${base}/sign-up-requests`, label: messages.staff.nav.requests },
    { to: `${base}/day`, label: messages.staff.nav.day },
    { to: `${base}/catalogue`, label: messages.staff.nav.catalogue },
    { to: `${base}/statements`, label: messages.staff.nav.statements },
    { to: `${base}/policies`, label: messages.staff.nav.policies },
  ];
  return (
    <div className="page">
      <SubNav label={messages.staff.nav.label} pages={pages} />
      <Suspense fallback={<p>{messages.loading}</p>}>
        <Outlet />
      </Suspense>
    </div>
  );
}

import { Suspense } from 'react';
import { Outlet } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { SubNav } from '../../components';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { SignInFirst } from '../SignInFirst';

const AuditAreaQuery = graphql(`
  query AuditArea {
    me {
      id
      role
    }
  }
`);

/** The auditors' pages: the access log, a stream's history, and an account or transcript as of a time. Reading only. */
export function AuditArea() {
  const organization = useOrganization();
  const [{ data, fetching }] = useQuery({ query: AuditAreaQuery });
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  if (!data?.me) return <SignInFirst />;
  if (data.me.role !== 'AUDITOR') {
    return (
      <main id="content" className="page narrow">
        <p role="alert">{messages.audit.onlyAuditors}</p>
      </main>
    );
  }
  const base = `/o/${organization.code}/audit`;
  const pages = [
    { to: base, label: messages.audit.nav.accessLog, end: true },
    { to: `${base}/history`, label: messages.audit.nav.history },
    { to: `${base}/as-of`, label: messages.audit.nav.asOf },
  ];
  return (
    <div className="page">
      <SubNav label={messages.audit.nav.label} pages={pages} />
      <Suspense fallback={<p>{messages.loading}</p>}>
        <Outlet />
      </Suspense>
    </div>
  );
}

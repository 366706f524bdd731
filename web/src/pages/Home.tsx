import { useEffect, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { TermsGate } from './patient/AcceptTerms';
import { useUnreadMessages } from './patient/Messages';
import { actingFor, openRecord, pagesInScope, type ActingFor } from '../acting';
import { formatDate } from '../format';

/** The patient's Messages link, with the unread count kept live. */
function MessagesLink() {
  const unread = useUnreadMessages();
  return unread ? messages.patientHome.unread(unread) : messages.patientHome.messages;
}

const ProxyPatientsQuery = graphql(`
  query ProxyPatients {
    proxyPatients {
      ...ProxyGrantItem
    }
  }
`);

/** Seed 001's proxy access, the proxy's side: the records they may open (their own, and those they act for). */
function Records({ open, home }: { open: ActingFor | undefined; home: string }) {
  const t = messages.acting;
  const [{ data }] = useQuery({ query: ProxyPatientsQuery, requestPolicy: 'cache-and-network' });
  const grants = (data?.proxyPatients ?? []).filter((grant) => grant.scope);
  if (grants.length === 0 && !open) return null;
  return (
    <section aria-labelledby="records">
      <h2 id="records">{t.records}</h2>
      <ul className="links">
        <li>
          {open ? (
            <button type="button" className="secondary small" onClick={() => openRecord(undefined, home)}>
              {t.yours}
            </button>
          ) : (
            <strong>{t.yours}</strong>
          )}
        </li>
        {grants.map((grant) => {
          const scope = grant.scope ?? grant.grantedScope;
          return (
            <li key={grant.id}>
              {open?.patientId === grant.patientId ? (
                <strong>{grant.patientName}</strong>
              ) : (
                <button type="button" className="secondary small"
                  onClick={() => openRecord({ patientId: grant.patientId, name: grant.patientName, scope }, home)}>
                  {t.open(grant.patientName)}
                </button>
              )}{' '}
              {t.scopeUntil(t.scopes[scope] ?? scope, formatDate(grant.endsOn))}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

const MeQuery = graphql(`
  query Me {
    me {
      id
      firstName
      lastName
      email
      role
      termsAcceptedVersion
    }
  }
`);

const SignOutMutation = graphql(`
  mutation SignOut($input: SignOutInput) {
    signOut(input: $input) {
      position
    }
  }
`);

/** The signed-in person's home in their organization's portal; without a session, the sign-in page. */
export function Home() {
  const organization = useOrganization();
  const navigate = useNavigate();
  const [{ data, fetching }] = useQuery({ query: MeQuery, requestPolicy: 'network-only' });
  const [, signOut] = useMutation(SignOutMutation);
  const me = data?.me;
  const signIn = `/o/${organization.code}/sign-in`;

  useEffect(() => {
    if (!fetching && !me) void navigate(signIn, { replace: true });
  }, [fetching, me, navigate, signIn]);

  if (!me) return <p className="page">{messages.loading}</p>;
  const leave = async () => {
    await command((commandId) => signOut({ input: { commandId } }));
    // Signed out, no one's record stays open in the tab.
    openRecord(undefined, signIn);
  };
  const base = `/o/${organization.code}`;
  const patient = me.role === 'PATIENT';
  // The portal's pages for this person: a patient's, or a clinician's CE pages; then the profile (and staff pages).
  const care = me.role === 'PROVIDER' || me.role === 'STAFF';
  // A proxy with someone's record open sees its pages within their scope (live counts are their own: not shown).
  const record = patient ? actingFor() : undefined;
  const patientPages: [string, ReactNode][] = [
    ['appointments', messages.patientHome.appointments],
    ['messages', record ? messages.patientHome.messages : <MessagesLink key="messages" />],
    ['results', messages.patientHome.results],
    ['medications', messages.patientHome.medications],
    ['billing', messages.patientHome.billing],
  ];
  const pages: [string, ReactNode][] = [
    ...(patient
      ? [
          ...patientPages.filter(([path]) => !record || pagesInScope(record.scope).includes(path)),
          ...(record ? [] : [['access', messages.access.link]]),
        ]
      : me.role === 'PROVIDER' || me.role === 'AUDITOR'
        ? []
        : [
            ['attendance', messages.home.recordAttendance],
            ['transcript', messages.home.transcript],
            ['calendar', messages.home.calendar],
          ]),
    ...(care ? [['care', messages.home.care]] : []),
    ...(me.role === 'AUDITOR' ? [['audit', messages.home.audit]] : []),
    ['profile', messages.home.profile],
    ...(me.role === 'STAFF' ? [['staff', messages.home.staff]] : []),
  ] as [string, ReactNode][];
  const home = (
    <main id="content" className="page">
      <h1>{patient ? messages.patientHome.title : messages.home.title}</h1>
      <p>{messages.home.welcome(me.firstName ?? '')}</p>
      {me.email && <p>{messages.home.signedInAs(me.email)}</p>}
      <nav aria-label={messages.home.navigation}>
        <ul className="links">
          {pages.map(([path, label]) => (
            <li key={path}>
              <Link to={`${base}/${path}`}>{label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      {patient && <Records open={record} home={`${base}/`} />}
      <button type="button" onClick={() => void leave()}>
        {messages.home.signOut}
      </button>
    </main>
  );
  // Learners and patients accept the terms in force before anything else (seed 001, step 4), as the API asks.
  const gated = patient || me.role === 'LEARNER';
  return gated ? <TermsGate accepted={me.termsAcceptedVersion}>{home}</TermsGate> : home;
}

import { useEffect, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { TermsGate } from './patient/AcceptTerms';
import { useUnreadMessages } from './patient/Messages';

/** The patient's Messages link, with the unread count kept live. */
function MessagesLink() {
  const unread = useUnreadMessages();
  return unread ? messages.patientHome.unread(unread) : messages.patientHome.messages;
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
    await navigate(signIn, { replace: true });
  };
  const base = `/o/${organization.code}`;
  const patient = me.role === 'PATIENT';
  // The portal's pages for this person: a patient's, or a clinician's CE pages; then the profile (and staff pages).
  const care = me.role === 'PROVIDER' || me.role === 'STAFF';
  const pages: [string, ReactNode][] = [
    ...(patient
      ? [
          ['appointments', messages.patientHome.appointments],
          ['messages', <MessagesLink key="messages" />],
          ['results', messages.patientHome.results],
          ['medications', messages.patientHome.medications],
          ['billing', messages.patientHome.billing],
        ]
      : me.role === 'PROVIDER'
        ? []
        : [
            ['attendance', messages.home.recordAttendance],
            ['transcript', messages.home.transcript],
            ['calendar', messages.home.calendar],
          ]),
    ...(care ? [['care', messages.home.care]] : []),
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
      <button type="button" onClick={() => void leave()}>
        {messages.home.signOut}
      </button>
    </main>
  );
  // Learners and patients accept the terms in force before anything else (seed 001, step 4), as the API asks.
  const gated = patient || me.role === 'LEARNER';
  return gated ? <TermsGate accepted={me.termsAcceptedVersion}>{home}</TermsGate> : home;
}

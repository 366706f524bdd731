import { useCallback, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import { graphql } from '../../gql';
import { Field, FormAlert, SelectField, TextArea } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { useOnChange } from '../../live';
import { actingFor } from '../../acting';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { Thread } from '../Thread';

/** Whom an appointment was with: the patient may write to the providers of their booked appointments. */
export const SeenProvider = graphql(`
  fragment SeenProvider on AppointmentView {
    id
    providerId
    provider
    status
  }
`);

const ConversationsQuery = graphql(`
  query Conversations {
    conversations {
      ...ConversationItem
    }
    upcoming: myAppointments(upcoming: true) {
      ...SeenProvider
    }
    past: myAppointments(upcoming: false) {
      ...SeenProvider
    }
  }
`);

const UnreadSubscription = graphql(`
  subscription UnreadMessages {
    unreadMessages
  }
`);

const StartMutation = graphql(`
  mutation StartConversation($input: StartConversationInput!) {
    startConversation(input: $input) {
      conversation {
        ...ConversationThread
      }
    }
  }
`);

/** The patient's unread messages from their care teams, live: undefined until the server first says. */
export function useUnreadMessages(): number | undefined {
  // A socket cannot carry a proxy's open record: the count would be the proxy's own, so a proxy's page has none.
  const [{ data }] = useSubscription({ query: UnreadSubscription, pause: actingFor() !== undefined });
  return data?.unreadMessages;
}

/** Starts a conversation with one of the providers or care teams the patient has an appointment with. */
function StartForm({ teams }: { teams: { value: string; label: string }[] }) {
  const t = messages.conversations;
  const organization = useOrganization();
  const navigate = useNavigate();
  const [teamId, setTeamId] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [{ fetching }, start] = useMutation(StartMutation);
  const form = useCommand();
  if (teams.length === 0) return <p>{t.noProviders}</p>;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let opened: string | undefined;
    await form.run(
      (commandId) => start({ input: { teamId, subject, body, commandId } }),
      (data) => {
        opened = data.startConversation.conversation?.id;
        return undefined;
      },
    );
    if (opened) await navigate(`/o/${organization.code}/messages/${opened}`);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.start}>
      <h2>{t.start}</h2>
      <FormAlert message={form.errors.form} />
      <SelectField label={t.to} name="teamId" value={teamId} options={teams} placeholder={t.chooseTo}
        error={form.errors.fields.teamId} onChange={(e) => setTeamId(e.target.value)} />
      <Field label={t.subject} name="subject" value={subject} maxLength={150} error={form.errors.fields.subject}
        onChange={(e) => setSubject(e.target.value)} />
      <TextArea label={t.body} name="body" value={body} rows={5} maxLength={10_000} error={form.errors.fields.body}
        onChange={(e) => setBody(e.target.value)} />
      <button type="submit" disabled={fetching}>
        {t.send}
      </button>
    </form>
  );
}

/** Seed 001's messages: the patient's conversations with their unread counts (live), and a new message. */
export function Messages() {
  const t = messages.conversations;
  const organization = useOrganization();
  const unread = useUnreadMessages();
  // The live count changes when a reply arrives or one is read: the list is read again with it.
  const [{ data, error }, reread] = useQuery({ query: ConversationsQuery, requestPolicy: 'cache-and-network' });
  useOnChange(unread, useCallback(() => reread({ requestPolicy: 'network-only' }), [reread]));
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);
  const teams = new Map<string, string>();
  for (const appointment of [...(data?.upcoming ?? []), ...(data?.past ?? [])]) {
    if (appointment.status === 'booked') teams.set(appointment.providerId, appointment.provider);
  }
  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <p role="status">{unread !== undefined && t.unread(unread)}</p>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && data.conversations.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.conversations.map((conversation) => (
          <li key={conversation.id} className="card">
            <h2 className="card-title">
              <Link to={conversation.id}>{conversation.subject ?? t.noSubject}</Link>
            </h2>
            <p>{t.item(conversation.team, when(conversation.lastMessageAt))}</p>
            {conversation.unreadCount > 0 && <p className="badge">{t.unreadIn(conversation.unreadCount)}</p>}
            {conversation.status === 'closed' && <p>{t.closed}</p>}
          </li>
        ))}
      </ul>
      {data && <StartForm teams={[...teams].map(([value, label]) => ({ value, label }))} />}
    </main>
  );
}

/** One of the patient's conversations, read live: a reply from the care team shows at once, and is marked read. */
export function Conversation() {
  const { conversationId = '' } = useParams();
  const organization = useOrganization();
  const unread = useUnreadMessages();
  return (
    <main id="content" className="page">
      <p>
        <Link to={`/o/${organization.code}/messages`}>{messages.thread.all}</Link>
      </p>
      <Thread
        id={conversationId}
        reader={{ side: 'patient' }}
        version={unread}
        heading={(conversation) => (
          <>
            <h1>{conversation.subject ?? messages.conversations.noSubject}</h1>
            <p>{messages.conversations.item(conversation.team, formatDateTime(conversation.lastMessageAt, organization.timeZone))}</p>
            <p className="hint">{messages.thread.notices}</p>
          </>
        )}
      />
    </main>
  );
}

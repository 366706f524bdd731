import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { ConversationItemFragment } from '../../gql/graphql';
import { Done, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { Thread } from '../Thread';
import { useCareMember } from './CareArea';
import type { MedicationsLinkState } from './PatientMedications';

const InboxQuery = graphql(`
  query CareTeamInbox {
    careTeamInbox {
      ...ConversationItem
    }
  }
`);

const PickUpMutation = graphql(`
  mutation PickUpConversation($conversationId: ID!) {
    pickUpConversation(conversationId: $conversationId) {
      conversation {
        ...ConversationThread
      }
    }
  }
`);

const CloseMutation = graphql(`
  mutation CloseConversation($conversationId: ID!) {
    closeConversation(conversationId: $conversationId) {
      conversation {
        ...ConversationThread
      }
    }
  }
`);

/** How often the inbox looks for new conversations while it is open (the API has no care-team subscription). */
const CHECK_EVERY_MS = 20_000;

/** One list of the inbox: the pool or the member's own. */
function InboxList({ title, items, pickUp }: {
  title: string;
  items: ConversationItemFragment[];
  pickUp?: (conversation: ConversationItemFragment) => void;
}) {
  const t = messages.care.inbox;
  const organization = useOrganization();
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {items.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {items.map((conversation) => {
          const subject = conversation.subject ?? messages.conversations.noSubject;
          const patient = conversation.patientName ?? messages.care.unknownPatient;
          return (
            <li key={conversation.id} className="card">
              <h3 className="card-title">
                <Link to={conversation.id}>{subject}</Link>
              </h3>
              <p>{t.item(patient, conversation.team, formatDateTime(conversation.lastMessageAt, organization.timeZone))}</p>
              {conversation.unreadCount > 0 && (
                <p className="badge">{messages.conversations.unreadIn(conversation.unreadCount)}</p>
              )}
              {pickUp && (
                <button type="button" className="small" onClick={() => pickUp(conversation)}>
                  {t.pickUp(subject)}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The care team's inbox: conversations nobody picked up, and the member's own; checked again while open. */
export function Inbox() {
  const t = messages.care.inbox;
  const [{ data, error }, reread] = useQuery({ query: InboxQuery, requestPolicy: 'cache-and-network' });
  const [, pickUp] = useMutation(PickUpMutation);
  const form = useCommand(['conversationId']);
  useEffect(() => {
    const check = setInterval(() => reread({ requestPolicy: 'network-only' }), CHECK_EVERY_MS);
    return () => clearInterval(check);
  }, [reread]);
  const inbox = data?.careTeamInbox ?? [];
  const take = (conversation: ConversationItemFragment) =>
    void form.run(
      () => pickUp({ conversationId: conversation.id }),
      () => {
        reread({ requestPolicy: 'network-only' });
        return t.pickedUp(conversation.subject ?? messages.conversations.noSubject);
      },
    );
  return (
    <main id="content">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert message={error ? formErrors(error).form : form.errors.form} />
      <Done message={form.said} />
      <button type="button" className="small" onClick={() => reread({ requestPolicy: 'network-only' })}>
        {t.refresh}
      </button>
      {data && (
        <>
          <InboxList title={t.pool} items={inbox.filter((c) => !c.assigneeId)} pickUp={take} />
          <InboxList title={t.mine} items={inbox.filter((c) => c.assigneeId)} />
        </>
      )}
    </main>
  );
}

/** One conversation of the care team: read, reply (which picks it up), close. */
export function CareConversation() {
  const t = messages.care.conversation;
  const { conversationId = '' } = useParams();
  const organization = useOrganization();
  const member = useCareMember();
  const [{ fetching }, close] = useMutation(CloseMutation);
  // Closing answers the closed conversation: the thread then says it is closed.
  const form = useCommand(['conversationId']);
  return (
    <main id="content">
      <p>
        <Link to={`/o/${organization.code}/care`}>{t.all}</Link>
      </p>
      <Thread
        id={conversationId}
        reader={{ side: 'care_team', memberId: member.id }}
        heading={(conversation) => {
          const patient = conversation.patientName ?? messages.care.unknownPatient;
          const state: MedicationsLinkState = { patient, team: conversation.teamId };
          return (
            <>
              <h1>{conversation.subject ?? messages.conversations.noSubject}</h1>
              <p>{t.title(patient)}</p>
              <p>
                <Link to={`/o/${organization.code}/care/patients/${conversation.patientId}/medications`} state={state}>
                  {messages.care.medications.link(patient)}
                </Link>
              </p>
            </>
          );
        }}
      >
        {(conversation) =>
          conversation.status === 'open' && (
            <>
              <FormAlert message={form.errors.form} />
              <button type="button" disabled={fetching}
                onClick={() => void form.run(() => close({ conversationId }), () => undefined)}>
                {t.close}
              </button>
            </>
          )
        }
      </Thread>
    </main>
  );
}

// One conversation between a patient and a care team, as either side reads and answers it: the messages oldest first
// with their read receipts, and the reply form while the conversation is open.
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { ConversationThreadFragment } from '../gql/graphql';
import { Done, FormAlert, TextArea } from '../components';
import { formErrors } from '../errors';
import { formatDateTime } from '../format';
import { useCommand } from '../forms';
import { useOnChange } from '../live';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';

/** A conversation as the lists show it. */
export const ConversationItem = graphql(`
  fragment ConversationItem on ConversationView {
    id
    patientId
    patientName
    teamId
    team
    subject
    status
    assigneeId
    lastMessageAt
    closedAt
    messageCount
    unreadCount
  }
`);

/** A conversation with its messages, as the thread shows it and every conversation mutation answers it. */
export const ConversationThread = graphql(`
  fragment ConversationThread on ConversationView {
    ...ConversationItem
    messages {
      id
      from
      authorId
      body
      attachment
      sentAt
      readAt
    }
  }
`);

const ConversationQuery = graphql(`
  query Conversation($id: ID!) {
    conversation(id: $id) {
      ...ConversationThread
    }
  }
`);

const ReplyMutation = graphql(`
  mutation ReplyToConversation($input: ReplyInput!) {
    replyToConversation(input: $input) {
      conversation {
        ...ConversationThread
      }
    }
  }
`);

const MarkReadMutation = graphql(`
  mutation MarkConversationRead($conversationId: ID!) {
    markConversationRead(conversationId: $conversationId) {
      conversation {
        ...ConversationThread
      }
    }
  }
`);

/** Which side reads the thread: the patient (or their proxy), or a member of the care team (their account id). */
export type Reader = { side: 'patient' } | { side: 'care_team'; memberId: string };

type Message = NonNullable<ConversationThreadFragment['messages']>[number];

/** Who wrote a message, as the reader calls them. */
function author(message: Message, conversation: ConversationThreadFragment, reader: Reader): string {
  const t = messages.thread;
  if (message.from === 'patient') {
    return reader.side === 'patient' ? t.you : (conversation.patientName ?? t.patient);
  }
  if (reader.side === 'care_team' && message.authorId === reader.memberId) return t.you;
  return reader.side === 'patient' ? conversation.team : t.careTeam;
}

/**
 * The conversation `id` for `reader`: read at once (the other side's messages marked read when any is unread), and
 * read again whenever `version` changes (the patient's page passes the live unread count). `children` come after
 * the reply form (the care team's Close).
 */
export function Thread({
  id,
  reader,
  version,
  heading,
  children,
}: {
  id: string;
  reader: Reader;
  version?: number;
  heading: (conversation: ConversationThreadFragment) => ReactNode;
  children?: (conversation: ConversationThreadFragment) => ReactNode;
}) {
  const t = messages.thread;
  const organization = useOrganization();
  const [{ data, error }, reread] = useQuery({
    query: ConversationQuery,
    variables: { id },
    requestPolicy: 'cache-and-network',
  });
  const [, markRead] = useMutation(MarkReadMutation);
  const [{ fetching }, reply] = useMutation(ReplyMutation);
  const [body, setBody] = useState('');
  const form = useCommand(['conversationId']);
  const conversation = data?.conversation as ConversationThreadFragment | undefined;
  const unread = conversation?.unreadCount ?? 0;

  useOnChange(version, useCallback(() => reread({ requestPolicy: 'network-only' }), [reread]));
  useEffect(() => {
    // Reading the page is reading the messages: their read receipts go to the other side.
    if (unread > 0) void markRead({ conversationId: id });
  }, [unread, id, markRead]);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const sent = await form.run(
      (commandId) => reply({ input: { conversationId: id, body, commandId } }),
      () => t.sent,
    );
    if (sent) setBody('');
  };
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);

  if (!conversation) {
    return <FormAlert message={error ? formErrors(error).form : undefined} />;
  }
  const open = conversation.status === 'open';
  return (
    <>
      {heading(conversation)}
      <ol className="thread">
        {(conversation.messages ?? []).map((message) => {
          const mine = author(message, conversation, reader) === t.you;
          return (
            <li key={message.id} className={mine ? 'message mine' : 'message'}>
              <p className="message-author">{t.said(author(message, conversation, reader), when(message.sentAt))}</p>
              <p className="message-body">{message.body ?? t.erased}</p>
              {mine && message.readAt && <p className="hint">{t.read(when(message.readAt))}</p>}
            </li>
          );
        })}
      </ol>
      {open ? (
        <form onSubmit={(e) => void send(e)} noValidate aria-label={t.replyForm}>
          <FormAlert message={form.errors.form} />
          <Done message={form.said} />
          <TextArea label={t.reply} name="body" value={body} rows={4} maxLength={10_000}
            error={form.errors.fields.body} onChange={(e) => setBody(e.target.value)} />
          <button type="submit" disabled={fetching}>
            {t.send}
          </button>
        </form>
      ) : (
        <p role="status">{reader.side === 'patient' ? t.closed : messages.care.conversation.closed}</p>
      )}
      {children?.(conversation)}
    </>
  );
}

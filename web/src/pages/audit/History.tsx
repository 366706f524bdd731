import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const StreamsQuery = graphql(`
  query StreamsOf($accountId: ID!) {
    streamsOf(accountId: $accountId)
  }
`);

const HistoryQuery = graphql(`
  query StreamHistory($stream: String!, $after: String) {
    streamHistory(stream: $stream, first: 50, after: $after) {
      edges {
        cursor
        node {
          id
          position
          version
          eventType
          schemaVersion
          recordedAt
          actor
          onBehalfOf
          command
          data
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** One page of a stream's events, with the next one below it when asked for. */
function Events({ stream, after }: { stream: string; after: string | null }) {
  const t = messages.audit.history;
  const organization = useOrganization();
  const [more, setMore] = useState(false);
  const [{ data, error }] = useQuery({ query: HistoryQuery, variables: { stream, after } });
  if (error) return <FormAlert message={formErrors(error).form} />;
  if (!data) return null;
  const history = data.streamHistory;
  return (
    <>
      <ol className="cards">
        {history.edges.map(({ node }) => (
          <li key={node.id} className="card">
            <h3 className="card-title">{`${node.version}. ${node.eventType} (v${node.schemaVersion})`}</h3>
            <dl className="facts">
              <dt>{t.recorded}</dt>
              <dd>{formatDateTime(node.recordedAt, organization.timeZone)}</dd>
              <dt>{t.position}</dt>
              <dd>{node.position}</dd>
              {node.actor && (
                <>
                  <dt>{t.actor}</dt>
                  <dd>{node.command ? `${node.actor} · ${node.command}` : node.actor}</dd>
                </>
              )}
              {node.onBehalfOf && (
                <>
                  <dt>{t.onBehalfOf}</dt>
                  <dd>{node.onBehalfOf}</dd>
                </>
              )}
            </dl>
            <details>
              <summary>{t.body}</summary>
              <pre className="preserve">{JSON.stringify(node.data, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
      {more && history.pageInfo.endCursor ? (
        <Events stream={stream} after={history.pageInfo.endCursor} />
      ) : (
        history.pageInfo.hasNextPage && (
          <button type="button" className="secondary" onClick={() => setMore(true)}>
            {messages.audit.more}
          </button>
        )
      )}
    </>
  );
}

/** An account's streams, and the events of the one chosen, exactly as they were written. */
export function History() {
  const t = messages.audit;
  const [draft, setDraft] = useState('');
  const [accountId, setAccountId] = useState('');
  const [stream, setStream] = useState<string | undefined>();
  const [{ data, error }] = useQuery({ query: StreamsQuery, variables: { accountId }, pause: !accountId });
  const show = (event: FormEvent) => {
    event.preventDefault();
    setAccountId(draft.trim());
    setStream(undefined);
  };
  return (
    <main id="content">
      <h1>{t.history.title}</h1>
      <p>{t.history.intro}</p>
      <p className="hint">{t.readOnly}</p>
      <form className="filters" onSubmit={show} aria-label={t.history.title}>
        <Field label={t.accountId} name="accountId" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit">{t.show}</button>
      </form>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && (
        <section aria-labelledby="streams">
          <h2 id="streams">{t.history.streams}</h2>
          {data.streamsOf.length === 0 && <p>{t.none}</p>}
          <ul className="links">
            {data.streamsOf.map((name) => (
              <li key={name}>
                <button type="button" className="secondary small" aria-pressed={stream === name}
                  onClick={() => setStream(name)}>
                  {name}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {stream && (
        <section aria-labelledby="events">
          <h2 id="events">{t.history.events(stream)}</h2>
          <Events key={stream} stream={stream} after={null} />
        </section>
      )}
    </main>
  );
}

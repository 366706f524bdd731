import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime, localInstant } from '../../format';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';


const AccessLogQuery = graphql(`
  query AccessLog($patientId: ID, $actorId: ID, $from: DateTime, $to: DateTime, $after: String) {
    accessLog(patientId: $patientId, actorId: $actorId, from: $from, to: $to, first: 50, after: $after) {
      edges {
        cursor
        node {
          id
          at
          actorId
          actorRole
          patientAccountId
          patientRecordId
          signupRequestId
          resource
          field
          clientIp
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

interface Filters {
  patientId: string;
  actorId: string;
  from: string;
  to: string;
}

/** One page of the log, with the next one below it when asked for. */
function LogPage({ filters, after }: { filters: Filters; after: string | null }) {
  const t = messages.audit.accessLog;
  const organization = useOrganization();
  const [more, setMore] = useState(false);
  const [{ data, error }] = useQuery({
    query: AccessLogQuery,
    variables: {
      patientId: filters.patientId.trim() || null,
      actorId: filters.actorId.trim() || null,
      from: localInstant(filters.from),
      to: localInstant(filters.to),
      after,
    },
  });
  if (error) return <FormAlert message={formErrors(error).form} />;
  if (!data) return null;
  const log = data.accessLog;
  return (
    <>
      {log.edges.length === 0 && after === null && <p>{messages.audit.none}</p>}
      {log.edges.length > 0 && (
        <table className="stack">
          {after === null && <caption>{t.title}</caption>}
          <thead>
            <tr>
              <th scope="col">{t.when}</th>
              <th scope="col">{t.reader}</th>
              <th scope="col">{t.patient}</th>
              <th scope="col">{t.what}</th>
              <th scope="col">{t.from}</th>
            </tr>
          </thead>
          <tbody>
            {log.edges.map(({ node }) => (
              <tr key={node.id}>
                <td data-label={t.when}>{formatDateTime(node.at, organization.timeZone)}</td>
                <td data-label={t.reader}>{t.readerValue(node.actorId, node.actorRole)}</td>
                <td data-label={t.patient}>
                  {node.patientAccountId ?? node.patientRecordId ?? node.signupRequestId ?? ''}
                </td>
                <td data-label={t.what}>{`${node.resource} · ${node.field}`}</td>
                <td data-label={t.from}>{node.clientIp ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && log.pageInfo.endCursor ? (
        <LogPage filters={filters} after={log.pageInfo.endCursor} />
      ) : (
        log.pageInfo.hasNextPage && (
          <button type="button" className="secondary" onClick={() => setMore(true)}>
            {messages.audit.more}
          </button>
        )
      )}
    </>
  );
}

/** The access log of the organization: every read of a patient's data, by patient, reader and time. */
export function AccessLog() {
  const t = messages.audit;
  const [draft, setDraft] = useState<Filters>({ patientId: '', actorId: '', from: '', to: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [key]: e.target.value });
  const show = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  return (
    <main id="content">
      <h1>{t.accessLog.title}</h1>
      <p>{t.accessLog.intro}</p>
      <p className="hint">{t.readOnly}</p>
      <form className="filters" onSubmit={show} aria-label={t.accessLog.title}>
        <Field label={t.patientId} name="patientId" value={draft.patientId} onChange={set('patientId')} />
        <Field label={t.actorId} name="actorId" value={draft.actorId} onChange={set('actorId')} />
        <Field label={t.from} name="from" type="datetime-local" value={draft.from} onChange={set('from')} />
        <Field label={t.to} name="to" type="datetime-local" value={draft.to} onChange={set('to')} />
        <button type="submit">{t.show}</button>
      </form>
      <LogPage key={JSON.stringify(filters)} filters={filters} after={null} />
    </main>
  );
}

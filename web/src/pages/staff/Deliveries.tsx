import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { DeliveryStatus } from '../../gql/graphql';
import { Done, Field, FormAlert, SelectField, optionsOf } from '../../components';
import { formErrors, type FormErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** A message as the deliveries table shows it, and as re-sending answers it. */
export const DeliveryRow = graphql(`
  fragment DeliveryRow on Delivery {
    id
    kind
    channel
    recipient
    subject
    status
    attempts
    createdAt
    sentAt
    lastError
    resentFrom
    resendable
  }
`);

const DeliveriesQuery = graphql(`
  query Deliveries($status: DeliveryStatus, $recipient: String, $before: DateTime) {
    deliveries(status: $status, recipient: $recipient, before: $before, first: 25) {
      ...DeliveryRow
    }
  }
`);

const ResendMutation = graphql(`
  mutation ResendMessage($id: ID!) {
    resendMessage(id: $id) {
      ...DeliveryRow
    }
  }
`);

/** Deliveries: the organization's messages, newest first, filtered and paged, with re-send. */
export function Deliveries() {
  const t = messages.staff.deliveries;
  const organization = useOrganization();
  const [status, setStatus] = useState('');
  const [recipient, setRecipient] = useState('');
  const [filters, setFilters] = useState<{ status: string; recipient: string; before: string | null }>({
    status: '',
    recipient: '',
    before: null,
  });
  const [{ data, error }, reread] = useQuery({
    query: DeliveriesQuery,
    variables: {
      status: (filters.status || null) as DeliveryStatus | null,
      recipient: filters.recipient || null,
      before: filters.before,
    },
    requestPolicy: 'cache-and-network',
  });
  const [{ fetching }, resend] = useMutation(ResendMutation);
  const [outcome, setOutcome] = useState<{ errors: FormErrors; said?: string }>({ errors: { fields: {} } });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters({ status, recipient: recipient.trim(), before: null });
  };
  // Sent once, never retried: re-sending has no idempotency key, and a retry could send a third copy.
  const resendOne = async (id: string, to: string) => {
    const result = await resend({ id });
    setOutcome({ errors: formErrors(result.error, ['id']), said: result.data ? t.resent(to) : undefined });
    if (!result.data) return;
    // The copy is the newest message: show the first page, read again (the same filters would not run the query).
    if (filters.before) setFilters({ ...filters, before: null });
    else reread({ requestPolicy: 'network-only' });
  };
  const rows = data?.deliveries ?? [];

  return (
    <main id="content">
      <h1>{t.title}</h1>
      <form onSubmit={apply} className="filters" role="search" aria-label={t.filters}>
        <SelectField label={t.status} name="status" value={status} options={optionsOf(t.statuses)}
          placeholder={t.anyStatus} onChange={(e) => setStatus(e.target.value)} />
        <Field label={t.recipient} name="recipient" value={recipient} onChange={(e) => setRecipient(e.target.value)} />
        <button type="submit">{t.apply}</button>
      </form>
      <FormAlert message={outcome.errors.form ?? (error ? formErrors(error).form : undefined)} />
      <Done message={outcome.said} />
      {data && rows.length === 0 && <p>{t.none}</p>}
      <table className="stack">
        <caption>{t.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t.written}</th>
            <th scope="col">{t.kind}</th>
            <th scope="col">{t.recipient}</th>
            <th scope="col">{t.status}</th>
            <th scope="col">{t.action}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td data-label={t.written}>{formatDateTime(row.createdAt, organization.timeZone)}</td>
              <td data-label={t.kind}>
                <div>
                  {(row.kind && messages.staff.messageKinds[row.kind]) ?? row.kind ?? row.channel}
                  {row.subject && <div>{row.subject}</div>}
                </div>
              </td>
              <td data-label={t.recipient}>{row.recipient}</td>
              <td data-label={t.status}>
                <div>
                  {t.statuses[row.status] ?? row.status}
                  {row.attempts > 1 && <div>{t.attempts(row.attempts)}</div>}
                  {row.lastError && <div>{row.lastError}</div>}
                  {row.resentFrom && <div>{t.copy}</div>}
                </div>
              </td>
              <td data-label={t.action}>
                {row.resendable && (
                  <button type="button" className="small" disabled={fetching}
                    onClick={() => void resendOne(row.id, row.recipient)}>
                    {t.resend(row.recipient)}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pager">
        {filters.before && (
          <button type="button" className="secondary" onClick={() => setFilters({ ...filters, before: null })}>
            {t.newest}
          </button>
        )}
        {rows.length === 25 && (
          <button type="button" className="secondary"
            onClick={() => setFilters({ ...filters, before: rows[rows.length - 1]?.createdAt ?? null })}>
            {t.older}
          </button>
        )}
      </div>
    </main>
  );
}

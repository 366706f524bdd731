import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDate, localInstant } from '../../format';
import { messages } from '../../messages';


const AsOfQuery = graphql(`
  query AccountAsOf($accountId: ID!, $at: DateTime!) {
    accountAsOf(accountId: $accountId, asOf: { at: $at }) {
      id
      accountId
      role
      status
      title
      firstName
      middleName
      lastName
      email
      username
      twoStepEnabled
      termsAcceptedVersion
    }
  }
`);

const TranscriptAsOfQuery = graphql(`
  query TranscriptAsOf($learnerId: ID!, $at: DateTime!) {
    transcriptAsOf(learnerId: $learnerId, asOf: { at: $at }) {
      id
      title
      date
      creditLabel
      amount
      status
    }
  }
`);

/** The account (and, for a learner, the transcript) replayed from the log as it stood at `at`. */
function Replay({ accountId, at }: { accountId: string; at: string }) {
  const t = messages.audit.asOf;
  const [{ data, error }] = useQuery({ query: AsOfQuery, variables: { accountId, at } });
  const account = data?.accountAsOf;
  const learner = account?.role === 'LEARNER';
  const [{ data: transcript }] = useQuery({
    query: TranscriptAsOfQuery,
    variables: { learnerId: accountId, at },
    pause: !learner,
  });
  if (error) return <FormAlert message={formErrors(error).form} />;
  if (!data) return null;
  if (!account) return <p>{t.notYet}</p>;
  const name = [account.title, account.firstName, account.middleName, account.lastName].filter(Boolean).join(' ');
  return (
    <>
      <section aria-labelledby="then">
        <h2 id="then">{t.account}</h2>
        <dl className="facts">
          <dt>{t.fields.status}</dt>
          <dd>{account.status}</dd>
          <dt>{t.fields.role}</dt>
          <dd>{account.role}</dd>
          <dt>{t.fields.name}</dt>
          <dd>{name}</dd>
          <dt>{t.fields.email}</dt>
          <dd>{account.email ?? ''}</dd>
          {account.username && (
            <>
              <dt>{t.fields.username}</dt>
              <dd>{account.username}</dd>
            </>
          )}
          <dt>{t.fields.twoStep}</dt>
          <dd>{account.twoStepEnabled ? t.yes : t.no}</dd>
          <dt>{t.fields.terms}</dt>
          <dd>{account.termsAcceptedVersion ?? '—'}</dd>
        </dl>
      </section>
      {learner && transcript && (
        <table className="stack">
          <caption>{t.transcript}</caption>
          <thead>
            <tr>
              <th scope="col">{t.activity}</th>
              <th scope="col">{t.credits}</th>
              <th scope="col">{t.status}</th>
            </tr>
          </thead>
          <tbody>
            {transcript.transcriptAsOf.map((entry) => (
              <tr key={entry.id}>
                <td data-label={t.activity}>{`${entry.title}, ${formatDate(entry.date)}`}</td>
                <td data-label={t.credits}>{`${entry.amount} ${entry.creditLabel}`}</td>
                <td data-label={t.status}>{entry.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** An account or a learner's transcript as of a past time, replayed from its events. */
export function AsOf() {
  const t = messages.audit;
  const [draft, setDraft] = useState({ accountId: '', at: '' });
  const [asked, setAsked] = useState<{ accountId: string; at: string } | undefined>();
  const show = (event: FormEvent) => {
    event.preventDefault();
    const at = localInstant(draft.at);
    if (draft.accountId.trim() && at) setAsked({ accountId: draft.accountId.trim(), at });
  };
  return (
    <main id="content">
      <h1>{t.asOf.title}</h1>
      <p>{t.asOf.intro}</p>
      <p className="hint">{t.readOnly}</p>
      <form className="filters" onSubmit={show} aria-label={t.asOf.title}>
        <Field label={t.accountId} name="accountId" value={draft.accountId} required
          onChange={(e) => setDraft({ ...draft, accountId: e.target.value })} />
        <Field label={t.asOf.at} name="at" type="datetime-local" step={1} value={draft.at} required
          onChange={(e) => setDraft({ ...draft, at: e.target.value })} />
        <button type="submit">{t.show}</button>
      </form>
      {asked && <Replay key={`${asked.accountId}@${asked.at}`} accountId={asked.accountId} at={asked.at} />}
    </main>
  );
}

import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime, personName } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { AttemptsTable } from '../AttemptsTable';
import { useOrganization } from '../OrganizationLayout';

const LockedAccountsQuery = graphql(`
  query LockedAccounts($after: String, $atLeast: LogPosition) {
    lockedAccounts(first: 20, after: $after, atLeast: $atLeast) {
      edges {
        node {
          id
          accountId
          email
          firstName
          lastName
          failureCount
          lastFailureAt
          lockedSince
          lockKind
          unlockAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const UnlockMutation = graphql(`
  mutation UnlockAccount($input: UnlockAccountInput!) {
    unlockAccount(input: $input) {
      position
    }
  }
`);

const AttemptsQuery = graphql(`
  query AccountAttempts($accountId: ID!) {
    account(id: $accountId) {
      id
      firstName
      lastName
      email
    }
    signInAttempts(accountId: $accountId, first: 50) {
      id
      at
      outcome
      clientIp
      userAgent
    }
  }
`);

/** Locked accounts, newest lock first, each with its failures, how it is locked, Unlock and its sign-in attempts. */
export function LockedAccounts() {
  const t = messages.staff.locked;
  const organization = useOrganization();
  const [after, setAfter] = useState<string | null>(null);
  const [atLeast, setAtLeast] = useState<number | null>(null);
  const [{ data, error }] = useQuery({
    query: LockedAccountsQuery,
    variables: { after, atLeast },
    requestPolicy: 'cache-and-network',
  });
  const [{ fetching }, unlock] = useMutation(UnlockMutation);
  const form = useCommand(['accountId']);
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);

  const unlockAccount = async (accountId: string, name: string) => {
    await form.run(
      (commandId) => unlock({ input: { accountId, commandId } }),
      (answer) => {
        // Read the list again once it holds the unlock, so the account leaves it.
        setAtLeast(answer.unlockAccount.position);
        return t.unlocked(name);
      },
    );
  };

  return (
    <main id="content">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert message={form.errors.form ?? (error ? formErrors(error).form : undefined)} />
      <Done message={form.said} />
      {data && data.lockedAccounts.edges.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.lockedAccounts.edges.map(({ node }) => {
          const name = personName(node) || (node.email ?? '');
          return (
            <li key={node.id} className="card">
              <h2 className="card-title">{name}</h2>
              {node.email && <p>{node.email}</p>}
              <p>{t.since(when(node.lockedSince), node.failureCount)}</p>
              <p>
                {node.lockKind === 'COOL_DOWN' && node.unlockAt ? t.coolDown(when(node.unlockAt)) : t.untilUnlocked}
              </p>
              <div className="actions">
                <button type="button" className="small" disabled={fetching}
                  onClick={() => void unlockAccount(node.accountId, name)}>
                  {t.unlock(name)}
                </button>
                <Link to={`/o/${organization.code}/staff/attempts/${node.accountId}`}>{t.attempts(name)}</Link>
              </div>
            </li>
          );
        })}
      </ul>
      {data?.lockedAccounts.pageInfo.hasNextPage && (
        <button type="button" className="secondary" onClick={() => setAfter(data.lockedAccounts.pageInfo.endCursor ?? null)}>
          {messages.staff.more}
        </button>
      )}
    </main>
  );
}

/** The recent sign-in attempts on one account of the organization. */
export function SignInAttempts() {
  const t = messages.staff.locked;
  const organization = useOrganization();
  const { accountId = '' } = useParams();
  const [{ data, error }] = useQuery({ query: AttemptsQuery, variables: { accountId } });
  const name = data?.account ? personName(data.account) || (data.account.email ?? '') : '';
  return (
    <main id="content">
      <h1>{t.attemptsTitle(name)}</h1>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && data.signInAttempts.length === 0 && <p>{t.noAttempts}</p>}
      <AttemptsTable caption={t.attemptsCaption} attempts={data?.signInAttempts ?? []} />
      <Link to={`/o/${organization.code}/staff/locked`}>{t.back}</Link>
    </main>
  );
}

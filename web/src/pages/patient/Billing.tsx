import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { StatementItemFragment } from '../../gql/graphql';
import { Choice, Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDate } from '../../format';
import { optionalText, useCommand } from '../../forms';
import { messages } from '../../messages';
import { SignInFirst } from '../SignInFirst';

/** A statement with its lines and payments, as the patient's and the staff's pages show it. */
export const StatementItem = graphql(`
  fragment StatementItem on StatementView {
    id
    total
    balance
    status
    dueOn
    issuedAt
    items {
      id
      description
      amount
    }
    payments {
      id
      amount
      paidAt
      refunded
    }
  }
`);

const BillingQuery = graphql(`
  query Billing {
    billing {
      id
      balance
      paperless
      payOnline
      statements {
        ...StatementItem
      }
    }
  }
`);

/** One statement: when it was issued, what is due and still to pay, its charges and payments; `children` below. */
export function StatementCard({ statement, children }: { statement: StatementItemFragment; children?: ReactNode }) {
  const t = messages.billing;
  return (
    <li className="card">
      <h3 className="card-title">{t.statement(formatDate(statement.issuedAt.slice(0, 10)))}</h3>
      <p>{t.due(formatDate(statement.dueOn), statement.total, statement.balance)}</p>
      <p>{t.statuses[statement.status] ?? statement.status}</p>
      <table>
        <caption className="visually-hidden">{t.lines}</caption>
        <tbody>
          {statement.items.map((item) => (
            <tr key={item.id}>
              <td>{item.description}</td>
              <td className="amount">{item.amount}</td>
            </tr>
          ))}
          {statement.payments.map((payment) => (
            <tr key={payment.id}>
              <td>
                {t.payment(formatDate(payment.paidAt.slice(0, 10)))}
                {payment.refunded !== '0.00' && <> {t.refunded(payment.refunded)}</>}
              </td>
              <td className="amount">−{payment.amount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {children}
    </li>
  );
}

const PaperlessMutation = graphql(`
  mutation SetPaperlessBilling($paperless: Boolean!) {
    setPaperlessBilling(paperless: $paperless) {
      billing {
        id
        paperless
      }
    }
  }
`);

const PayStatementMutation = graphql(`
  mutation PayStatement($input: PayStatementInput!) {
    payStatement(input: $input) {
      id
      checkoutUrl
      amount
    }
  }
`);

/** Pays an open statement, all of it or part, on the payment service's own page, which sends the patient back. */
function PayForm({ statement }: { statement: StatementItemFragment }) {
  const t = messages.billing;
  const [amount, setAmount] = useState('');
  const [{ fetching }, pay] = useMutation(PayStatementMutation);
  const form = useCommand();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => pay({ input: { statementId: statement.id, amount: optionalText(amount), commandId } }),
      (answer) => {
        window.location.assign(answer.payStatement.checkoutUrl);
        return t.toCheckout(answer.payStatement.amount);
      },
    );
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.payTitle}>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Field label={t.payAmount(statement.balance)} name="amount" inputMode="decimal" value={amount}
        error={form.errors.fields.amount} onChange={(e) => setAmount(e.target.value)} />
      <button type="submit" disabled={fetching}>
        {t.pay}
      </button>
    </form>
  );
}

/** How often, and how many times, the bills are read again after the patient comes back from paying. */
const RECHECK_MS = 2_000;
const RECHECKS = 15;

/** Seed 003's "manage bills": the balance, each statement with its lines and payments, and paperless billing. */
export function Billing() {
  const t = messages.billing;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: BillingQuery });
  const [{ fetching: saving }, setPaperless] = useMutation(PaperlessMutation);
  const form = useCommand();
  const [search] = useSearchParams();
  const returned = search.has('paid');
  // Back from the payment page: the processor confirms the payment on its own (a webhook), usually within seconds,
  // so read the bills again a few times meanwhile.
  useEffect(() => {
    if (!returned) return;
    let left = RECHECKS;
    const timer = window.setInterval(() => {
      left -= 1;
      if (left <= 0) window.clearInterval(timer);
      reexecute({ requestPolicy: 'network-only' });
    }, RECHECK_MS);
    return () => window.clearInterval(timer);
  }, [returned, reexecute]);
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  if (error?.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) return <SignInFirst />;
  const billing = data?.billing;

  // Choosing is idempotent (the same choice twice changes nothing), so a retry without a commandId is safe.
  const choose = (value: string) =>
    void form.run(
      () => setPaperless({ paperless: value === 'paperless' }),
      (answer) => (answer.setPaperlessBilling.billing?.paperless ? t.paperlessOn : t.paperOn),
    );

  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <FormAlert message={form.errors.form ?? (error ? formErrors(error).form : undefined)} />
      {billing && (
        <>
          <p className="balance">{t.balance(billing.balance)}</p>
          {returned && <p role="status">{t.thanks}</p>}
          {!billing.payOnline && billing.statements.some((s) => s.status === 'open') && <p>{t.payByPhone}</p>}
          <Done message={form.said} />
          <Choice legend={t.how} name="paperless" value={billing.paperless ? 'paperless' : 'paper'}
            options={[
              { value: 'paperless', label: t.paperless },
              { value: 'paper', label: t.paper },
            ]}
            onChange={(value) => !saving && choose(value)} />
          <h2>{t.statements}</h2>
          {billing.statements.length === 0 && <p>{t.none}</p>}
          <ul className="cards">
            {billing.statements.map((statement) => (
              <StatementCard key={statement.id} statement={statement}>
                {billing.payOnline && statement.status === 'open' && <PayForm statement={statement} />}
              </StatementCard>
            ))}
          </ul>
        </>
      )}
    </main>
  );
}

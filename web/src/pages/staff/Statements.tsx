import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { addDays, localInstant, todayIn } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { StatementCard } from '../patient/Billing';

import { PatientPicker, type PickedPatient } from './PatientPicker';

const PatientBillingQuery = graphql(`
  query PatientBilling($patientId: ID!) {
    patientBilling(patientId: $patientId) {
      id
      balance
      statements {
        ...StatementItem
      }
    }
  }
`);

const IssueStatement = graphql(`
  mutation IssueStatement($input: IssueStatementInput!) {
    issueStatement(input: $input) {
      billing {
        id
        balance
      }
    }
  }
`);

const RecordPayment = graphql(`
  mutation RecordPayment($input: RecordPaymentInput!) {
    recordPayment(input: $input) {
      statement {
        ...StatementItem
      }
    }
  }
`);

/** A payment to one statement: the amount, the processor's (or receipt's) reference, when it was paid. */
function PaymentForm({ statementId, recorded }: { statementId: string; recorded: () => void }) {
  const t = messages.staff.statements;
  const [values, setValues] = useState({ amount: '', reference: '', paidAt: '' });
  const [{ fetching }, record] = useMutation(RecordPayment);
  const form = useCommand(['statementId']);
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await form.run(
      (commandId) =>
        record({
          input: {
            statementId,
            amount: values.amount.trim(),
            processorReference: values.reference.trim(),
            paidAt: localInstant(values.paidAt) ?? new Date().toISOString(),
            commandId,
          },
        }),
      () => t.recorded(values.amount.trim()),
    );
    if (done) recorded();
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.paymentTitle}>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Field label={t.paymentAmount} name="amount" inputMode="decimal" value={values.amount}
        error={form.errors.fields.amount} onChange={set('amount')} />
      <Field label={t.reference} name="processorReference" value={values.reference}
        error={form.errors.fields.processorReference} onChange={set('reference')} />
      <Field label={t.paidAt} name="paidAt" type="datetime-local" value={values.paidAt}
        error={form.errors.fields.paidAt} onChange={set('paidAt')} />
      <button type="submit" className="small" disabled={fetching}>
        {t.record}
      </button>
    </form>
  );
}

/** A new statement for the patient: its charges and when it is due. */
function IssueForm({ patient, issued }: { patient: PickedPatient; issued: () => void }) {
  const t = messages.staff.statements;
  const organization = useOrganization();
  const [lines, setLines] = useState([{ description: '', amount: '' }]);
  const [dueOn, setDueOn] = useState(() => addDays(todayIn(organization.timeZone), 30));
  const [{ fetching }, issue] = useMutation(IssueStatement);
  const form = useCommand(['patientId']);
  const change = (i: number, patch: Partial<{ description: string; amount: string }>) =>
    setLines(lines.map((line, j) => (j === i ? { ...line, ...patch } : line)));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await form.run(
      (commandId) =>
        issue({
          input: {
            patientId: patient.accountId,
            items: lines.map((line) => ({ description: line.description.trim(), amount: line.amount.trim() })),
            dueOn,
            commandId,
          },
        }),
      () => t.issued(patient.name),
    );
    if (done) {
      setLines([{ description: '', amount: '' }]);
      issued();
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.issueTitle}>
      <h2>{t.issueTitle}</h2>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      {lines.map((line, i) => (
        <div key={i} className="actions">
          <Field label={t.description(i + 1)} name={`items.${i}.description`} value={line.description}
            error={form.errors.fields[`items.${i}.description`]} onChange={(e) => change(i, { description: e.target.value })} />
          <Field label={t.amount(i + 1)} name={`items.${i}.amount`} inputMode="decimal" value={line.amount}
            error={form.errors.fields[`items.${i}.amount`]} onChange={(e) => change(i, { amount: e.target.value })} />
        </div>
      ))}
      <button type="button" className="secondary small" onClick={() => setLines([...lines, { description: '', amount: '' }])}>
        {t.addLine}
      </button>
      <Field label={t.dueOn} name="dueOn" type="date" value={dueOn} error={form.errors.fields.dueOn}
        onChange={(e) => setDueOn(e.target.value)} />
      <button type="submit" disabled={fetching}>
        {t.issue}
      </button>
    </form>
  );
}

/** Seed 003's bills from the clinic's side: a patient's statements, a new one, and payments recorded against them. */
export function Statements() {
  const t = messages.staff.statements;
  const [patient, setPatient] = useState<PickedPatient | undefined>();
  const [{ data, error }, reread] = useQuery({
    query: PatientBillingQuery,
    variables: { patientId: patient?.accountId ?? '' },
    pause: !patient,
    requestPolicy: 'network-only',
  });
  const again = () => reread({ requestPolicy: 'network-only' });
  const billing = data?.patientBilling;
  return (
    <main id="content" className="narrow-forms">
      <h1>{t.title}</h1>
      <PatientPicker picked={patient} onPick={setPatient} />
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {patient && billing && (
        <>
          <p className="balance">{t.balance(patient.name, billing.balance)}</p>
          {billing.statements.length === 0 && <p>{messages.billing.none}</p>}
          <ul className="cards">
            {billing.statements.map((statement) => (
              <StatementCard key={statement.id} statement={statement}>
                {statement.balance !== '0.00' && (
                  <details>
                    <summary>{t.paymentTitle}</summary>
                    <PaymentForm statementId={statement.id} recorded={again} />
                  </details>
                )}
              </StatementCard>
            ))}
          </ul>
          <IssueForm patient={patient} issued={again} />
        </>
      )}
    </main>
  );
}

import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { OnlinePaymentsItemFragment, StaffPoliciesQuery } from '../../gql/graphql';
import { Done, Field, FormAlert, TextArea } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const PoliciesQuery = graphql(`
  query StaffPolicies($code: String!) {
    patientPolicy {
      id
      activationCodeDays
      cancellationCutoffHours
      reminderHours
      offerMinutes
    }
    carePolicy {
      id
      conversationIdleDays
      releaseDelays {
        testCode
        hours
      }
      ageBands {
        fromAge
        cap
      }
    }
    terms(organizationCode: $code) {
      id
      version
      termsOfUse
      privacyPractices
      publishedAt
    }
    onlinePayments {
      ...OnlinePaymentsItem
    }
  }
`);

/** Online bill pay as the staff page shows it. */
export const OnlinePaymentsItem = graphql(`
  fragment OnlinePaymentsItem on OnlinePaymentsView {
    id
    enabled
    keyHint
    live
    webhookUrl
  }
`);

const SetPaymentProcessor = graphql(`
  mutation SetPaymentProcessor($input: SetPaymentProcessorInput!) {
    setPaymentProcessor(input: $input) {
      position
      onlinePayments {
        ...OnlinePaymentsItem
      }
    }
  }
`);

const TurnOffOnlinePayments = graphql(`
  mutation TurnOffOnlinePayments($commandId: UUID) {
    turnOffOnlinePayments(commandId: $commandId) {
      position
      onlinePayments {
        ...OnlinePaymentsItem
      }
    }
  }
`);

const SetPatientPolicy = graphql(`
  mutation SetPatientPolicy(
    $activationCodeDays: Int!
    $cancellationCutoffHours: Int
    $reminderHours: [Int!]
    $offerMinutes: Int
    $commandId: UUID
  ) {
    setPatientPolicy(
      activationCodeDays: $activationCodeDays
      cancellationCutoffHours: $cancellationCutoffHours
      reminderHours: $reminderHours
      offerMinutes: $offerMinutes
      commandId: $commandId
    ) {
      position
    }
  }
`);

const SetCarePolicy = graphql(`
  mutation SetCarePolicy(
    $conversationIdleDays: Int!
    $releaseDelays: [ReleaseDelayInput!]
    $ageBands: [AgeBandInput!]
    $commandId: UUID
  ) {
    setCarePolicy(
      conversationIdleDays: $conversationIdleDays
      releaseDelays: $releaseDelays
      ageBands: $ageBands
      commandId: $commandId
    ) {
      carePolicy {
        id
        conversationIdleDays
        releaseDelays {
          testCode
          hours
        }
      }
    }
  }
`);

const PublishTerms = graphql(`
  mutation PublishTerms($input: PublishTermsInput!) {
    publishTerms(input: $input) {
      version
    }
  }
`);

type Policies = StaffPoliciesQuery;

/** How long codes work, the cut-off for cancelling, reminders and wait-list offers. */
function PatientPolicyForm({ policy }: { policy: Policies['patientPolicy'] }) {
  const t = messages.staff.policies;
  const [values, setValues] = useState({
    activationCodeDays: String(policy.activationCodeDays),
    cancellationCutoffHours: String(policy.cancellationCutoffHours),
    reminderHours: policy.reminderHours.join(', '),
    offerMinutes: String(policy.offerMinutes),
  });
  const [{ fetching }, save] = useMutation(SetPatientPolicy);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const reminderHours = values.reminderHours
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean)
      .map(Number);
    void form.run(
      (commandId) =>
        save({
          activationCodeDays: Number(values.activationCodeDays),
          cancellationCutoffHours: Number(values.cancellationCutoffHours),
          reminderHours,
          offerMinutes: Number(values.offerMinutes),
          commandId,
        }),
      () => t.patientSaved,
    );
  };
  return (
    <form onSubmit={submit} noValidate aria-label={t.patientTitle}>
      <h2>{t.patientTitle}</h2>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Field label={t.codeDays} name="activationCodeDays" type="number" min={1} max={365}
        value={values.activationCodeDays} error={form.errors.fields.activationCodeDays} onChange={set('activationCodeDays')} />
      <Field label={t.cutoff} name="cancellationCutoffHours" type="number" min={0} max={168}
        value={values.cancellationCutoffHours} error={form.errors.fields.cancellationCutoffHours}
        onChange={set('cancellationCutoffHours')} />
      <Field label={t.reminders} name="reminderHours" value={values.reminderHours}
        error={form.errors.fields.reminderHours} onChange={set('reminderHours')} />
      <Field label={t.offerMinutes} name="offerMinutes" type="number" min={5} max={1440} value={values.offerMinutes}
        error={form.errors.fields.offerMinutes} onChange={set('offerMinutes')} />
      <button type="submit" disabled={fetching}>
        {fetching ? messages.staff.saving : messages.staff.settings.save}
      </button>
    </form>
  );
}

/** When conversations close and which tests' results are released by themselves; the age bands stay as they are. */
function CarePolicyForm({ policy }: { policy: Policies['carePolicy'] }) {
  const t = messages.staff.policies;
  const [idleDays, setIdleDays] = useState(String(policy.conversationIdleDays));
  const [delays, setDelays] = useState(() => policy.releaseDelays.map((d) => ({ ...d, hours: String(d.hours) })));
  const [{ fetching }, save] = useMutation(SetCarePolicy);
  const form = useCommand();
  const change = (i: number, patch: Partial<{ testCode: string; hours: string }>) =>
    setDelays(delays.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void form.run(
      (commandId) =>
        save({
          conversationIdleDays: Number(idleDays),
          releaseDelays: delays.map((d) => ({ testCode: d.testCode.trim(), hours: Number(d.hours) })),
          ageBands: policy.ageBands.map((b) => ({ fromAge: b.fromAge, cap: b.cap ?? null })),
          commandId,
        }),
      () => t.careSaved,
    );
  };
  return (
    <form onSubmit={submit} noValidate aria-label={t.careTitle}>
      <h2>{t.careTitle}</h2>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Field label={t.idleDays} name="conversationIdleDays" type="number" min={1} max={365} value={idleDays}
        error={form.errors.fields.conversationIdleDays} onChange={(e) => setIdleDays(e.target.value)} />
      <fieldset>
        <legend>{t.delays}</legend>
        <p className="hint">{t.delaysIntro}</p>
        {delays.map((delay, i) => (
          <div key={i} className="actions">
            <Field label={t.testCode(i + 1)} name={`releaseDelays.${i}.testCode`} value={delay.testCode}
              error={form.errors.fields[`releaseDelays.${i}.testCode`] ?? form.errors.fields[`releaseDelays[${i}].testCode`]}
              onChange={(e) => change(i, { testCode: e.target.value })} />
            <Field label={t.hours(i + 1)} name={`releaseDelays.${i}.hours`} type="number" min={0} value={delay.hours}
              onChange={(e) => change(i, { hours: e.target.value })} />
            <button type="button" className="secondary small" onClick={() => setDelays(delays.filter((_, j) => j !== i))}>
              {t.removeDelay(i + 1)}
            </button>
          </div>
        ))}
        <button type="button" className="secondary small" onClick={() => setDelays([...delays, { testCode: '', hours: '24' }])}>
          {t.addDelay}
        </button>
      </fieldset>
      <button type="submit" disabled={fetching}>
        {fetching ? messages.staff.saving : messages.staff.settings.save}
      </button>
    </form>
  );
}

/** The terms in force, and a new version to publish (everyone accepts it at their next sign-in). */
function TermsForm({ terms }: { terms: Policies['terms'] }) {
  const t = messages.staff.policies;
  const organization = useOrganization();
  const [termsOfUse, setTermsOfUse] = useState(terms?.termsOfUse ?? '');
  const [privacyPractices, setPrivacyPractices] = useState(terms?.privacyPractices ?? '');
  const [{ fetching }, publish] = useMutation(PublishTerms);
  const form = useCommand();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void form.run(
      (commandId) => publish({ input: { termsOfUse, privacyPractices, commandId } }),
      (data) => t.published(data.publishTerms.version),
    );
  };
  return (
    <form onSubmit={submit} noValidate aria-label={t.termsTitle}>
      <h2>{t.termsTitle}</h2>
      <p>{terms ? t.termsNow(terms.version, formatDateTime(terms.publishedAt, organization.timeZone)) : t.termsNone}</p>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <TextArea label={t.termsOfUse} name="termsOfUse" value={termsOfUse} rows={8}
        error={form.errors.fields.termsOfUse} onChange={(e) => setTermsOfUse(e.target.value)} />
      <TextArea label={t.privacy} name="privacyPractices" value={privacyPractices} rows={8}
        error={form.errors.fields.privacyPractices} onChange={(e) => setPrivacyPractices(e.target.value)} />
      <button type="submit" disabled={fetching}>
        {t.publish}
      </button>
    </form>
  );
}

/** Online bill pay: the organization's own payment processor account, whose keys are never shown again. */
function OnlinePaymentsForm({ payments }: { payments: OnlinePaymentsItemFragment }) {
  const t = messages.staff.policies;
  const [keys, setKeys] = useState({ apiKey: '', webhookSecret: '' });
  const [{ fetching: saving }, save] = useMutation(SetPaymentProcessor);
  const [{ fetching: stopping }, turnOff] = useMutation(TurnOffOnlinePayments);
  const form = useCommand();
  const set = (key: keyof typeof keys) => (e: { target: { value: string } }) => setKeys({ ...keys, [key]: e.target.value });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await form.run((commandId) => save({ input: { ...keys, commandId } }), () => t.paymentsSaved);
    if (saved) setKeys({ apiKey: '', webhookSecret: '' });
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.paymentsTitle}>
      <h2>{t.paymentsTitle}</h2>
      <p>{payments.enabled ? t.paymentsOn(payments.keyHint ?? '', payments.live) : t.paymentsOff}</p>
      <p>
        {t.webhook} <code>{payments.webhookUrl}</code>
      </p>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      <Field label={t.apiKey} name="apiKey" autoComplete="off" value={keys.apiKey}
        error={form.errors.fields.apiKey} onChange={set('apiKey')} />
      <Field label={t.webhookSecret} name="webhookSecret" autoComplete="off" value={keys.webhookSecret}
        error={form.errors.fields.webhookSecret} onChange={set('webhookSecret')} />
      <div className="actions">
        <button type="submit" disabled={saving}>
          {t.paymentsSave}
        </button>
        {payments.enabled && (
          <button type="button" className="secondary" disabled={stopping}
            onClick={() => void form.run((commandId) => turnOff({ commandId }), () => t.paymentsStopped)}>
            {t.paymentsTurnOff}
          </button>
        )}
      </div>
    </form>
  );
}

/** The rules of the patient portal, of messages and results, and the terms; each as the API last saved it. */
export function Policies() {
  const organization = useOrganization();
  const [{ data, error }] = useQuery({ query: PoliciesQuery, variables: { code: organization.code } });
  return (
    <main id="content" className="narrow-forms">
      <h1>{messages.staff.policies.title}</h1>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && (
        <>
          <PatientPolicyForm policy={data.patientPolicy} />
          <CarePolicyForm policy={data.carePolicy} />
          <TermsForm terms={data.terms} />
          <OnlinePaymentsForm payments={data.onlinePayments} />
        </>
      )}
    </main>
  );
}

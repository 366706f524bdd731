import { useState, type FormEvent } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { Choice, Field, FormAlert, optionsOf } from '../components';
import { optionalText, useCommand } from '../forms';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { PasswordRulesList } from './PasswordRulesList';

const RequestCodeMutation = graphql(`
  mutation RequestActivationCode($input: RequestActivationCodeInput!) {
    requestActivationCode(input: $input) {
      message
    }
  }
`);

const SignUpPatientMutation = graphql(`
  mutation SignUpPatient($input: SignUpPatientInput!) {
    signUpPatient(input: $input) {
      position
    }
  }
`);

/** The activation code the code e-mail's link carries in its fragment (`#code=…`, never sent to a server). */
export function codeInFragment(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, '')).get('code') ?? '';
}

/** Seed 001, step 2, the third way: ask for a code online; the clinic checks who the person is and may call. */
function RequestCode() {
  const t = messages.signUp.request;
  const organization = useOrganization();
  const [values, setValues] = useState({ firstName: '', lastName: '', dateOfBirth: '', email: '', phone: '', clinicNumber: '' });
  const [{ fetching }, request] = useMutation(RequestCodeMutation);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) =>
        request({
          input: {
            organizationCode: organization.code,
            firstName: values.firstName,
            lastName: values.lastName,
            dateOfBirth: values.dateOfBirth,
            email: values.email.trim(),
            phone: optionalText(values.phone),
            clinicNumber: optionalText(values.clinicNumber),
            commandId,
          },
        }),
      () => t.answer,
    );
  };

  if (form.said) {
    return (
      <div role="status" className="success">
        {form.said}
      </div>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.title}>
      <p>{t.intro}</p>
      <FormAlert message={form.errors.form} />
      <Field label={messages.register.firstName} name="firstName" value={values.firstName} required
        autoComplete="given-name" error={form.errors.fields.firstName} onChange={set('firstName')} />
      <Field label={messages.register.lastName} name="lastName" value={values.lastName} required
        autoComplete="family-name" error={form.errors.fields.lastName} onChange={set('lastName')} />
      <Field label={messages.signUp.dateOfBirth} name="dateOfBirth" type="date" value={values.dateOfBirth} required
        autoComplete="bday" error={form.errors.fields.dateOfBirth} onChange={set('dateOfBirth')} />
      <Field label={messages.register.email} name="email" type="email" value={values.email} required
        autoComplete="email" error={form.errors.fields.email} onChange={set('email')} />
      <Field label={t.phone} name="phone" type="tel" value={values.phone} autoComplete="tel"
        error={form.errors.fields.phone} onChange={set('phone')} />
      <Field label={t.clinicNumber} name="clinicNumber" value={values.clinicNumber}
        error={form.errors.fields.clinicNumber} onChange={set('clinicNumber')} />
      <button type="submit" disabled={fetching}>
        {fetching ? messages.staff.saving : t.submit}
      </button>
    </form>
  );
}

/**
 * Create your patient portal account (seed 001, steps 2 and 3): prove who you are with the clinic number or the
 * activation code and your date of birth (the code e-mail's link fills the code in), or ask for a code online; then
 * choose a username and password, and activate the account from the e-mailed link.
 */
export function SignUp() {
  // A code link opened while the page is open changes only the fragment (no reload): a new form takes its code.
  const { hash } = useLocation();
  return <SignUpForm key={hash} hash={hash} />;
}

function SignUpForm({ hash }: { hash: string }) {
  const t = messages.signUp;
  const organization = useOrganization();
  const navigate = useNavigate();
  const [values, setValues] = useState(() => ({
    method: 'code',
    number: codeInFragment(hash),
    dateOfBirth: '',
    username: '',
    email: '',
    password: '',
  }));
  const [{ fetching }, signUp] = useMutation(SignUpPatientMutation);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });
  const byCode = values.method === 'code';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const email = values.email.trim();
    const done = await form.run(
      (commandId) =>
        signUp({
          input: {
            organizationCode: organization.code,
            activationCode: byCode ? values.number.trim() : null,
            clinicNumber: byCode ? null : values.number.trim(),
            dateOfBirth: values.dateOfBirth,
            username: values.username.trim(),
            email,
            password: values.password,
            commandId,
          },
        }),
      () => undefined,
    );
    if (done) await navigate(`/o/${organization.code}/registered`, { state: { email } });
  };

  return (
    <main id="content" className="page narrow">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <Choice legend={t.method} name="method" value={values.method} options={optionsOf(t.methods)}
        onChange={(method) => setValues({ ...values, method })} />
      {values.method === 'request' ? (
        <RequestCode />
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.title}>
          <FormAlert message={form.errors.form} />
          <Field label={byCode ? t.activationCode : t.clinicNumber} name={byCode ? 'activationCode' : 'clinicNumber'}
            value={values.number} required autoComplete="off"
            error={form.errors.fields[byCode ? 'activationCode' : 'clinicNumber']} onChange={set('number')} />
          <Field label={t.dateOfBirth} name="dateOfBirth" type="date" value={values.dateOfBirth} required
            autoComplete="bday" error={form.errors.fields.dateOfBirth} onChange={set('dateOfBirth')} />
          <Field label={t.username} name="username" value={values.username} required autoComplete="username"
            error={form.errors.fields.username} onChange={set('username')} />
          <Field label={messages.register.email} name="email" type="email" value={values.email} required
            autoComplete="email" error={form.errors.fields.email} onChange={set('email')} />
          <Field label={messages.register.password} name="password" type="password" value={values.password} required
            autoComplete="new-password" error={form.errors.fields.password} aria-describedby="sign-up-rules"
            onChange={set('password')} />
          <PasswordRulesList id="sign-up-rules" password={values.password} />
          <button type="submit" disabled={fetching}>
            {fetching ? messages.staff.saving : t.submit}
          </button>
        </form>
      )}
    </main>
  );
}

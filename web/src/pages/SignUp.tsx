import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { Choice, Field, FormAlert, optionsOf } from '../components';
import { useCommand } from '../forms';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { PasswordRulesList } from './PasswordRulesList';

const SignUpPatientMutation = graphql(`
  mutation SignUpPatient($input: SignUpPatientInput!) {
    signUpPatient(input: $input) {
      position
    }
  }
`);

/**
 * Create your patient portal account (seed 001, steps 2 and 3): prove who you are with the clinic number or the
 * activation code and your date of birth, then choose a username and password; the account is activated from the
 * e-mailed link.
 */
export function SignUp() {
  const t = messages.signUp;
  const organization = useOrganization();
  const navigate = useNavigate();
  const [values, setValues] = useState({
    method: 'code',
    number: '',
    dateOfBirth: '',
    username: '',
    email: '',
    password: '',
  });
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
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.title}>
        <FormAlert message={form.errors.form} />
        <Choice legend={t.method} name="method" value={values.method} options={optionsOf(t.methods)}
          onChange={(method) => setValues({ ...values, method })} />
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
    </main>
  );
}

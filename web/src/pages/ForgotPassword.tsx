import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';

const RequestResetMutation = graphql(`
  mutation RequestPasswordReset($input: RequestPasswordResetInput!) {
    requestPasswordReset(input: $input) {
      message
    }
  }
`);

const RequestUsernameMutation = graphql(`
  mutation RequestUsernameReminder($input: RequestUsernameReminderInput!) {
    requestUsernameReminder(input: $input) {
      message
    }
  }
`);

interface OneFieldProps {
  texts: { title: string; intro: string; field: string; submit: string };
  autoComplete: string;
  /** Sends the request with the typed value; answers the API's message, or its refusal. */
  send: (value: string) => Promise<{ message?: string; errors: FormErrors }>;
}

/** A request answered by e-mail, the same whether or not an account matches: one field, then the answer. */
function OneFieldRequest({ texts, autoComplete, send }: OneFieldProps) {
  const organization = useOrganization();
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [sent, setSent] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const answer = await send(value.trim());
    setBusy(false);
    setErrors(answer.errors);
    setSent(answer.message ?? null);
  };

  return (
    <main id="content" className="page narrow">
      <h1>{texts.title}</h1>
      {sent ? (
        <p role="status">{sent}</p>
      ) : (
        <>
          <p>{texts.intro}</p>
          <form onSubmit={(e) => void submit(e)} noValidate>
            <FormAlert message={errors.form} />
            <Field label={texts.field} name="login" value={value} required autoComplete={autoComplete}
              error={errors.fields.email ?? errors.fields.username} onChange={(e) => setValue(e.target.value)} />
            <button type="submit" disabled={busy}>
              {busy ? messages.forgot.busy : texts.submit}
            </button>
          </form>
        </>
      )}
      <p>
        <Link to={`/o/${organization.code}/sign-in`}>{messages.forgot.back}</Link>
      </p>
    </main>
  );
}

/** Forgot Your Password: a link by e-mail, asked for with the e-mail address or (patients) the username. */
export function ForgotPassword() {
  const organization = useOrganization();
  const [, request] = useMutation(RequestResetMutation);
  const t = messages.forgot;
  return (
    <OneFieldRequest texts={{ title: t.title, intro: t.intro, field: t.login, submit: t.submit }} autoComplete="username"
      send={async (login) => {
        const by = login.includes('@') ? { email: login } : { username: login };
        const result = await command((commandId) =>
          request({ input: { organizationCode: organization.code, ...by, commandId } }),
        );
        return { message: result.data?.requestPasswordReset.message, errors: formErrors(result.error) };
      }} />
  );
}

/** Forgot Your Username (seed 001): the username, e-mailed to the address on file. */
export function ForgotUsername() {
  const organization = useOrganization();
  const [, request] = useMutation(RequestUsernameMutation);
  const t = messages.forgot;
  return (
    <OneFieldRequest texts={{ title: t.usernameTitle, intro: t.usernameIntro, field: t.email, submit: t.usernameSubmit }}
      autoComplete="email"
      send={async (email) => {
        const result = await command((commandId) =>
          request({ input: { organizationCode: organization.code, email, commandId } }),
        );
        return { message: result.data?.requestUsernameReminder.message, errors: formErrors(result.error) };
      }} />
  );
}

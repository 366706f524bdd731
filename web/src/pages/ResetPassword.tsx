import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
import { messages } from '../messages';
import { PasswordRulesList } from './PasswordRulesList';

const ResetMutation = graphql(`
  mutation ResetPassword($input: ResetPasswordInput!) {
    resetPassword(input: $input) {
      accountId
      position
    }
  }
`);

/**
 * The page a password-reset link opens: a new password, then sign-in (`signIn`: the organization's sign-in page when
 * the link named it). Opening it changes nothing; the form does.
 */
export function ResetPassword({ signIn }: { signIn?: string }) {
  const token = useSearchParams()[0].get('token') ?? '';
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [done, setDone] = useState(false);
  const [{ fetching }, reset] = useMutation(ResetMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) => reset({ input: { token, newPassword: password, commandId } }));
    // The link's token is not a field of the form: its refusal (unknown, expired, used) is the form's message.
    setErrors(formErrors(result.error, ['token']));
    setDone(Boolean(result.data?.resetPassword));
  };

  if (!token) {
    return (
      <main id="content" className="page narrow">
        <h1>{messages.reset.title}</h1>
        <p role="alert">{messages.reset.missingToken}</p>
      </main>
    );
  }
  return (
    <main id="content" className="page narrow">
      <h1>{messages.reset.title}</h1>
      {done ? (
        <>
          <p role="status">{messages.reset.done}</p>
          <p>
            {signIn ? <Link to={signIn}>{messages.reset.signIn}</Link> : <Link to="/">{messages.reset.chooseOrganization}</Link>}
          </p>
        </>
      ) : (
        <>
          <p>{messages.reset.intro}</p>
          <form onSubmit={(e) => void submit(e)} noValidate>
            <FormAlert message={errors.form} />
            <Field label={messages.reset.password} name="password" type="password" value={password} required
              autoComplete="new-password" aria-describedby="password-rules" error={errors.fields.newPassword}
              onChange={(e) => setPassword(e.target.value)} />
            <PasswordRulesList id="password-rules" password={password} />
            <button type="submit" disabled={fetching}>
              {fetching ? messages.reset.busy : messages.reset.submit}
            </button>
          </form>
        </>
      )}
    </main>
  );
}

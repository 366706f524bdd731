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

/** Forgot Your Password: a link by e-mail. The answer is the same whether or not the address has an account. */
export function ForgotPassword() {
  const organization = useOrganization();
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [sent, setSent] = useState<string | null>(null);
  const [{ fetching }, request] = useMutation(RequestResetMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) =>
      request({ input: { organizationCode: organization.code, email: email.trim(), commandId } }),
    );
    setErrors(formErrors(result.error));
    setSent(result.data?.requestPasswordReset.message ?? null);
  };

  return (
    <main id="content" className="page narrow">
      <h1>{messages.forgot.title}</h1>
      {sent ? (
        <p role="status">{sent}</p>
      ) : (
        <>
          <p>{messages.forgot.intro}</p>
          <form onSubmit={(e) => void submit(e)} noValidate>
            <FormAlert message={errors.form} />
            <Field label={messages.forgot.email} name="email" type="email" value={email} required autoComplete="email"
              error={errors.fields.email} onChange={(e) => setEmail(e.target.value)} />
            <button type="submit" disabled={fetching}>
              {fetching ? messages.forgot.busy : messages.forgot.submit}
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

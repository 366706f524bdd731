import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import { command } from '../../commands';
import { Field, FormAlert } from '../../components';
import { formErrors, type FormErrors } from '../../errors';
import { messages } from '../../messages';
import { useAreaAccount } from './ProfileArea';

const RequestEmailChangeMutation = graphql(`
  mutation RequestEmailChange($input: RequestEmailChangeInput!) {
    requestEmailChange(input: $input) {
      message
    }
  }
`);

/** Change your e-mail address: it takes effect once confirmed from the link sent to the new address. */
export function ChangeEmail() {
  const account = useAreaAccount();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [{ fetching }, request] = useMutation(RequestEmailChangeMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) =>
      request({ input: { newEmail: email.trim(), currentPassword: password, commandId } }),
    );
    setErrors(formErrors(result.error));
    if (result.data) {
      setSentTo(email.trim());
      setPassword('');
    }
  };

  return (
    <main id="content" className="narrow">
      <h1>{messages.profile.email.title}</h1>
      {account.email && <p>{messages.profile.email.current(account.email)}</p>}
      {sentTo ? (
        <p role="status" className="success">
          {messages.profile.email.sent(sentTo)}
        </p>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate aria-label={messages.profile.email.title}>
          <FormAlert message={errors.form} />
          <Field label={messages.profile.email.new} name="newEmail" type="email" value={email} autoComplete="email"
            required error={errors.fields.newEmail} onChange={(e) => setEmail(e.target.value)} />
          <Field label={messages.profile.password.current} name="currentPassword" type="password" value={password}
            autoComplete="current-password" required error={errors.fields.currentPassword}
            onChange={(e) => setPassword(e.target.value)} />
          <button type="submit" disabled={fetching}>
            {fetching ? messages.profile.saving : messages.profile.email.submit}
          </button>
        </form>
      )}
    </main>
  );
}

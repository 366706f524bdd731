import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import { command } from '../../commands';
import { Field, FormAlert } from '../../components';
import { formErrors, type FormErrors } from '../../errors';
import { messages } from '../../messages';
import { PasswordRulesList } from '../PasswordRulesList';

const ChangePasswordMutation = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) {
      position
    }
  }
`);

/** Change your password: the current one, then a new one with its rules shown as typed. */
export function ChangePassword() {
  const rulesId = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [done, setDone] = useState(false);
  const [{ fetching }, change] = useMutation(ChangePasswordMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const result = await command((commandId) =>
      change({ input: { currentPassword: current, newPassword: next, commandId } }),
    );
    setErrors(formErrors(result.error));
    if (result.data) {
      setDone(true);
      setCurrent('');
      setNext('');
    }
  };

  return (
    <main id="content" className="narrow">
      <h1>{messages.profile.password.title}</h1>
      <p>{messages.profile.password.intro}</p>
      {done && (
        <p role="status" className="success">
          {messages.profile.password.done}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={messages.profile.password.title}>
        <FormAlert message={errors.form} />
        <Field label={messages.profile.password.current} name="currentPassword" type="password" value={current}
          autoComplete="current-password" required error={errors.fields.currentPassword}
          onChange={(e) => setCurrent(e.target.value)} />
        <Field label={messages.profile.password.new} name="newPassword" type="password" value={next}
          autoComplete="new-password" required error={errors.fields.newPassword} aria-describedby={rulesId}
          onChange={(e) => setNext(e.target.value)} />
        <PasswordRulesList id={rulesId} password={next} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.profile.saving : messages.profile.password.submit}
        </button>
      </form>
    </main>
  );
}

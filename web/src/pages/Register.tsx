import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
import { optionalText } from '../forms';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { PasswordRulesList } from './PasswordRulesList';

const RegisterMutation = graphql(`
  mutation RegisterAccount($input: RegisterAccountInput!) {
    registerAccount(input: $input) {
      message
      position
    }
  }
`);

/** Create account (seed 000): title, names, e-mail and a password whose rules show as the person types. */
export function Register() {
  const organization = useOrganization();
  const navigate = useNavigate();
  const [form, setForm] = useState({ title: '', firstName: '', middleName: '', lastName: '', email: '', password: '' });
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [{ fetching }, register] = useMutation(RegisterMutation);
  const set = (field: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [field]: event.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) =>
      register({
        input: {
          organizationCode: organization.code,
          title: optionalText(form.title),
          firstName: form.firstName,
          middleName: optionalText(form.middleName),
          lastName: form.lastName,
          email: form.email.trim(),
          password: form.password,
          commandId,
        },
      }),
    );
    setErrors(formErrors(result.error));
    if (result.data?.registerAccount) {
      await navigate(`/o/${organization.code}/registered`, { state: { email: form.email.trim() } });
    }
  };

  return (
    <main id="content" className="page narrow">
      <h1>{messages.register.title}</h1>
      <p>{messages.register.intro}</p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <FormAlert message={errors.form} />
        <Field label={messages.register.titleField} name="title" value={form.title} autoComplete="honorific-prefix"
          placeholder={messages.register.titleHint} error={errors.fields.title} onChange={set('title')} />
        <Field label={messages.register.firstName} name="firstName" value={form.firstName} required
          autoComplete="given-name" error={errors.fields.firstName} onChange={set('firstName')} />
        <Field label={messages.register.middleName} name="middleName" value={form.middleName}
          autoComplete="additional-name" error={errors.fields.middleName} onChange={set('middleName')} />
        <Field label={messages.register.lastName} name="lastName" value={form.lastName} required
          autoComplete="family-name" error={errors.fields.lastName} onChange={set('lastName')} />
        <Field label={messages.register.email} name="email" type="email" value={form.email} required
          autoComplete="email" error={errors.fields.email} onChange={set('email')} />
        <Field label={messages.register.password} name="password" type="password" value={form.password} required
          autoComplete="new-password" aria-describedby="password-rules" error={errors.fields.password}
          onChange={set('password')} />
        <PasswordRulesList id="password-rules" password={form.password} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.register.busy : messages.register.submit}
        </button>
      </form>
      <p>
        <Link to={`/o/${organization.code}/sign-in`}>{messages.register.haveAccount}</Link>
      </p>
    </main>
  );
}

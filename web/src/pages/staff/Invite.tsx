import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import type { StaffRole } from '../../gql/graphql';
import { Choice, Done, Field, FormAlert, optionsOf } from '../../components';
import { useCommand } from '../../forms';
import { messages } from '../../messages';

const InviteStaffMutation = graphql(`
  mutation InviteStaff($input: InviteStaffInput!) {
    inviteStaff(input: $input) {
      message
    }
  }
`);

const empty = { title: '', firstName: '', lastName: '', email: '', role: 'STAFF' };

/** Invite a coordinator or an auditor: they get an e-mailed link that sets their password. */
export function Invite() {
  const t = messages.staff.invite;
  const [person, setPerson] = useState(empty);
  const [{ fetching }, invite] = useMutation(InviteStaffMutation);
  const form = useCommand();
  const set = (key: keyof typeof empty) => (e: { target: { value: string } }) =>
    setPerson({ ...person, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) =>
        invite({ input: { ...person, title: person.title || null, role: person.role as StaffRole, commandId } }),
      () => {
        setPerson(empty);
        return t.sent(person.email);
      },
    );
  };

  return (
    <main id="content" className="narrow">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.title}>
        <FormAlert message={form.errors.form} />
        <Choice legend={t.role} name="role" value={person.role} options={optionsOf(t.roles)}
          error={form.errors.fields.role} onChange={(role) => setPerson({ ...person, role })} />
        <Field label={messages.register.titleField} name="title" value={person.title} error={form.errors.fields.title}
          onChange={set('title')} />
        <Field label={messages.register.firstName} name="firstName" value={person.firstName} required
          autoComplete="off" error={form.errors.fields.firstName} onChange={set('firstName')} />
        <Field label={messages.register.lastName} name="lastName" value={person.lastName} required
          autoComplete="off" error={form.errors.fields.lastName} onChange={set('lastName')} />
        <Field label={messages.register.email} name="email" type="email" value={person.email} required
          autoComplete="off" error={form.errors.fields.email} onChange={set('email')} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.submit}
        </button>
      </form>
    </main>
  );
}

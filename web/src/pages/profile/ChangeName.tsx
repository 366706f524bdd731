import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { optionalText, useCommand } from '../../forms';
import { messages } from '../../messages';
import { todayIn } from '../../format';
import { useOrganization } from '../OrganizationLayout';

const NameQuery = graphql(`
  query MyName {
    me {
      id
      title
      firstName
      middleName
      lastName
    }
  }
`);

const ChangeNameMutation = graphql(`
  mutation ChangeName($input: ChangeNameInput!) {
    changeName(input: $input) {
      position
      account {
        id
        title
        firstName
        middleName
        lastName
      }
    }
  }
`);

/** A change of name (marriage, a court order): from the day it takes effect, transcripts and board reports use it. */
export function ChangeName() {
  const [{ data }] = useQuery({ query: NameQuery });
  if (!data?.me) return <p className="page">{messages.loading}</p>;
  return <NameForm me={data.me} />;
}

interface Name {
  title?: string | null;
  firstName?: string | null;
  middleName?: string | null;
  lastName?: string | null;
}

/** The form, filled in with the name as it is: a change is usually of one part. */
function NameForm({ me }: { me: Name }) {
  const t = messages.profile.name;
  const organization = useOrganization();
  const [values, setValues] = useState({
    firstName: me.firstName ?? '',
    middleName: me.middleName ?? '',
    lastName: me.lastName ?? '',
  });
  const [effectiveOn, setEffectiveOn] = useState(() => todayIn(organization.timeZone));
  const [{ fetching }, change] = useMutation(ChangeNameMutation);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) =>
        change({
          input: {
            firstName: values.firstName.trim(),
            middleName: optionalText(values.middleName),
            lastName: values.lastName.trim(),
            effectiveOn,
            commandId,
          },
        }),
      (answer) => (answer.changeName.position == null ? t.same : t.done),
    );
  };

  const current = [me.title, me.firstName, me.middleName, me.lastName].filter(Boolean).join(' ');
  return (
    <main id="content" className="narrow">
      <h1>{t.title}</h1>
      {current && <p>{t.current(current)}</p>}
      <p>{t.intro}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.title}>
        <FormAlert message={form.errors.form} />
        <Field label={t.firstName} name="firstName" autoComplete="given-name" value={values.firstName}
          required error={form.errors.fields.firstName} onChange={set('firstName')} />
        <Field label={t.middleName} name="middleName" autoComplete="additional-name" value={values.middleName}
          error={form.errors.fields.middleName} onChange={set('middleName')} />
        <Field label={t.lastName} name="lastName" autoComplete="family-name" value={values.lastName}
          required error={form.errors.fields.lastName} onChange={set('lastName')} />
        <Field label={t.effectiveOn} name="effectiveOn" type="date" value={effectiveOn}
          error={form.errors.fields.effectiveOn} onChange={(e) => setEffectiveOn(e.target.value)} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.profile.saving : t.submit}
        </button>
      </form>
    </main>
  );
}

import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { command } from '../../commands';
import { Field, FormAlert } from '../../components';
import { formErrors, type FormErrors } from '../../errors';
import { formatDateTime, formatPhone } from '../../format';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** A number as the page lists it; every phone mutation answers the list in this shape. */
export const PhoneItem = graphql(`
  fragment PhoneItem on Phone {
    id
    number
    verified
    addedAt
  }
`);

const PhonesQuery = graphql(`
  query MyPhones {
    myPhones {
      ...PhoneItem
    }
  }
`);

// Each phone mutation answers the numbers as they now are, so the list updates from the answer.
const AddPhoneMutation = graphql(`
  mutation AddPhone($input: PhoneInput!) {
    addPhone(input: $input) {
      number
      phones {
        ...PhoneItem
      }
    }
  }
`);

const VerifyPhoneMutation = graphql(`
  mutation VerifyPhone($input: VerifyPhoneInput!) {
    verifyPhone(input: $input) {
      number
      phones {
        ...PhoneItem
      }
    }
  }
`);

const RemovePhoneMutation = graphql(`
  mutation RemovePhone($input: PhoneInput!) {
    removePhone(input: $input) {
      number
      phones {
        ...PhoneItem
      }
    }
  }
`);

/** The form that verifies one number with the code texted to it. */
function Verify({ number, onVerified }: { number: string; onVerified: (number: string) => void }) {
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [{ fetching }, verify] = useMutation(VerifyPhoneMutation);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) => verify({ input: { number, code: code.trim(), commandId } }));
    setErrors(formErrors(result.error, ['number']));
    if (result.data) onVerified(result.data.verifyPhone.number);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={messages.profile.phones.verifyLabel(formatPhone(number))}>
      <FormAlert message={errors.form} />
      <Field label={messages.profile.phones.code(formatPhone(number))} name="code" inputMode="numeric"
        autoComplete="one-time-code" value={code} required error={errors.fields.code}
        onChange={(e) => setCode(e.target.value)} />
      <button type="submit" className="small" disabled={fetching}>
        {messages.profile.phones.verify}
      </button>
    </form>
  );
}

/** Your phone numbers (seed 002's texting): add one, verify it with the texted code, remove one. */
export function Phones() {
  const organization = useOrganization();
  const [{ data }] = useQuery({ query: PhonesQuery });
  const [number, setNumber] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [said, setSaid] = useState<string | null>(null);
  const [{ fetching: adding }, add] = useMutation(AddPhoneMutation);
  const [{ fetching: removing }, remove] = useMutation(RemovePhoneMutation);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaid(null);
    const result = await command((commandId) => add({ input: { number: number.trim(), commandId } }));
    setErrors(formErrors(result.error));
    if (result.data) {
      setSaid(messages.profile.phones.sent(formatPhone(result.data.addPhone.number)));
      setNumber('');
    }
  };
  const removeNumber = async (phone: string) => {
    const result = await command((commandId) => remove({ input: { number: phone, commandId } }));
    setErrors(formErrors(result.error, ['number']));
    if (result.data) setSaid(messages.profile.phones.removed(formatPhone(phone)));
  };

  const phones = data?.myPhones ?? [];
  return (
    <main id="content">
      <h1>{messages.profile.phones.title}</h1>
      <p>{messages.profile.phones.intro}</p>
      <div role="status">{said && <p className="success">{said}</p>}</div>
      {phones.length === 0 ? (
        <p>{messages.profile.phones.none}</p>
      ) : (
        <ul className="cards">
          {phones.map((phone) => (
            <li key={phone.id} className="card">
              <h2 className="card-title">{formatPhone(phone.number)}</h2>
              <p>
                {phone.verified ? messages.profile.phones.verified : messages.profile.phones.unverified} ·{' '}
                {messages.profile.phones.added(formatDateTime(phone.addedAt, organization.timeZone))}
              </p>
              {!phone.verified && (
                <Verify number={phone.number} onVerified={(n) => setSaid(messages.profile.phones.verifiedNow(formatPhone(n)))} />
              )}
              <button type="button" className="secondary small" disabled={removing}
                onClick={() => void removeNumber(phone.number)}>
                {messages.profile.phones.remove(formatPhone(phone.number))}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={messages.profile.phones.add} className="narrow">
        <h2>{messages.profile.phones.add}</h2>
        <FormAlert message={errors.form} />
        <Field label={messages.profile.phones.number} name="number" type="tel" autoComplete="tel" value={number}
          required error={errors.fields.number} onChange={(e) => setNumber(e.target.value)} />
        <button type="submit" disabled={adding}>
          {messages.profile.phones.submit}
        </button>
      </form>
    </main>
  );
}

import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql, type DocumentType } from '../../gql';
import type {
  AddressType,
  CreditEligibility,
  EnrollmentType,
  Prefix,
  SpecialNeed,
  UpdateProfileInput,
} from '../../gql/graphql';
import { command } from '../../commands';
import { Choice, Field, FormAlert, SelectField, optionsOf as options } from '../../components';
import { formErrors, type FormErrors } from '../../errors';
import { messages } from '../../messages';

/** The profile as the page shows it; saving answers the same selection, so the page shows what was saved. */
export const ProfileView = graphql(`
  fragment ProfileView on Account {
    id
    missingProfileFields
    profileComplete
    profile {
      id
      prefix
      employedByCareNetwork
      address {
        type
        line1
        line2
        city
        state
        postalCode
        country
      }
      dateOfBirth
      specialNeeds {
        none
        needs
      }
      enrollmentType
      stateLicense {
        state
        holds
        number
      }
      creditEligibility
    }
  }
`);

const ProfileQuery = graphql(`
  query ProfessionalProfile {
    me {
      ...ProfileView
    }
  }
`);

const UpdateProfileMutation = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      missingFields
      creditAwardedFor
      account {
        ...ProfileView
      }
    }
  }
`);

type Account = DocumentType<typeof ProfileView>;

/** The form's answers, as typed (strings; empty: not answered). */
interface Answers {
  prefix: string;
  employed: string;
  addressType: string;
  line1: string;
  line2: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
  dateOfBirth: string;
  noSpecialNeeds: boolean;
  needs: string[];
  enrollmentType: string;
  licenseState: string;
  licenseHolds: string;
  licenseNumber: string;
  creditEligibility: string;
}


function answersOf({ profile }: Account): Answers {
  const a = profile.address;
  return {
    prefix: profile.prefix ?? '',
    employed: profile.employedByCareNetwork ? 'yes' : 'no',
    addressType: a?.type ?? '',
    line1: a?.line1 ?? '',
    line2: a?.line2 ?? '',
    city: a?.city ?? '',
    state: a?.state ?? '',
    postalCode: a?.postalCode ?? '',
    country: a?.country ?? 'US',
    dateOfBirth: profile.dateOfBirth ?? '',
    noSpecialNeeds: profile.specialNeeds?.none ?? false,
    needs: profile.specialNeeds?.needs ?? [],
    enrollmentType: profile.enrollmentType ?? '',
    licenseState: profile.stateLicense?.state ?? '',
    licenseHolds: profile.stateLicense ? (profile.stateLicense.holds ? 'yes' : 'no') : '',
    licenseNumber: profile.stateLicense?.number ?? '',
    creditEligibility: profile.creditEligibility ?? '',
  };
}

/** The update the answers make: a part left wholly blank is left as it is (the API keeps what it has). */
export function inputOf(a: Answers): UpdateProfileInput {
  const address = [a.addressType, a.line1, a.line2, a.city, a.state, a.postalCode].some((v) => v.trim());
  const license = a.licenseState.trim() || a.licenseHolds;
  return {
    prefix: (a.prefix || null) as Prefix | null,
    employedByCareNetwork: a.employed === 'yes',
    address: address
      ? {
          type: (a.addressType || 'HOME') as AddressType,
          line1: a.line1.trim(),
          line2: a.line2.trim() || null,
          city: a.city.trim(),
          state: a.state.trim(),
          postalCode: a.postalCode.trim(),
          country: a.country.trim().toUpperCase(),
        }
      : null,
    dateOfBirth: a.dateOfBirth || null,
    specialNeeds:
      a.noSpecialNeeds || a.needs.length ? { none: a.noSpecialNeeds, needs: a.needs as SpecialNeed[] } : null,
    enrollmentType: (a.enrollmentType || null) as EnrollmentType | null,
    stateLicense: license
      ? {
          state: a.licenseState.trim().toUpperCase(),
          holds: a.licenseHolds === 'yes',
          number: a.licenseHolds === 'yes' ? a.licenseNumber.trim() || null : null,
        }
      : null,
    creditEligibility: (a.creditEligibility || null) as CreditEligibility | null,
  };
}

/** What is still missing, or the seed's congratulations. */
function Completion({ account }: { account: Account }) {
  if (account.profileComplete) {
    return (
      <p role="status" className="success">
        {messages.profile.complete}
      </p>
    );
  }
  return (
    <div role="status" className="answer">
      <p>{messages.profile.missing}</p>
      <ul>
        {account.missingProfileFields.map((field) => (
          <li key={field}>{(messages.profile.fields as Record<string, string>)[field] ?? field}</li>
        ))}
      </ul>
    </div>
  );
}

function ProfileForm({ account }: { account: Account }) {
  const [answers, setAnswers] = useState<Answers>(() => answersOf(account));
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [awarded, setAwarded] = useState(0);
  const [{ fetching }, update] = useMutation(UpdateProfileMutation);
  const t = messages.profile;
  const text = (name: keyof Answers) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setAnswers({ ...answers, [name]: e.target.value });
  const toggleNeed = (need: string, on: boolean) =>
    setAnswers({ ...answers, needs: on ? [...answers.needs, need] : answers.needs.filter((n) => n !== need) });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await command((commandId) => update({ input: { ...inputOf(answers), commandId } }));
    setErrors(formErrors(result.error));
    setAwarded(result.data?.updateProfile.creditAwardedFor.length ?? 0);
  };

  return (
    <>
      <Completion account={account} />
      {awarded > 0 && <p className="success">{t.creditAwarded(awarded)}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.title}>
        <FormAlert message={errors.form} />
        <SelectField label={t.fields.prefix} name="prefix" value={answers.prefix} options={options(t.prefixes)}
          placeholder={t.choose} error={errors.fields.prefix} onChange={text('prefix')} />
        <Choice legend={t.employed(t.careNetwork)} name="employed" value={answers.employed}
          options={options(t.yesNo)} error={errors.fields.employedByCareNetwork}
          onChange={(employed) => setAnswers({ ...answers, employed })} />
        <fieldset>
          <legend>{t.fields.address}</legend>
          <Choice legend={t.addressType} name="addressType" value={answers.addressType}
            options={options(t.addressTypes)} error={errors.fields['address.type']}
            onChange={(addressType) => setAnswers({ ...answers, addressType })} />
          <Field label={t.line1} name="line1" autoComplete="address-line1" value={answers.line1}
            error={errors.fields['address.line1']} onChange={text('line1')} />
          <Field label={t.line2} name="line2" autoComplete="address-line2" value={answers.line2}
            error={errors.fields['address.line2']} onChange={text('line2')} />
          <Field label={t.city} name="city" autoComplete="address-level2" value={answers.city}
            error={errors.fields['address.city']} onChange={text('city')} />
          <Field label={t.state} name="state" autoComplete="address-level1" value={answers.state}
            error={errors.fields['address.state']} onChange={text('state')} />
          <Field label={t.postalCode} name="postalCode" autoComplete="postal-code" value={answers.postalCode}
            error={errors.fields['address.postalCode']} onChange={text('postalCode')} />
          <Field label={t.country} name="country" autoComplete="country" value={answers.country} maxLength={2}
            error={errors.fields['address.country']} onChange={text('country')} />
        </fieldset>
        <Field label={t.dateOfBirth} name="dateOfBirth" type="date" value={answers.dateOfBirth}
          error={errors.fields.dateOfBirth} onChange={text('dateOfBirth')} />
        <fieldset aria-describedby={errors.fields.specialNeeds ? 'needs-error' : undefined}>
          <legend>{t.specialNeeds}</legend>
          <div className="check">
            <input id="need-none" type="checkbox" checked={answers.noSpecialNeeds}
              onChange={(e) => setAnswers({ ...answers, noSpecialNeeds: e.target.checked, needs: [] })} />
            <label htmlFor="need-none">{t.noNeeds}</label>
          </div>
          {Object.entries(t.needs).map(([need, label]) => (
            <div className="check" key={need}>
              <input id={`need-${need}`} type="checkbox" disabled={answers.noSpecialNeeds}
                checked={answers.needs.includes(need)} onChange={(e) => toggleNeed(need, e.target.checked)} />
              <label htmlFor={`need-${need}`}>{label}</label>
            </div>
          ))}
          {errors.fields.specialNeeds && (
            <p id="needs-error" className="field-error">
              {errors.fields.specialNeeds}
            </p>
          )}
        </fieldset>
        <SelectField label={t.enrollmentType} name="enrollmentType" value={answers.enrollmentType}
          options={options(t.enrollmentTypes)} placeholder={t.choose} error={errors.fields.enrollmentType}
          onChange={text('enrollmentType')} />
        <fieldset>
          <legend>{t.fields.stateLicense}</legend>
          <Field label={t.licenseState} name="licenseState" value={answers.licenseState} maxLength={2}
            error={errors.fields['stateLicense.state']} onChange={text('licenseState')} />
          <Choice legend={t.licenseHolds} name="licenseHolds" value={answers.licenseHolds} options={options(t.yesNo)}
            error={errors.fields['stateLicense.holds']}
            onChange={(licenseHolds) => setAnswers({ ...answers, licenseHolds })} />
          {answers.licenseHolds === 'yes' && (
            <Field label={t.licenseNumber} name="licenseNumber" value={answers.licenseNumber}
              error={errors.fields['stateLicense.number']} onChange={text('licenseNumber')} />
          )}
        </fieldset>
        <SelectField label={t.fields.creditEligibility} name="creditEligibility" value={answers.creditEligibility}
          options={options(t.eligibilities)} placeholder={t.choose} error={errors.fields.creditEligibility}
          onChange={text('creditEligibility')} />
        <button type="submit" disabled={fetching}>
          {fetching ? t.saving : t.save}
        </button>
      </form>
    </>
  );
}

/** My professional profile (seed 000): the fields credit needs, what is still missing, and Save. */
export function ProfessionalProfile() {
  const [{ data }] = useQuery({ query: ProfileQuery });
  const account = data?.me;
  return (
    <main id="content" className="narrow">
      <h1>{messages.profile.title}</h1>
      {account ? <ProfileForm key={account.id} account={account} /> : <p>{messages.loading}</p>}
    </main>
  );
}

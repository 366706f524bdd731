import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDate, personName } from '../../format';
import { optionalText, useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** A patient record as the staff pages show it, and as registering and issuing a code answer it. */
export const PatientItem = graphql(`
  fragment PatientItem on PatientRecord {
    id
    clinicNumber
    firstName
    lastName
    dateOfBirth
    email
    phone
    accountId
    signUpLocked
  }
`);

const RegisterPatientMutation = graphql(`
  mutation RegisterPatient($input: RegisterPatientInput!) {
    registerPatient(input: $input) {
      activationCode
      patient {
        ...PatientItem
      }
    }
  }
`);

const IssueCodeMutation = graphql(`
  mutation IssuePatientCode($patientId: ID!, $commandId: UUID) {
    issuePatientCode(patientId: $patientId, commandId: $commandId) {
      activationCode
      patient {
        ...PatientItem
      }
    }
  }
`);

const PatientsQuery = graphql(`
  query StaffPatients($search: String) {
    patients(search: $search, first: 20) {
      ...PatientItem
    }
  }
`);

/** A code handed to a patient: what it is for and where to use it, to print. */
export interface Handout {
  name: string;
  code: string;
}

/** The printable slip of an activation code (seed 001, "provided during a visit"). */
export function CodeHandout({ handout }: { handout: Handout }) {
  const t = messages.staff.patients;
  const organization = useOrganization();
  const signUp = `${window.location.origin}/o/${organization.code}/sign-up`;
  return (
    <section className="handout card" aria-labelledby="handout-title">
      <h2 id="handout-title">{t.handoutTitle(organization.name)}</h2>
      <p>{t.handoutFor(handout.name)}</p>
      <p className="handout-code">
        <code>{handout.code}</code>
      </p>
      <p>{t.handoutHow(signUp)}</p>
      <button type="button" className="secondary no-print" onClick={() => window.print()}>
        {t.print}
      </button>
    </section>
  );
}

/** Patients: register a record and hand out its activation code, or find one and issue a new code. */
export function Patients() {
  const t = messages.staff.patients;
  const empty = { clinicNumber: '', firstName: '', lastName: '', dateOfBirth: '', email: '', phone: '' };
  const [person, setPerson] = useState(empty);
  const [handout, setHandout] = useState<Handout | undefined>();
  // What was done last (registering or issuing a code), with the handout it made.
  const [notice, setNotice] = useState<string | undefined>();
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [{ data, error }] = useQuery({ query: PatientsQuery, variables: { search }, pause: search.length < 2 });
  const [{ fetching }, register] = useMutation(RegisterPatientMutation);
  const [{ fetching: issuing }, issue] = useMutation(IssueCodeMutation);
  const form = useCommand();
  const codes = useCommand(['patientId']);
  const set = (key: keyof typeof empty) => (e: { target: { value: string } }) =>
    setPerson({ ...person, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setHandout(undefined);
    setNotice(undefined);
    await form.run(
      (commandId) =>
        register({
          input: {
            ...person,
            clinicNumber: person.clinicNumber.trim(),
            email: optionalText(person.email),
            phone: optionalText(person.phone),
            commandId,
          },
        }),
      (answer) => {
        const name = personName(person);
        setHandout({ name, code: answer.registerPatient.activationCode });
        setPerson(empty);
        setNotice(person.email.trim() ? t.registeredMailed(name, person.email.trim()) : t.registered(name));
        return undefined;
      },
    );
  };
  const issueCode = (patient: { id: string; firstName?: string | null; lastName?: string | null }) =>
    void codes.run(
      (commandId) => issue({ patientId: patient.id, commandId }),
      (answer) => {
        setHandout({ name: personName(patient), code: answer.issuePatientCode.activationCode });
        setNotice(t.issued(personName(patient)));
        return undefined;
      },
    );

  return (
    <main id="content" className="narrow-forms">
      <h1>{t.title}</h1>
      <Done message={notice} />
      {handout && <CodeHandout handout={handout} />}
      <section aria-labelledby="register-patient" className="no-print">
        <h2 id="register-patient">{t.registerTitle}</h2>
        <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.registerTitle}>
          <FormAlert message={form.errors.form} />
          <Field label={t.clinicNumber} name="clinicNumber" value={person.clinicNumber} required
            error={form.errors.fields.clinicNumber} onChange={set('clinicNumber')} />
          <Field label={messages.register.firstName} name="firstName" value={person.firstName} required
            autoComplete="off" error={form.errors.fields.firstName} onChange={set('firstName')} />
          <Field label={messages.register.lastName} name="lastName" value={person.lastName} required
            autoComplete="off" error={form.errors.fields.lastName} onChange={set('lastName')} />
          <Field label={messages.signUp.dateOfBirth} name="dateOfBirth" type="date" value={person.dateOfBirth}
            required error={form.errors.fields.dateOfBirth} onChange={set('dateOfBirth')} />
          <Field label={t.email} name="email" type="email" value={person.email} autoComplete="off"
            error={form.errors.fields.email} onChange={set('email')} />
          <Field label={t.phone} name="phone" type="tel" value={person.phone} autoComplete="off"
            error={form.errors.fields.phone} onChange={set('phone')} />
          <button type="submit" disabled={fetching}>
            {fetching ? messages.staff.saving : t.register}
          </button>
        </form>
      </section>
      <section aria-labelledby="find-patient" className="no-print">
        <h2 id="find-patient">{t.findTitle}</h2>
        <form className="filters" role="search" aria-label={t.findTitle}
          onSubmit={(e) => {
            e.preventDefault();
            setSearch(typed.trim());
          }}>
          <Field label={t.search} name="search" value={typed} onChange={(e) => setTyped(e.target.value)} />
          <button type="submit">{messages.staff.sheet.find}</button>
        </form>
        <FormAlert message={codes.errors.form ?? (error ? formErrors(error).form : undefined)} />
        {data && data.patients.length === 0 && <p>{t.none}</p>}
        <ul className="cards">
          {data?.patients.map((patient) => (
            <li key={patient.id} className="card">
              <h3 className="card-title">{personName(patient)}</h3>
              <p>{t.facts(patient.clinicNumber ?? '', patient.dateOfBirth ? formatDate(patient.dateOfBirth) : '')}</p>
              <p>{patient.accountId ? t.signedUp : patient.signUpLocked ? t.locked : t.notSignedUp}</p>
              {!patient.accountId && (
                <button type="button" className="small" disabled={issuing} onClick={() => issueCode(patient)}>
                  {t.issue(personName(patient))}
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

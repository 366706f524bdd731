import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert, SelectField } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { CatalogueQuery } from '../patient/Book';

const PatientMedicationsQuery = graphql(`
  query PatientMedications($patientId: ID!) {
    patientMedications(patientId: $patientId) {
      ...MedicationItem
    }
  }
`);

const PrescribeMutation = graphql(`
  mutation PrescribeMedication($input: PrescribeMedicationInput!) {
    prescribeMedication(input: $input) {
      medication {
        ...MedicationItem
      }
    }
  }
`);

const DiscontinueMutation = graphql(`
  mutation DiscontinueMedication($medicationId: ID!) {
    discontinueMedication(medicationId: $medicationId) {
      medication {
        ...MedicationItem
      }
    }
  }
`);

/** Where a care page links to a patient's medications: the name goes along in the link's state, not its address. */
export interface MedicationsLinkState {
  patient: string;
  team?: string;
}

/** A patient's medications for the care team: prescribe one, and discontinue those still taken. */
export function PatientMedications() {
  const t = messages.care.medications;
  const { patientId = '' } = useParams();
  const organization = useOrganization();
  const from = (useLocation().state ?? {}) as Partial<MedicationsLinkState>;
  const patient = from.patient ?? messages.care.unknownPatient;
  const [{ data, error }, reread] = useQuery({ query: PatientMedicationsQuery, variables: { patientId } });
  const [{ data: catalogue }] = useQuery({ query: CatalogueQuery });
  const [{ fetching: prescribing }, prescribe] = useMutation(PrescribeMutation);
  const [{ fetching: stopping }, discontinue] = useMutation(DiscontinueMutation);
  const [draft, setDraft] = useState({ medication: '', instructions: '', prescriberId: from.team ?? '' });
  const form = useCommand(['patientId', 'medicationId']);
  const set = (key: keyof typeof draft) => (e: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: e.target.value });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const name = draft.medication.trim();
    const done = await form.run(
      (commandId) => prescribe({ input: { patientId, ...draft, medication: name, commandId } }),
      () => t.prescribed(name),
    );
    if (done) {
      setDraft({ ...draft, medication: '', instructions: '' });
      reread({ requestPolicy: 'network-only' });
    }
  };
  return (
    <main id="content" className="narrow-forms">
      <h1>{t.title(patient)}</h1>
      <FormAlert message={error ? formErrors(error).form : form.errors.form} />
      <Done message={form.said} />
      {data && data.patientMedications.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.patientMedications.map((medication) => {
          const name = medication.medication ?? messages.care.unknownMedication;
          return (
            <li key={medication.id} className="card">
              <h2 className="card-title">{name}</h2>
              {medication.instructions && <p>{medication.instructions}</p>}
              <p>{messages.medications.prescribed(medication.prescriber, formatDateTime(medication.prescribedAt, organization.timeZone))}</p>
              {medication.active ? (
                <button type="button" className="secondary small" disabled={stopping}
                  onClick={() => void form.run(() => discontinue({ medicationId: medication.id }), () => t.discontinued(name))}>
                  {t.discontinue(name)}
                </button>
              ) : (
                <p>{t.stopped}</p>
              )}
            </li>
          );
        })}
      </ul>
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.prescribeTitle}>
        <h2>{t.prescribeTitle}</h2>
        <Field label={t.medication} name="medication" value={draft.medication} error={form.errors.fields.medication}
          onChange={set('medication')} />
        <Field label={t.instructions} name="instructions" value={draft.instructions}
          error={form.errors.fields.instructions} onChange={set('instructions')} />
        <SelectField label={t.prescriber} name="prescriberId" value={draft.prescriberId} placeholder={messages.book.choose}
          options={(catalogue?.catalogue.providers ?? []).map((p) => ({ value: p.id, label: p.name }))}
          error={form.errors.fields.prescriberId} onChange={set('prescriberId')} />
        <button type="submit" disabled={prescribing}>
          {t.prescribe}
        </button>
      </form>
      <p>
        <Link to={`/o/${organization.code}/care`}>{messages.care.conversation.all}</Link>
      </p>
    </main>
  );
}

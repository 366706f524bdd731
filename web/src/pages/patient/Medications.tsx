import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** A medication as the page shows it, and as requesting a renewal answers it. */
export const MedicationItem = graphql(`
  fragment MedicationItem on MedicationView {
    id
    medication
    instructions
    prescriber
    active
    prescribedAt
    renewals {
      id
      status
      note
      requestedAt
      decidedAt
      declineReason
    }
  }
`);

const MedicationsQuery = graphql(`
  query Medications {
    medications {
      ...MedicationItem
    }
  }
`);

const RequestRenewalMutation = graphql(`
  mutation RequestRenewal($medicationId: ID!, $note: String, $commandId: UUID) {
    requestRenewal(medicationId: $medicationId, note: $note, commandId: $commandId) {
      medication {
        ...MedicationItem
      }
    }
  }
`);

/** Asks the care team to renew one medication, with an optional note. */
function RenewalForm({ medicationId, name, onRequested }: {
  medicationId: string;
  name: string;
  onRequested: () => void;
}) {
  const t = messages.medications;
  const [note, setNote] = useState('');
  const [{ fetching }, request] = useMutation(RequestRenewalMutation);
  const form = useCommand(['medicationId']);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => request({ medicationId, note: note.trim() || null, commandId }),
      () => {
        // The answer shows the pending request, and this form goes: the page says what was done.
        onRequested();
        return undefined;
      },
    );
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.renew(name)}>
      <FormAlert message={form.errors.form} />
      <Field label={t.note} name="note" value={note} error={form.errors.fields.note}
        onChange={(e) => setNote(e.target.value)} />
      <button type="submit" className="small" disabled={fetching}>
        {t.renew(name)}
      </button>
    </form>
  );
}

/** Seed 003's "manage prescriptions": the medications, active ones first, with renewal requests and their answers. */
export function Medications() {
  const t = messages.medications;
  const organization = useOrganization();
  const [{ data, error }] = useQuery({ query: MedicationsQuery });
  const [said, setSaid] = useState<string | undefined>();
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);
  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      <Done message={said} />
      {data && data.medications.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.medications.map((medication) => {
          const name = medication.medication ?? t.unnamed;
          const pending = medication.renewals.some((r) => r.status === 'pending');
          return (
            <li key={medication.id} className="card">
              <h2 className="card-title">{name}</h2>
              {medication.instructions && <p>{medication.instructions}</p>}
              <p>{t.prescribed(medication.prescriber, when(medication.prescribedAt))}</p>
              {!medication.active && <p>{t.stopped}</p>}
              {medication.renewals.length > 0 && (
                <ul>
                  {medication.renewals.map((renewal) => (
                    <li key={renewal.id}>
                      {t.renewal(when(renewal.requestedAt), t.statuses[renewal.status] ?? renewal.status)}
                      {renewal.declineReason && ` ${t.reason(renewal.declineReason)}`}
                    </li>
                  ))}
                </ul>
              )}
              {medication.active && !pending && (
                <RenewalForm medicationId={medication.id} name={name} onRequested={() => setSaid(t.requested(name))} />
              )}
            </li>
          );
        })}
      </ul>
    </main>
  );
}

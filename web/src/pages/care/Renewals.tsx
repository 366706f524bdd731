import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand, type CommandForm } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import type { MedicationsLinkState } from './PatientMedications';

const PendingQuery = graphql(`
  query PendingRenewals {
    pendingRenewals {
      id
      medicationId
      medication
      patientId
      patientName
      note
      requestedAt
      status
    }
  }
`);

/** What deciding a renewal answers: the request as it now is. */
export const RenewalAnswer = graphql(`
  fragment RenewalAnswer on CarePayload {
    renewal {
      id
      status
      decidedAt
      declineReason
    }
  }
`);

const ApproveMutation = graphql(`
  mutation ApproveRenewal($medicationId: ID!, $requestId: ID!) {
    approveRenewal(medicationId: $medicationId, requestId: $requestId) {
      ...RenewalAnswer
    }
  }
`);

const DeclineMutation = graphql(`
  mutation DeclineRenewal($medicationId: ID!, $requestId: ID!, $reason: String!) {
    declineRenewal(medicationId: $medicationId, requestId: $requestId, reason: $reason) {
      ...RenewalAnswer
    }
  }
`);

interface Request {
  id: string;
  medicationId: string;
  medication: string;
  patient: string;
}

/** Approve, or decline with the reason the patient reads; `form` is the page's, shared by every request. */
function Decide({ request, form, reasonError, acting, decided }: {
  request: Request;
  form: CommandForm;
  reasonError: string | undefined;
  acting: () => void;
  decided: () => void;
}) {
  const t = messages.care.renewals;
  const [reason, setReason] = useState('');
  const [{ fetching: approving }, approve] = useMutation(ApproveMutation);
  const [{ fetching: declining }, decline] = useMutation(DeclineMutation);
  const ids = { medicationId: request.medicationId, requestId: request.id };
  const answered = (said: string) => () => {
    decided();
    return said;
  };
  const refuse = (event: FormEvent) => {
    event.preventDefault();
    acting();
    void form.run(
      () => decline({ ...ids, reason }),
      answered(t.declined(request.medication, request.patient)),
    );
  };
  return (
    <>
      <button type="button" className="small" disabled={approving}
        onClick={() => {
          acting();
          void form.run(() => approve(ids), answered(t.approved(request.medication, request.patient)));
        }}>
        {t.approve(request.medication)}
      </button>
      <form onSubmit={refuse} noValidate aria-label={t.decline(request.medication)}>
        <Field label={t.reason} name="reason" value={reason} maxLength={500} error={reasonError}
          onChange={(e) => setReason(e.target.value)} />
        <button type="submit" className="small" disabled={declining}>
          {t.decline(request.medication)}
        </button>
      </form>
    </>
  );
}

/** Renewal requests waiting for a provider's decision, oldest first. */
export function Renewals() {
  const t = messages.care.renewals;
  const organization = useOrganization();
  const [{ data, error }, reread] = useQuery({ query: PendingQuery, requestPolicy: 'cache-and-network' });
  const form = useCommand(['medicationId', 'requestId']);
  // The request last acted on: the refusal of a reason belongs to its form only.
  const [current, setCurrent] = useState<string | undefined>();
  const pending = data?.pendingRenewals.filter((request) => request.status === 'pending') ?? [];
  return (
    <main id="content">
      <h1>{t.title}</h1>
      <FormAlert message={error ? formErrors(error).form : form.errors.form} />
      <Done message={form.said} />
      {data && pending.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {pending.map((renewal) => {
          const request = {
            id: renewal.id,
            medicationId: renewal.medicationId,
            medication: renewal.medication ?? messages.care.unknownMedication,
            patient: renewal.patientName ?? messages.care.unknownPatient,
          };
          return (
            <li key={renewal.id} className="card">
              <h2 className="card-title">{t.of(request.medication, request.patient)}</h2>
              <p>{t.asked(formatDateTime(renewal.requestedAt, organization.timeZone))}</p>
              <p>
                <Link to={`/o/${organization.code}/care/patients/${renewal.patientId}/medications`}
                  state={{ patient: request.patient } satisfies MedicationsLinkState}>
                  {messages.care.medications.link(request.patient)}
                </Link>
              </p>
              {renewal.note && <p>{t.note(renewal.note)}</p>}
              <Decide request={request} form={form}
                reasonError={current === renewal.id ? form.errors.fields.reason : undefined}
                acting={() => setCurrent(renewal.id)} decided={() => reread({ requestPolicy: 'network-only' })} />
            </li>
          );
        })}
      </ul>
    </main>
  );
}

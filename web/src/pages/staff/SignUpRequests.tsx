import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDate, formatDateTime, personName } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const RequestsQuery = graphql(`
  query SignUpRequests($atLeast: LogPosition) {
    signUpRequests(status: "pending", atLeast: $atLeast) {
      id
      firstName
      lastName
      dateOfBirth
      email
      phone
      clinicNumber
      submittedAt
    }
  }
`);

const CandidatesQuery = graphql(`
  query RequestCandidates($search: String) {
    patients(search: $search, first: 10) {
      ...PatientItem
    }
  }
`);

const ApproveMutation = graphql(`
  mutation ApproveSignUpRequest($input: ApproveSignUpRequestInput!) {
    approveSignUpRequest(input: $input) {
      position
      patient {
        ...PatientItem
      }
    }
  }
`);

const RejectMutation = graphql(`
  mutation RejectSignUpRequest($requestId: ID!, $reason: String!, $commandId: UUID) {
    rejectSignUpRequest(requestId: $requestId, reason: $reason, commandId: $commandId) {
      position
    }
  }
`);

interface Request {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  dateOfBirth?: string | null;
  email?: string | null;
  phone?: string | null;
  clinicNumber?: string | null;
  submittedAt: string;
}

/** One request: the records that may be the person, approve as one of them or as a new record, or reject. */
function RequestCard({ request, onDone }: { request: Request; onDone: (position: number) => void }) {
  const t = messages.staff.requests;
  const organization = useOrganization();
  const name = personName(request);
  const [{ data }] = useQuery({ query: CandidatesQuery, variables: { search: request.lastName ?? '' } });
  const [clinicNumber, setClinicNumber] = useState(request.clinicNumber ?? '');
  const [reason, setReason] = useState('');
  const [{ fetching: approving }, approve] = useMutation(ApproveMutation);
  const [{ fetching: rejecting }, reject] = useMutation(RejectMutation);
  const form = useCommand(['requestId']);
  const candidates = (data?.patients ?? []).filter((p) => p.dateOfBirth === request.dateOfBirth);

  const approveAs = (input: { patientId?: string; clinicNumber?: string }) =>
    void form.run(
      (commandId) => approve({ input: { requestId: request.id, ...input, commandId } }),
      (answer) => {
        if (answer.approveSignUpRequest.position != null) onDone(answer.approveSignUpRequest.position);
        return undefined;
      },
    );
  const refuse = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => reject({ requestId: request.id, reason, commandId }),
      (answer) => {
        if (answer.rejectSignUpRequest.position != null) onDone(answer.rejectSignUpRequest.position);
        return undefined;
      },
    );
  };

  return (
    <li className="card">
      <h2 className="card-title">{name}</h2>
      <p>{t.born(request.dateOfBirth ? formatDate(request.dateOfBirth) : '')}</p>
      <p>{[request.email, request.phone].filter(Boolean).join(' · ')}</p>
      {request.clinicNumber && <p>{t.gaveNumber(request.clinicNumber)}</p>}
      <p>{t.submitted(formatDateTime(request.submittedAt, organization.timeZone))}</p>
      <FormAlert message={form.errors.form} />
      <h3>{t.matches}</h3>
      {candidates.length === 0 && <p>{t.noMatch}</p>}
      <ul className="links">
        {candidates.map((patient) => (
          <li key={patient.id}>
            <button type="button" className="small" disabled={approving}
              onClick={() => approveAs({ patientId: patient.id })}>
              {t.approveAs(personName(patient), patient.clinicNumber ?? '')}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => {
        e.preventDefault();
        approveAs({ clinicNumber: clinicNumber.trim() });
      }} noValidate aria-label={t.newRecord(name)}>
        <Field label={t.newClinicNumber} name="clinicNumber" value={clinicNumber} required
          error={form.errors.fields.clinicNumber} onChange={(e) => setClinicNumber(e.target.value)} />
        <button type="submit" className="small" disabled={approving}>
          {t.approveNew(name)}
        </button>
      </form>
      <form onSubmit={(e) => void refuse(e)} noValidate aria-label={t.reject(name)}>
        <Field label={t.reason} name="reason" value={reason} required error={form.errors.fields.reason}
          onChange={(e) => setReason(e.target.value)} />
        <button type="submit" className="small secondary" disabled={rejecting}>
          {t.reject(name)}
        </button>
      </form>
    </li>
  );
}

/** The verification queue (seed 001, the third way): requests for a code, oldest first, approved or rejected. */
export function SignUpRequests() {
  const t = messages.staff.requests;
  const [atLeast, setAtLeast] = useState<number | null>(null);
  const [said, setSaid] = useState<string | undefined>();
  const [{ data, error }] = useQuery({
    query: RequestsQuery,
    variables: { atLeast },
    requestPolicy: 'cache-and-network',
  });
  return (
    <main id="content">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <Done message={said} />
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && data.signUpRequests.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.signUpRequests.map((request) => (
          <RequestCard key={request.id} request={request}
            onDone={(position) => {
              setSaid(t.done(personName(request)));
              setAtLeast(position);
            }} />
        ))}
      </ul>
    </main>
  );
}

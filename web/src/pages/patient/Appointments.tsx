import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import { graphql } from '../../gql';
import { Done, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { actingFor } from '../../acting';

/** An appointment as the pages show it, and as booking, cancelling and the live changes answer it. */
export const AppointmentItem = graphql(`
  fragment AppointmentItem on AppointmentView {
    id
    provider
    location
    reason
    startsAt
    endsAt
    status
  }
`);

const AppointmentsQuery = graphql(`
  query MyAppointments {
    myAppointments(upcoming: true) {
      ...AppointmentItem
    }
    patientPolicy {
      id
      cancellationCutoffHours
    }
  }
`);

const ChangesSubscription = graphql(`
  subscription AppointmentChanges {
    appointmentChanges {
      ...AppointmentItem
    }
  }
`);

/** Cancels an appointment. */
export const CancelMutation = graphql(`
  mutation CancelAppointment($appointmentId: ID!) {
    cancelAppointment(appointmentId: $appointmentId) {
      appointment {
        ...AppointmentItem
      }
    }
  }
`);

/** Your upcoming appointments, with the organization's cut-off for cancelling shown before you try. */
export function Appointments() {
  const t = messages.appointments;
  const organization = useOrganization();
  const [{ data, error }, reread] = useQuery({ query: AppointmentsQuery, requestPolicy: 'cache-and-network' });
  const [{ fetching }, cancel] = useMutation(CancelMutation);
  const [said, setSaid] = useState<string | undefined>();
  const form = useCommand(['appointmentId']);
  const cutoff = data?.patientPolicy.cancellationCutoffHours ?? 0;
  // Booked, moved or cancelled elsewhere (another device, the clinic): the list follows without a reload.
  // A socket cannot carry a proxy's open record: the changes would be the proxy's own, so a proxy's page has none.
  useSubscription({ query: ChangesSubscription, pause: actingFor() !== undefined }, (_previous, change) => {
    reread({ requestPolicy: 'network-only' });
    return change;
  });

  const cancelOne = (id: string, provider: string) =>
    void form.run(
      // Cancelling is idempotent (a cancelled appointment stays so), so a retry without a commandId is safe.
      () => cancel({ appointmentId: id }),
      // The answer carries the appointment's new status into the cache; the subscription reads the list again.
      () => {
        setSaid(t.cancelled(provider));
        return undefined;
      },
    );

  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <ul className="links">
        <li>
          <Link to={`/o/${organization.code}/appointments/book`}>{t.book}</Link>
        </li>
        <li>
          <Link to={`/o/${organization.code}/appointments/wait-list`}>{t.waitList}</Link>
        </li>
      </ul>
      <p>{cutoff ? t.cutoff(cutoff) : t.anyTime}</p>
      <FormAlert message={form.errors.form ?? (error ? formErrors(error).form : undefined)} />
      <Done message={said} />
      {data && data.myAppointments.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.myAppointments.map((appointment) => (
          <li key={appointment.id} className="card">
            <h2 className="card-title">{formatDateTime(appointment.startsAt, organization.timeZone)}</h2>
            <p>{t.with(appointment.provider, appointment.location)}</p>
            <p>{appointment.reason}</p>
            {appointment.status === 'cancelled' ? (
              <p className="tag">{t.isCancelled}</p>
            ) : (
              <div className="actions">
                <Link to={`/o/${organization.code}/appointments/book?move=${appointment.id}`}>
                  {t.move(formatDateTime(appointment.startsAt, organization.timeZone))}
                </Link>
                <button type="button" className="small secondary" disabled={fetching}
                  onClick={() => cancelOne(appointment.id, appointment.provider)}>
                  {t.cancel(formatDateTime(appointment.startsAt, organization.timeZone))}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </main>
  );
}

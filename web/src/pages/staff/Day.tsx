import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert, SelectField } from '../../components';
import { formErrors } from '../../errors';
import { addDays, formatDateTime, formatTime, todayIn } from '../../format';
import { useCommand, type CommandForm } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';
import { CancelMutation } from '../patient/Appointments';
import { BookMutation, CatalogueQuery, MoveMutation, OpenSlotsQuery } from '../patient/Book';
import { PatientPicker, type PickedPatient } from './PatientPicker';

const DayQuery = graphql(`
  query ProviderDay($providerId: ID!, $date: NaiveDate!) {
    providerDay(providerId: $providerId, date: $date) {
      ...AppointmentItem
      patientId
      patientName
    }
  }
`);

const NoShowMutation = graphql(`
  mutation RecordNoShow($appointmentId: ID!) {
    recordNoShow(appointmentId: $appointmentId) {
      appointment {
        ...AppointmentItem
      }
    }
  }
`);

/** The provider's open times of the week from `date`, as choices. */
function useOpenTimes(providerId: string, date: string, reasonId?: string) {
  const organization = useOrganization();
  const [{ data }, reread] = useQuery({
    query: OpenSlotsQuery,
    variables: { providerId, reasonId: reasonId || null, from: date, to: addDays(date, 6) },
    pause: !providerId,
    requestPolicy: 'network-only',
  });
  const times = (data?.openSlots ?? []).map((slot) => ({
    value: slot.id,
    label: formatDateTime(slot.startsAt, organization.timeZone),
  }));
  return { times, reread: () => reread({ requestPolicy: 'network-only' }) };
}

/** Moves one appointment to another open time of the provider. */
function Move({ appointment, providerId, date, form, moved }: {
  appointment: { id: string; patient: string };
  providerId: string;
  date: string;
  form: CommandForm;
  moved: () => void;
}) {
  const t = messages.staff.day;
  const [slotId, setSlotId] = useState('');
  const { times } = useOpenTimes(providerId, date);
  const [{ fetching }, move] = useMutation(MoveMutation);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const label = times.find((time) => time.value === slotId)?.label ?? '';
    void form.run(
      () => move({ appointmentId: appointment.id, slotId }),
      () => {
        moved();
        return t.moved(appointment.patient, label);
      },
    );
  };
  return (
    <form className="actions" onSubmit={submit} noValidate aria-label={t.move(appointment.patient)}>
      <SelectField label={t.moveTo(appointment.patient)} name="slotId" value={slotId} options={times}
        placeholder={t.chooseTime} onChange={(e) => setSlotId(e.target.value)} />
      <button type="submit" className="small" disabled={fetching || !slotId}>
        {t.move(appointment.patient)}
      </button>
    </form>
  );
}

/** Books an open time of the provider for a patient found by name or clinic number. */
function BookFor({ providerId, date, reasons, booked }: {
  providerId: string;
  date: string;
  reasons: { value: string; label: string }[];
  booked: () => void;
}) {
  const t = messages.staff.day;
  const [patient, setPatient] = useState<PickedPatient | undefined>();
  const [reasonId, setReasonId] = useState('');
  const [slotId, setSlotId] = useState('');
  const { times, reread } = useOpenTimes(providerId, date, reasonId);
  const [{ fetching }, book] = useMutation(BookMutation);
  const form = useCommand(['patientId']);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!patient) return;
    const label = times.find((time) => time.value === slotId)?.label ?? '';
    const done = await form.run(
      (commandId) => book({ input: { slotId, reasonId, patientId: patient.accountId, commandId } }),
      () => t.booked(patient.name, label),
    );
    if (done) {
      setSlotId('');
      reread();
      booked();
    }
  };
  return (
    <section aria-labelledby="book-for">
      <h2 id="book-for">{t.bookTitle}</h2>
      <Done message={form.said} />
      <PatientPicker picked={patient} onPick={setPatient} />
      {patient && (
        <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.bookTitle}>
          <FormAlert message={form.errors.form} />
          <SelectField label={t.reason} name="reasonId" value={reasonId} options={reasons}
            placeholder={messages.book.choose} error={form.errors.fields.reasonId}
            onChange={(e) => setReasonId(e.target.value)} />
          <SelectField label={t.time} name="slotId" value={slotId} options={times} placeholder={t.chooseTime}
            error={form.errors.fields.slotId} onChange={(e) => setSlotId(e.target.value)} />
          <button type="submit" disabled={fetching}>
            {t.book}
          </button>
        </form>
      )}
    </section>
  );
}

/** Seed 003 from the front desk: a provider's booked appointments of a day; no-shows, cancelling, moving, booking. */
export function Day() {
  const t = messages.staff.day;
  const organization = useOrganization();
  const [providerId, setProviderId] = useState('');
  const [date, setDate] = useState(() => todayIn(organization.timeZone));
  const [openedAt] = useState(() => Date.now());
  const [{ data: catalogue }] = useQuery({ query: CatalogueQuery });
  const [{ data, error }, reread] = useQuery({
    query: DayQuery,
    variables: { providerId, date },
    pause: !providerId,
    requestPolicy: 'network-only',
  });
  const [{ fetching: marking }, noShow] = useMutation(NoShowMutation);
  const [{ fetching: cancelling }, cancel] = useMutation(CancelMutation);
  const form = useCommand(['appointmentId', 'slotId']);
  const again = () => reread({ requestPolicy: 'network-only' });
  const providers = catalogue?.catalogue.providers ?? [];
  const provider = providers.find((p) => p.id === providerId);
  const reasons = (catalogue?.catalogue.visitReasons ?? [])
    .filter((r) => r.departmentIds.length === 0 || r.departmentIds.some((d) => provider?.departmentIds.includes(d)))
    .map((r) => ({ value: r.id, label: messages.book.reasonMinutes(r.name, r.minutes ?? 0) }));
  // What the page says after an action, once it read the day again.
  const done = (said: string) => () => {
    again();
    return said;
  };
  return (
    <main id="content">
      <h1>{t.title}</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t.title}>
        <SelectField label={t.provider} name="providerId" value={providerId} placeholder={messages.book.choose}
          options={providers.map((p) => ({ value: p.id, label: p.name }))} onChange={(e) => setProviderId(e.target.value)} />
        <Field label={t.date} name="date" type="date" value={date}
          onChange={(e) => setDate(e.target.value || todayIn(organization.timeZone))} />
      </form>
      <FormAlert message={error ? formErrors(error).form : form.errors.form} />
      <Done message={form.said} />
      {data && data.providerDay.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.providerDay.map((appointment) => {
          const patient = appointment.patientName ?? messages.care.unknownPatient;
          const time = formatTime(appointment.startsAt, organization.timeZone);
          // A no-show is recorded once the appointment has begun (the API refuses it before).
          const begun = Date.parse(appointment.startsAt) <= openedAt;
          return (
            <li key={appointment.id} className="card">
              <h2 className="card-title">{t.item(time, patient, appointment.reason, appointment.location)}</h2>
              <p className="actions">
                {begun && (
                  <button type="button" className="small" disabled={marking}
                    onClick={() => void form.run(() => noShow({ appointmentId: appointment.id }), done(t.noShowDone(patient)))}>
                    {t.noShow(patient, time)}
                  </button>
                )}
                <button type="button" className="secondary small" disabled={cancelling}
                  onClick={() => void form.run(() => cancel({ appointmentId: appointment.id }), done(t.cancelled(patient)))}>
                  {t.cancel(patient, time)}
                </button>
              </p>
              <Move appointment={{ id: appointment.id, patient }} providerId={providerId} date={date} form={form}
                moved={again} />
            </li>
          );
        })}
      </ul>
      {providerId && <BookFor providerId={providerId} date={date} reasons={reasons} booked={again} />}
    </main>
  );
}

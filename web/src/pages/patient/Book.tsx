import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert, SelectField } from '../../components';
import { formErrors } from '../../errors';
import { addDays, formatDateTime, todayIn } from '../../format';
import { optionalText, useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** The catalogue: locations, departments, providers and visit reasons. */
export const CatalogueQuery = graphql(`
  query Catalogue {
    catalogue {
      id
      locations {
        id
        name
      }
      departments {
        id
        name
      }
      providers {
        id
        name
        departmentIds
        locationIds
      }
      visitReasons {
        id
        name
        minutes
        departmentIds
      }
    }
  }
`);

/** Open times, by place, provider, reason and days. */
export const OpenSlotsQuery = graphql(`
  query OpenSlots($locationId: ID, $departmentId: ID, $providerId: ID, $reasonId: ID, $from: NaiveDate, $to: NaiveDate) {
    openSlots(locationId: $locationId, departmentId: $departmentId, providerId: $providerId, reasonId: $reasonId,
      from: $from, to: $to, first: 40) {
      id
      provider
      location
      startsAt
    }
  }
`);

const JoinWaitListMutation = graphql(`
  mutation JoinWaitList($input: JoinWaitListInput!) {
    joinWaitList(input: $input) {
      waitListEntry {
        ...WaitListItem
      }
    }
  }
`);

const SummaryQuery = graphql(`
  query BookingSummary($slotId: ID!, $reasonId: ID!) {
    bookingSummary(slotId: $slotId, reasonId: $reasonId) {
      id
      provider
      location
      address
      reason
      minutes
      startsAt
      cancellationCutoffHours
    }
  }
`);

/** Moves an appointment to another slot in one step. */
export const MoveMutation = graphql(`
  mutation RescheduleAppointment($appointmentId: ID!, $slotId: ID!) {
    rescheduleAppointment(appointmentId: $appointmentId, slotId: $slotId) {
      appointment {
        ...AppointmentItem
      }
    }
  }
`);

/** Books a slot (staff: for `patientId`). */
export const BookMutation = graphql(`
  mutation BookAppointment($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      appointment {
        ...AppointmentItem
      }
    }
  }
`);

interface Choice {
  locationId: string;
  departmentId: string;
  providerId: string;
  reasonId: string;
}

/** An instant as the `ics` package takes it in UTC: [year, month, day, hour, minute]. */
function utcParts(instant: string): [number, number, number, number, number] {
  const d = new Date(instant);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
}

interface Booked {
  id: string;
  provider: string;
  location: string;
  reason: string;
  startsAt: string;
  endsAt: string;
}

/** "Add to calendar": the appointment as an iCalendar file (RFC 5545, made by the `ics` package, loaded here only). */
function AddToCalendar({ appointment }: { appointment: Booked }) {
  const [file, setFile] = useState<string | undefined>();
  useEffect(() => {
    let url: string | undefined;
    void import('ics').then(({ createEvent }) => {
      const { value } = createEvent({
        uid: `${appointment.id}@portal`,
        title: `${appointment.reason}: ${appointment.provider}`,
        location: appointment.location,
        start: utcParts(appointment.startsAt),
        startInputType: 'utc',
        startOutputType: 'utc',
        end: utcParts(appointment.endsAt),
        endInputType: 'utc',
        endOutputType: 'utc',
      });
      if (!value) return;
      url = URL.createObjectURL(new Blob([value], { type: 'text/calendar' }));
      setFile(url);
    });
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [appointment]);
  return file ? (
    <a href={file} download="appointment.ics">
      {messages.book.addToCalendar}
    </a>
  ) : null;
}

/** Step 3: contact details and insurance, the summary to review, and Confirm. */
function Review({ slotId, reasonId, moving, onBack }: {
  slotId: string;
  reasonId: string;
  /** The appointment to move to this slot, in one step, instead of booking a new one. */
  moving?: string | undefined;
  onBack: () => void;
}) {
  const t = messages.book;
  const organization = useOrganization();
  const [{ data, error }] = useQuery({
    query: SummaryQuery,
    variables: { slotId, reasonId },
    requestPolicy: 'network-only',
  });
  const [details, setDetails] = useState({ email: '', phone: '', payer: '', memberId: '', group: '' });
  const [booked, setBooked] = useState<Booked | undefined>();
  const [{ fetching }, book] = useMutation(BookMutation);
  const [{ fetching: moveFetching }, move] = useMutation(MoveMutation);
  const form = useCommand(['slotId', 'reasonId']);
  const set = (key: keyof typeof details) => (e: { target: { value: string } }) =>
    setDetails({ ...details, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (moving) {
      // Moving is one step on the server: the old slot is freed only if the new one is taken. It takes no
      // commandId; a retry after a lost answer finds the appointment already moved and says so.
      await form.run(
        () => move({ appointmentId: moving, slotId }),
        (answer) => {
          const appointment = answer.rescheduleAppointment.appointment;
          if (appointment) setBooked(appointment);
          return undefined;
        },
      );
      return;
    }
    await form.run(
      (commandId) =>
        book({
          input: {
            slotId,
            reasonId,
            contactEmail: optionalText(details.email),
            contactPhone: optionalText(details.phone),
            insurance: details.payer.trim()
              ? { payer: details.payer.trim(), memberId: details.memberId.trim(), group: optionalText(details.group) }
              : null,
            commandId,
          },
        }),
      (answer) => {
        const appointment = answer.bookAppointment.appointment;
        if (appointment) setBooked(appointment);
        return undefined;
      },
    );
  };

  if (booked) {
    return (
      <section aria-labelledby="booked" className="answer">
        <h2 id="booked">{moving ? t.moved : t.booked}</h2>
        <p role="status">{t.bookedWith(booked.provider, formatDateTime(booked.startsAt, organization.timeZone))}</p>
        <p className="actions">
          <AddToCalendar appointment={booked} />
        </p>
        <Link to={`/o/${organization.code}/appointments`}>{t.yourAppointments}</Link>
      </section>
    );
  }
  const summary = data?.bookingSummary;
  return (
    <section aria-labelledby="review">
      <h2 id="review">{t.reviewTitle}</h2>
      <FormAlert
        message={
          form.errors.code === 'SLOT_TAKEN'
            ? t.taken
            : (form.errors.form ?? (error ? formErrors(error, ['slotId', 'reasonId']).form : undefined))
        }
      />
      {summary && (
        <dl className="facts">
          <dt>{t.when}</dt>
          <dd>{t.whenValue(formatDateTime(summary.startsAt, organization.timeZone), summary.minutes)}</dd>
          <dt>{t.with}</dt>
          <dd>{summary.provider}</dd>
          <dt>{t.where}</dt>
          <dd>{[summary.location, summary.address].filter(Boolean).join(', ')}</dd>
          <dt>{t.reason}</dt>
          <dd>{summary.reason}</dd>
          <dt>{t.cutoff}</dt>
          <dd>{summary.cancellationCutoffHours ? t.cutoffHours(summary.cancellationCutoffHours) : t.anyTime}</dd>
        </dl>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.reviewTitle}>
        {!moving && (
          <>
            <Field label={t.email} name="contactEmail" type="email" autoComplete="email" value={details.email}
              error={form.errors.fields.contactEmail} onChange={set('email')} />
            <Field label={t.phone} name="contactPhone" type="tel" autoComplete="tel" value={details.phone}
              error={form.errors.fields.contactPhone} onChange={set('phone')} />
            <fieldset>
              <legend>{t.insurance}</legend>
              <Field label={t.payer} name="payer" value={details.payer} error={form.errors.fields['insurance.payer']}
                onChange={set('payer')} />
              <Field label={t.memberId} name="memberId" value={details.memberId}
                error={form.errors.fields['insurance.memberId']} onChange={set('memberId')} />
              <Field label={t.group} name="group" value={details.group} error={form.errors.fields['insurance.group']}
                onChange={set('group')} />
            </fieldset>
          </>
        )}
        <div className="actions">
          <button type="submit" disabled={fetching || moveFetching || !summary}>
            {moving ? t.confirmMove : t.confirm}
          </button>
          <button type="button" className="secondary" onClick={onBack}>
            {t.back}
          </button>
        </div>
      </form>
    </section>
  );
}

/** Book an appointment (seed 003): where, with whom and why; a day and an open time; then review and confirm. */
export function Book() {
  const t = messages.book;
  const organization = useOrganization();
  // `?move=<appointmentId>`: choosing a new time for an appointment (seed 003: reschedule in one step).
  const moving = useSearchParams()[0].get('move') ?? undefined;
  const [{ data, error }] = useQuery({ query: CatalogueQuery });
  const [choice, setChoice] = useState<Choice>({ locationId: '', departmentId: '', providerId: '', reasonId: '' });
  const [day, setDay] = useState(() => todayIn(organization.timeZone));
  const [slotId, setSlotId] = useState<string | undefined>();
  const catalogue = data?.catalogue;
  const chosen = Boolean(choice.reasonId);
  const [{ data: slots }, rereadSlots] = useQuery({
    query: OpenSlotsQuery,
    variables: {
      locationId: choice.locationId || null,
      departmentId: choice.departmentId || null,
      providerId: choice.providerId || null,
      reasonId: choice.reasonId || null,
      from: day,
      to: addDays(day, 6),
    },
    pause: !chosen,
    requestPolicy: 'network-only',
  });
  const set = (key: keyof Choice) => (e: { target: { value: string } }) => {
    setChoice({ ...choice, [key]: e.target.value });
    setSlotId(undefined);
  };
  const fits = (entry: { departmentIds: string[]; locationIds?: string[] }) =>
    (!choice.departmentId || entry.departmentIds.length === 0 || entry.departmentIds.includes(choice.departmentId)) &&
    (!choice.locationId || !entry.locationIds || entry.locationIds.includes(choice.locationId));
  // With a provider chosen, only the reasons of their departments: another department's reason has no time with them.
  const provider = catalogue?.providers.find((p) => p.id === choice.providerId);
  const theirs = (reason: { departmentIds: string[] }) =>
    !provider || reason.departmentIds.length === 0 || reason.departmentIds.some((d) => provider.departmentIds.includes(d));
  const options = (entries: readonly { id: string; name: string }[]) =>
    entries.map((e) => ({ value: e.id, label: e.name }));

  if (slotId) {
    return (
      <main id="content" className="page narrow-forms">
        <h1>{moving ? t.moveTitle : t.title}</h1>
        <Review slotId={slotId} reasonId={choice.reasonId} moving={moving}
          onBack={() => {
            // Back to the times as they now are: the one reviewed may have just been taken.
            setSlotId(undefined);
            rereadSlots({ requestPolicy: 'network-only' });
          }} />
      </main>
    );
  }
  return (
    <main id="content" className="page narrow-forms">
      <h1>{moving ? t.moveTitle : t.title}</h1>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {catalogue && (
        <form className="filters" aria-label={t.what} onSubmit={(e) => e.preventDefault()}>
          <SelectField label={t.location} name="locationId" value={choice.locationId} placeholder={t.any}
            options={options(catalogue.locations)} onChange={set('locationId')} />
          <SelectField label={t.department} name="departmentId" value={choice.departmentId} placeholder={t.any}
            options={options(catalogue.departments)} onChange={set('departmentId')} />
          <SelectField label={t.provider} name="providerId" value={choice.providerId} placeholder={t.any}
            options={options(catalogue.providers.filter(fits))} onChange={set('providerId')} />
          <SelectField label={t.reason} name="reasonId" value={choice.reasonId} placeholder={t.choose}
            options={catalogue.visitReasons
              .filter((reason) => fits(reason) && theirs(reason))
              .map((r) => ({ value: r.id, label: t.reasonMinutes(r.name, r.minutes ?? 0) }))}
            onChange={set('reasonId')} />
          <Field label={t.from} name="from" type="date" value={day} min={todayIn(organization.timeZone)}
            onChange={(e) => setDay(e.target.value || todayIn(organization.timeZone))} />
        </form>
      )}
      {!chosen && <p>{t.chooseReason}</p>}
      {chosen && slots && (
        <section aria-labelledby="times">
          <h2 id="times">{t.times}</h2>
          {slots.openSlots.length === 0 && <p>{t.noTimes}</p>}
          <ul className="slots">
            {slots.openSlots.map((slot) => (
              <li key={slot.id}>
                <button type="button" className="secondary small" onClick={() => setSlotId(slot.id)}>
                  {t.slot(formatDateTime(slot.startsAt, organization.timeZone), slot.provider, slot.location)}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {chosen && (choice.providerId || choice.departmentId) && (
        <JoinWaitList choice={choice} moving={moving} />
      )}
    </main>
  );
}

/** Seed 003's wait list: wait for an earlier time with the chosen provider (or department) and reason. */
function JoinWaitList({ choice, moving }: { choice: Choice; moving: string | undefined }) {
  const t = messages.book;
  const organization = useOrganization();
  const [{ fetching }, join] = useMutation(JoinWaitListMutation);
  const form = useCommand(['providerId', 'departmentId', 'reasonId', 'appointmentId']);
  return (
    <section aria-labelledby="wait">
      <h2 id="wait">{t.waitTitle}</h2>
      <p>{t.waitIntro}</p>
      <FormAlert message={form.errors.form} />
      <Done message={form.said} />
      {form.said ? (
        <Link to={`/o/${organization.code}/appointments/wait-list`}>{t.waitList}</Link>
      ) : (
        <button type="button" className="secondary" disabled={fetching}
          onClick={() =>
            void form.run(
              (commandId) =>
                join({
                  input: {
                    // A provider when chosen, else any provider of the department.
                    providerId: choice.providerId || null,
                    departmentId: choice.providerId ? null : choice.departmentId,
                    reasonId: choice.reasonId,
                    appointmentId: moving ?? null,
                    commandId,
                  },
                }),
              () => t.joined,
            )
          }>
          {t.joinWait}
        </button>
      )}
    </section>
  );
}

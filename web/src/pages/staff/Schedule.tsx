import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import type { Audience, CreditType, Frequency, SeriesKind } from '../../gql/graphql';
import { Done, Field, FormAlert, SelectField, optionsOf } from '../../components';
import type { FormErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { optionalNumber, useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const ScheduleActivityMutation = graphql(`
  mutation ScheduleActivity($input: ActivityInput!) {
    scheduleActivity(input: $input) {
      activityId
      activity {
        id
        title
        code
      }
    }
  }
`);

const ScheduleSeriesMutation = graphql(`
  mutation ScheduleSeries($input: SeriesInput!) {
    scheduleSeries(input: $input) {
      seriesId
      activities {
        id
        title
        code
        startsAt
      }
    }
  }
`);

/** What an activity and a series both ask: when, where, for whom, for which credit. */
interface Common {
  title: string;
  startsAt: string;
  endsAt: string;
  location: string;
  specialty: string;
  audience: string;
  minutesBefore: string;
  minutesAfter: string;
  creditType: string;
  amount: string;
  evaluationRequired: boolean;
}

const blank: Common = {
  title: '',
  startsAt: '',
  endsAt: '',
  location: '',
  specialty: '',
  audience: '',
  minutesBefore: '',
  minutesAfter: '',
  creditType: 'AMA_PRA_CATEGORY_1',
  amount: '1.00',
  evaluationRequired: false,
};

/** The input fields an activity and a series share, with the values the API defaults left out. */
function commonInput(value: Common) {
  return {
    title: value.title,
    location: value.location || null,
    specialty: value.specialty || null,
    audience: (value.audience || null) as Audience | null,
    minutesBefore: optionalNumber(value.minutesBefore),
    minutesAfter: optionalNumber(value.minutesAfter),
    credits: [{ type: value.creditType as CreditType, amount: value.amount }],
    evaluationRequired: value.evaluationRequired,
  };
}

/** The refusal of the credit (`credits`, `credits[0].amount`, ...), shown at the amount. */
const creditError = (errors: FormErrors) =>
  Object.entries(errors.fields).find(([field]) => field.startsWith('credits'))?.[1];

/** The fields an activity and a series share; `first` names the times of a series' first meeting. */
function CommonFields({ value, onChange, errors, first }: {
  value: Common;
  onChange: (value: Common) => void;
  errors: FormErrors;
  first: boolean;
}) {
  const t = messages.staff.schedule;
  const set = (key: keyof Common) => (e: { target: { value: string } }) => onChange({ ...value, [key]: e.target.value });
  const startField = first ? 'firstStartsAt' : 'startsAt';
  const endField = first ? 'firstEndsAt' : 'endsAt';
  return (
    <>
      <Field label={t.title} name="title" value={value.title} required error={errors.fields.title}
        onChange={set('title')} />
      <Field label={first ? t.firstStartsAt : t.startsAt} name={startField} type="datetime-local" required
        value={value.startsAt} error={errors.fields[startField]} onChange={set('startsAt')} />
      <Field label={first ? t.firstEndsAt : t.endsAt} name={endField} type="datetime-local" required
        value={value.endsAt} error={errors.fields[endField]} onChange={set('endsAt')} />
      <Field label={t.location} name="location" value={value.location} error={errors.fields.location}
        onChange={set('location')} />
      <Field label={t.specialty} name="specialty" value={value.specialty} error={errors.fields.specialty}
        onChange={set('specialty')} />
      <SelectField label={t.audience} name="audience" value={value.audience} options={optionsOf(t.audiences)}
        placeholder={first ? t.defaultAffiliates : t.defaultOpen} error={errors.fields.audience}
        onChange={set('audience')} />
      <Field label={t.minutesBefore} name="minutesBefore" type="number" inputMode="numeric" min={0} max={1440}
        placeholder="15" value={value.minutesBefore} error={errors.fields.minutesBefore}
        onChange={set('minutesBefore')} />
      <Field label={t.minutesAfter} name="minutesAfter" type="number" inputMode="numeric" min={0} max={1440}
        placeholder="30" value={value.minutesAfter} error={errors.fields.minutesAfter}
        onChange={set('minutesAfter')} />
      <fieldset>
        <legend>{t.credit}</legend>
        <SelectField label={t.creditType} name="creditType" value={value.creditType}
          options={optionsOf(messages.staff.creditTypes)} placeholder={t.choose} onChange={set('creditType')} />
        <Field label={t.amount} name="amount" inputMode="decimal" required value={value.amount}
          error={creditError(errors)} onChange={set('amount')} />
      </fieldset>
      <div className="check">
        <input id={`${startField}-evaluation`} type="checkbox" checked={value.evaluationRequired}
          onChange={(e) => onChange({ ...value, evaluationRequired: e.target.checked })} />
        <label htmlFor={`${startField}-evaluation`}>{t.evaluationRequired}</label>
      </div>
    </>
  );
}

/** Puts one course on the calendar, and links its page. */
function ActivityForm() {
  const t = messages.staff.schedule;
  const organization = useOrganization();
  const [value, setValue] = useState<Common>(blank);
  const [code, setCode] = useState('');
  const [scheduled, setScheduled] = useState<{ id: string; title: string } | undefined>();
  const [{ fetching }, schedule] = useMutation(ScheduleActivityMutation);
  const form = useCommand();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setScheduled(undefined);
    await form.run(
      (commandId) =>
        schedule({ input: { ...commonInput(value), startsAt: value.startsAt, endsAt: value.endsAt, code, commandId } }),
      (data) => {
        setScheduled({ id: data.scheduleActivity.activityId, title: value.title });
        setValue(blank);
        setCode('');
        return t.scheduled(value.title, code.toUpperCase());
      },
    );
  };

  return (
    <section aria-labelledby="schedule-activity">
      <h2 id="schedule-activity">{t.activityTitle}</h2>
      <Done message={form.said} />
      {scheduled && (
        <p>
          <Link to={`/o/${organization.code}/calendar/${scheduled.id}`}>{t.open(scheduled.title)}</Link>
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.activityTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.code} name="code" value={code} required autoCapitalize="characters"
          error={form.errors.fields.code} onChange={(e) => setCode(e.target.value)} />
        <CommonFields value={value} onChange={setValue} errors={form.errors} first={false} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.submitActivity}
        </button>
      </form>
    </section>
  );
}

/** Schedules a Regularly Scheduled Series, and lists its meetings with their generated codes. */
function SeriesForm() {
  const t = messages.staff.schedule;
  const organization = useOrganization();
  const [value, setValue] = useState<Common>(blank);
  const [kind, setKind] = useState('GRAND_ROUNDS');
  const [frequency, setFrequency] = useState('WEEKLY');
  const [every, setEvery] = useState('');
  const [meetings, setMeetings] = useState('4');
  const [scheduled, setScheduled] = useState<{ id: string; code?: string | null; startsAt: string }[]>([]);
  const [{ fetching }, schedule] = useMutation(ScheduleSeriesMutation);
  const form = useCommand();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setScheduled([]);
    await form.run(
      (commandId) =>
        schedule({
          input: {
            ...commonInput(value),
            firstStartsAt: value.startsAt,
            firstEndsAt: value.endsAt,
            seriesKind: kind as SeriesKind,
            frequency: frequency as Frequency,
            interval: optionalNumber(every),
            count: Number(meetings),
            commandId,
          },
        }),
      (data) => {
        setScheduled(data.scheduleSeries.activities);
        setValue(blank);
        return t.seriesScheduled(value.title, data.scheduleSeries.activities.length);
      },
    );
  };

  return (
    <section aria-labelledby="schedule-series">
      <h2 id="schedule-series">{t.seriesTitle}</h2>
      <p>{t.seriesIntro}</p>
      <Done message={form.said} />
      {scheduled.length > 0 && (
        <ul>
          {scheduled.map((meeting) => (
            <li key={meeting.id}>
              <Link to={`/o/${organization.code}/calendar/${meeting.id}`}>
                {t.meeting(meeting.code ?? '', formatDateTime(meeting.startsAt, organization.timeZone))}
              </Link>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.seriesTitle}>
        <FormAlert message={form.errors.form} />
        <SelectField label={t.seriesKind} name="seriesKind" value={kind} options={optionsOf(t.seriesKinds)}
          placeholder={t.choose} error={form.errors.fields.seriesKind} onChange={(e) => setKind(e.target.value)} />
        <SelectField label={t.frequency} name="frequency" value={frequency} options={optionsOf(t.frequencies)}
          placeholder={t.choose} error={form.errors.fields.frequency} onChange={(e) => setFrequency(e.target.value)} />
        <Field label={t.interval} name="interval" type="number" inputMode="numeric" min={1} max={4} placeholder="1"
          value={every} error={form.errors.fields.interval} onChange={(e) => setEvery(e.target.value)} />
        <Field label={t.count} name="count" type="number" inputMode="numeric" min={1} max={60} required
          value={meetings} error={form.errors.fields.count} onChange={(e) => setMeetings(e.target.value)} />
        <CommonFields value={value} onChange={setValue} errors={form.errors} first />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.submitSeries}
        </button>
      </form>
    </section>
  );
}

/** Schedule: a course, or a Regularly Scheduled Series, on the organization's clocks. */
export function Schedule() {
  const organization = useOrganization();
  return (
    <main id="content" className="narrow-forms">
      <h1>{messages.staff.schedule.heading}</h1>
      <p>{messages.staff.schedule.intro(organization.timeZone)}</p>
      <ActivityForm />
      <SeriesForm />
    </main>
  );
}

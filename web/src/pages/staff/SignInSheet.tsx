import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, Field, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { addDays, formatDateTime, personName, todayIn } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const SheetActivitiesQuery = graphql(`
  query SheetActivities($from: NaiveDate!, $text: String) {
    calendar(from: $from, text: $text, includeRss: true, first: 20) {
      edges {
        node {
          id
          title
          code
          startsAt
        }
      }
    }
  }
`);

const SheetLearnersQuery = graphql(`
  query SheetLearners($search: String!) {
    learners(search: $search) {
      id
      firstName
      lastName
      email
    }
  }
`);

const RecordForMutation = graphql(`
  mutation RecordAttendanceFor($input: RecordAttendanceForInput!) {
    recordAttendanceFor(input: $input) {
      learnerId
      activityTitle
      status
    }
  }
`);

/** Sheets of activities from this many days ago on: a sheet is often entered some days after the meeting. */
const SHEET_DAYS_BACK = 30;

interface SheetActivity {
  id: string;
  title: string;
  startsAt: string;
}

/** Finds the learners of a sheet by name or address and records each one's attendance. */
function Learners({ activity }: { activity: SheetActivity }) {
  const t = messages.staff.sheet;
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [recorded, setRecorded] = useState<string[]>([]);
  const [{ data, error }] = useQuery({
    query: SheetLearnersQuery,
    variables: { search },
    pause: search.length < 2,
  });
  const [{ fetching }, record] = useMutation(RecordForMutation);
  const form = useCommand(['learnerId', 'activityId']);

  const find = (event: FormEvent) => {
    event.preventDefault();
    setSearch(typed.trim());
  };
  const recordFor = async (learner: { id: string; firstName?: string | null; lastName?: string | null }) => {
    const name = personName(learner);
    await form.run(
      (commandId) => record({ input: { learnerId: learner.id, activityId: activity.id, commandId } }),
      (data) => {
        setRecorded((ids) => [...ids, learner.id]);
        return data.recordAttendanceFor.status === 'AWARDED' ? t.awarded(name) : t.pending(name);
      },
    );
  };

  return (
    <section aria-labelledby="sheet-learners">
      <h2 id="sheet-learners">{t.learnersOf(activity.title)}</h2>
      <form onSubmit={find} className="filters" role="search" aria-label={t.findLearner}>
        <Field label={t.learnerSearch} name="search" value={typed} onChange={(e) => setTyped(e.target.value)} />
        <button type="submit">{t.find}</button>
      </form>
      <FormAlert message={form.errors.form ?? (error ? formErrors(error).form : undefined)} />
      <Done message={form.said} />
      {data && data.learners.length === 0 && <p>{t.noLearners}</p>}
      <ul className="cards">
        {data?.learners.map((learner) => {
          const name = personName(learner);
          return (
            <li key={learner.id} className="card">
              <h3 className="card-title">{name}</h3>
              <p>{learner.email}</p>
              {recorded.includes(learner.id) ? (
                <p>{t.recorded}</p>
              ) : (
                <button type="button" className="small" disabled={fetching} onClick={() => void recordFor(learner)}>
                  {t.record(name)}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** Record attendance from a sign-in sheet: choose the activity, then find each learner on the sheet. */
export function SignInSheet() {
  const t = messages.staff.sheet;
  const organization = useOrganization();
  const [typed, setTyped] = useState('');
  const [text, setText] = useState('');
  // The first day of the activities a sheet may be for, on the organization's clocks.
  const [from] = useState(() => addDays(todayIn(organization.timeZone), -SHEET_DAYS_BACK));
  const [chosen, setChosen] = useState<SheetActivity | undefined>();
  const [{ data, error }] = useQuery({ query: SheetActivitiesQuery, variables: { from, text: text || null } });

  const find = (event: FormEvent) => {
    event.preventDefault();
    setText(typed.trim());
  };

  return (
    <main id="content">
      <h1>{t.title}</h1>
      <p>{t.intro(SHEET_DAYS_BACK)}</p>
      <form onSubmit={find} className="filters" role="search" aria-label={t.findActivity}>
        <Field label={t.activitySearch} name="text" value={typed} onChange={(e) => setTyped(e.target.value)} />
        <button type="submit">{t.find}</button>
      </form>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && data.calendar.edges.length === 0 && <p>{t.noActivities}</p>}
      <ul className="cards">
        {data?.calendar.edges.map(({ node }) => (
          <li key={node.id} className="card">
            <h2 className="card-title">{node.title}</h2>
            <p>{formatDateTime(node.startsAt, organization.timeZone)}</p>
            {node.code && <p>{t.code(node.code)}</p>}
            {chosen?.id === node.id ? (
              <p>{t.chosen}</p>
            ) : (
              <button type="button" className="small" onClick={() => setChosen(node)}>
                {t.choose(node.title)}
              </button>
            )}
          </li>
        ))}
      </ul>
      {chosen && <Learners key={chosen.id} activity={chosen} />}
    </main>
  );
}

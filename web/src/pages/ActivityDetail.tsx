import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { FormAlert } from '../components';
import { formErrors } from '../errors';
import { formatDateTime, formatTime } from '../format';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { SignInFirst } from './SignInFirst';

const ActivityQuery = graphql(`
  query ActivityDetail($id: ID!) {
    activity(id: $id) {
      id
      title
      kind
      startsAt
      endsAt
      location
      specialty
      audience
      minutesBefore
      minutesAfter
      evaluationRequired
      cancelled
      cancelReason
      credits {
        type
        label
        amount
      }
    }
  }
`);

const MINUTE = 60_000;

/** One activity of the calendar: when and where, its credits, and when attendance can be recorded. */
export function ActivityDetail() {
  const organization = useOrganization();
  const { activityId = '' } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: ActivityQuery, variables: { id: activityId } });
  if (error?.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) return <SignInFirst />;
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  const activity = data?.activity;
  const back = <Link to={`/o/${organization.code}/calendar`}>{messages.calendar.back}</Link>;
  if (!activity) {
    return (
      <main id="content" className="page narrow">
        <FormAlert message={error ? formErrors(error).form : messages.calendar.notFound} />
        {back}
      </main>
    );
  }
  const zone = organization.timeZone;
  const opens = new Date(Date.parse(activity.startsAt) - activity.minutesBefore * MINUTE).toISOString();
  const closes = new Date(Date.parse(activity.endsAt) + activity.minutesAfter * MINUTE).toISOString();
  return (
    <main id="content" className="page narrow">
      <h1>{activity.title}</h1>
      {activity.cancelled && (
        <p className="alert">{messages.calendar.cancelledBecause(activity.cancelReason ?? '')}</p>
      )}
      <dl className="facts">
        <dt>{messages.calendar.when}</dt>
        <dd>
          {formatDateTime(activity.startsAt, zone)} – {formatTime(activity.endsAt, zone)}
        </dd>
        {activity.location && (
          <>
            <dt>{messages.calendar.where}</dt>
            <dd>{activity.location}</dd>
          </>
        )}
        {activity.specialty && (
          <>
            <dt>{messages.calendar.specialty}</dt>
            <dd>{activity.specialty}</dd>
          </>
        )}
        <dt>{messages.calendar.kind}</dt>
        <dd>{activity.kind === 'SERIES_OCCURRENCE' ? messages.calendar.series : messages.calendar.course}</dd>
        <dt>{messages.calendar.audience}</dt>
        <dd>{messages.calendar.audiences[activity.audience]}</dd>
        <dt>{messages.calendar.credits}</dt>
        <dd>
          {activity.credits.length ? (
            <ul>
              {activity.credits.map((c) => (
                <li key={c.type}>
                  {c.amount} {c.label}
                </li>
              ))}
            </ul>
          ) : (
            messages.calendar.noCredits
          )}
        </dd>
        <dt>{messages.calendar.attendance}</dt>
        <dd>{messages.calendar.window(formatDateTime(opens, zone), formatDateTime(closes, zone))}</dd>
        {activity.evaluationRequired && (
          <>
            <dt>{messages.calendar.evaluation}</dt>
            <dd>{messages.calendar.evaluationRequired}</dd>
          </>
        )}
      </dl>
      {!activity.cancelled && (
        <p>
          <Link to={`/o/${organization.code}/attendance`}>{messages.home.recordAttendance}</Link>
        </p>
      )}
      <p>{back}</p>
    </main>
  );
}

import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import { graphql, type DocumentType } from '../gql';
import { command } from '../commands';
import { FormAlert } from '../components';
import { formErrors } from '../errors';
import { formatDate } from '../format';
import { messages } from '../messages';
import { Answer, type Attendance } from './AttendanceAnswer';
import { useOrganization } from './OrganizationLayout';
import { SignInFirst } from './SignInFirst';

/** The transcript as the page shows it; the query and the live updates select the same, so one cache entry serves both. */
export const TranscriptView = graphql(`
  fragment TranscriptView on Transcript {
    id
    entries {
      id
      activityId
      title
      date
      creditLabel
      amount
      status
      pendingReasons
      channel
      learnerName
    }
    totals {
      id
      year
      creditLabel
      awarded
      pending
    }
  }
`);

const TranscriptQuery = graphql(`
  query Transcript {
    transcript {
      ...TranscriptView
    }
  }
`);

const TranscriptUpdates = graphql(`
  subscription TranscriptUpdates {
    transcriptUpdates {
      ...TranscriptView
    }
  }
`);

const ClaimCreditMutation = graphql(`
  mutation ClaimCredit($activityId: ID!, $commandId: UUID) {
    claimCredit(activityId: $activityId, commandId: $commandId) {
      ...AttendanceAnswer
    }
  }
`);

type View = DocumentType<typeof TranscriptView>;
type Entry = View['entries'][number];

/** Credits by year and type: awarded, and pending while something holds them. */
function Totals({ totals }: { totals: View['totals'] }) {
  return (
    <table className="stack">
      <caption>{messages.transcript.totals}</caption>
      <thead>
        <tr>
          <th scope="col">{messages.transcript.year}</th>
          <th scope="col">{messages.transcript.creditType}</th>
          <th scope="col">{messages.transcript.awarded}</th>
          <th scope="col">{messages.transcript.pending}</th>
        </tr>
      </thead>
      <tbody>
        {totals.map((t) => (
          <tr key={t.id}>
            <td data-label={messages.transcript.year}>{t.year}</td>
            <td data-label={messages.transcript.creditType}>{t.creditLabel}</td>
            <td data-label={messages.transcript.awarded}>{t.awarded}</td>
            <td data-label={messages.transcript.pending}>{t.pending}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What a pending credit waits for, and what the learner can do about it. */
function Pending({ entry, onClaim, claiming }: { entry: Entry; onClaim: () => void; claiming: boolean }) {
  const organization = useOrganization();
  const evaluation = entry.pendingReasons.includes('EVALUATION_REQUIRED');
  return (
    <div>
      <span>{messages.transcript.pendingUntil}</span>
      <ul>
        {entry.pendingReasons.map((reason) => (
          <li key={reason}>{messages.transcript.reasons[reason] ?? reason}</li>
        ))}
      </ul>
      {evaluation ? (
        <Link to={`/o/${organization.code}/evaluate/${encodeURIComponent(entry.activityId)}`}>
          {messages.transcript.evaluate(entry.title)}
        </Link>
      ) : (
        <button type="button" className="small" disabled={claiming} onClick={onClaim}>
          {messages.transcript.claim(entry.title)}
        </button>
      )}
    </div>
  );
}

const IssueCalendarFeedMutation = graphql(`
  mutation IssueCalendarFeed {
    issueCalendarFeed {
      url
      position
    }
  }
`);

/** The private iCalendar link of the activities the learner attended, shown once, for their calendar app. */
function CalendarFeed() {
  const t = messages.transcript;
  const [{ fetching, data, error }, issue] = useMutation(IssueCalendarFeedMutation);
  const url = data?.issueCalendarFeed.url;
  return (
    <section aria-labelledby="calendar-feed">
      <h2 id="calendar-feed">{t.feedTitle}</h2>
      <p>{t.feedIntro}</p>
      <FormAlert message={formErrors(error).form} />
      {url ? (
        <div role="status">
          <p>{t.feedReady}</p>
          <input className="feed-url" readOnly value={url} aria-label={t.feedAddress} onFocus={(e) => e.target.select()} />
        </div>
      ) : (
        <button type="button" className="secondary" disabled={fetching} onClick={() => void issue({})}>
          {t.feedIssue}
        </button>
      )}
    </section>
  );
}

/** The learner's transcript (seed 002): totals, each credit, pending ones with their reason, a CSV download; it
 * follows new attendance (recorded by text, say) without a reload. */
export function Transcript() {
  const organization = useOrganization();
  const [{ data, fetching, error }] = useQuery({ query: TranscriptQuery });
  useSubscription({ query: TranscriptUpdates });
  const [{ fetching: claiming }, claim] = useMutation(ClaimCreditMutation);
  const [claimed, setClaimed] = useState<Attendance | null>(null);
  const [claimError, setClaimError] = useState<string | undefined>();

  const claimCredit = async (activityId: string) => {
    const result = await command((commandId) => claim({ activityId, commandId }));
    setClaimError(formErrors(result.error, ['activityId']).form);
    setClaimed(result.data?.claimCredit ?? null);
  };

  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  const transcript = data?.transcript;
  if (!transcript) {
    if (error?.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) return <SignInFirst />;
    return (
      <main id="content" className="page">
        <h1>{messages.transcript.title}</h1>
        <FormAlert message={formErrors(error).form} />
      </main>
    );
  }
  return (
    <main id="content" className="page">
      <h1>{messages.transcript.title}</h1>
      <p>
        <a href="/transcript.csv" download="transcript.csv">
          {messages.transcript.download}
        </a>
      </p>
      <CalendarFeed />
      <FormAlert message={claimError} />
      {claimed && <Answer attendance={claimed} />}
      {transcript.entries.length === 0 ? (
        <p>
          {messages.transcript.empty}{' '}
          <Link to={`/o/${organization.code}/attendance`}>{messages.home.recordAttendance}</Link>
        </p>
      ) : (
        <>
          <Totals totals={transcript.totals} />
          <table className="stack">
            <caption>{messages.transcript.credits}</caption>
            <thead>
              <tr>
                <th scope="col">{messages.transcript.date}</th>
                <th scope="col">{messages.transcript.activity}</th>
                <th scope="col">{messages.transcript.creditType}</th>
                <th scope="col">{messages.transcript.amount}</th>
                <th scope="col">{messages.transcript.status}</th>
              </tr>
            </thead>
            <tbody>
              {transcript.entries.map((entry) => (
                <tr key={entry.id}>
                  <td data-label={messages.transcript.date}>{formatDate(entry.date)}</td>
                  <td data-label={messages.transcript.activity}>
                    {entry.title}
                    {/* Credit earned under an earlier name keeps it (a change of name does not reach back). */}
                    {entry.learnerName && entry.learnerName !== transcript.entries[0]?.learnerName && (
                      <> {messages.transcript.underName(entry.learnerName)}</>
                    )}
                  </td>
                  <td data-label={messages.transcript.creditType}>{entry.creditLabel}</td>
                  <td data-label={messages.transcript.amount}>{entry.amount}</td>
                  <td data-label={messages.transcript.status}>
                    {entry.status === 'AWARDED' ? (
                      messages.transcript.awardedStatus
                    ) : (
                      <Pending entry={entry} claiming={claiming} onClaim={() => void claimCredit(entry.activityId)} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  );
}

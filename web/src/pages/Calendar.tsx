import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql, type DocumentType } from '../gql';
import { Field, FormAlert } from '../components';
import { formErrors } from '../errors';
import { formatDateTime, todayIn } from '../format';
import { messages } from '../messages';
import { useOrganization } from './OrganizationLayout';
import { SignInFirst } from './SignInFirst';

/** Activities per page. */
export const PAGE_SIZE = 20;

export const CalendarItem = graphql(`
  fragment CalendarItem on Activity {
    id
    title
    kind
    startsAt
    endsAt
    location
    specialty
    cancelled
    credits {
      type
      label
      amount
    }
  }
`);

const CalendarQuery = graphql(`
  query Calendar(
    $from: NaiveDate
    $to: NaiveDate
    $includeRss: Boolean
    $specialty: String
    $text: String
    $first: Int
    $after: String
    $organizationCode: String
  ) {
    calendar(
      organizationCode: $organizationCode
      from: $from
      to: $to
      includeRss: $includeRss
      specialty: $specialty
      text: $text
      first: $first
      after: $after
    ) {
      edges {
        cursor
        node {
          ...CalendarItem
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** The filters as the address holds them, so that a filtered calendar can be shared, bookmarked and gone back to. */
interface Filters {
  month: string;
  from: string;
  to: string;
  text: string;
  specialty: string;
  rss: boolean;
}

/** The first and last day of a month (`2026-12`). */
export function monthRange(month: string): { from: string; to: string } | null {
  const [year, number] = month.split('-').map(Number);
  if (!year || !number || number > 12) return null;
  const last = new Date(Date.UTC(year, number, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

function filtersOf(params: URLSearchParams): Filters {
  return {
    month: params.get('month') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    text: params.get('q') ?? '',
    specialty: params.get('specialty') ?? '',
    rss: params.get('rss') === '1',
  };
}

function paramsOf(filters: Filters): Record<string, string> {
  const entries: [string, string][] = [
    ['month', filters.month],
    ['from', filters.month ? '' : filters.from],
    ['to', filters.month ? '' : filters.to],
    ['q', filters.text.trim()],
    ['specialty', filters.specialty.trim()],
    ['rss', filters.rss ? '1' : ''],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== ''));
}

type Item = DocumentType<typeof CalendarItem>;

function ActivityItem({ activity }: { activity: Item }) {
  const organization = useOrganization();
  const credits = activity.credits.map((c) => `${c.amount} ${c.label}`).join(', ');
  return (
    <li className="card">
      <h2 className="card-title">
        <Link to={`/o/${organization.code}/calendar/${encodeURIComponent(activity.id)}`}>{activity.title}</Link>
      </h2>
      <p>{formatDateTime(activity.startsAt, organization.timeZone)}</p>
      {activity.location && <p>{activity.location}</p>}
      <p>
        {[
          activity.specialty,
          activity.kind === 'SERIES_OCCURRENCE' ? messages.calendar.series : null,
          credits || null,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
      {activity.cancelled && <p className="tag">{messages.calendar.cancelled}</p>}
    </li>
  );
}

/** The calendar (seed 002): a month or date range, search, specialty, Include RSS, Apply Filters, and pages. */
export function Calendar() {
  const organization = useOrganization();
  const [params, setParams] = useSearchParams();
  const applied = filtersOf(params);
  const [filters, setFilters] = useState<Filters>(applied);
  // The cursors of the pages before this one, so that Previous goes back without the server keeping state.
  const [cursors, setCursors] = useState<string[]>([]);
  const range = applied.month ? monthRange(applied.month) : null;
  const from = range?.from ?? (applied.from || (applied.to ? null : todayIn(organization.timeZone)));
  const to = range?.to ?? (applied.to || null);
  const [{ data, fetching, error }] = useQuery({
    query: CalendarQuery,
    variables: {
      from,
      to,
      includeRss: applied.rss,
      specialty: applied.specialty || null,
      text: applied.text || null,
      first: PAGE_SIZE,
      after: cursors.at(-1) ?? null,
      // A public calendar is read without signing in (the server uses the session instead when there is one).
      organizationCode: organization.calendarPublic ? organization.code : null,
    },
  });
  const errors = formErrors(error);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setCursors([]);
    setParams(paramsOf(filters));
  };
  const set = (name: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setFilters({ ...filters, [name]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  if (error?.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) return <SignInFirst />;
  const edges = data?.calendar.edges ?? [];
  const page = data?.calendar.pageInfo;
  return (
    <main id="content" className="page">
      <h1>{messages.calendar.title}</h1>
      {organization.calendarPublic && (
        <p>
          <a href={`/o/${organization.code}/calendar.ics${applied.rss ? '?includeRss=true' : ''}`}>
            {messages.calendar.subscribe}
          </a>
        </p>
      )}
      <form onSubmit={apply} noValidate aria-label={messages.calendar.filters} className="filters">
        <Field label={messages.calendar.month} name="month" type="month" value={filters.month} onChange={set('month')} />
        <Field label={messages.calendar.from} name="from" type="date" value={filters.from} disabled={!!filters.month}
          error={errors.fields.from} onChange={set('from')} />
        <Field label={messages.calendar.to} name="to" type="date" value={filters.to} disabled={!!filters.month}
          error={errors.fields.to} onChange={set('to')} />
        <Field label={messages.calendar.search} name="q" type="search" value={filters.text} onChange={set('text')} />
        <Field label={messages.calendar.specialty} name="specialty" value={filters.specialty} onChange={set('specialty')} />
        <div className="check">
          <input id="rss" type="checkbox" checked={filters.rss} onChange={set('rss')} />
          <label htmlFor="rss">{messages.calendar.includeRss}</label>
        </div>
        <button type="submit">{messages.calendar.apply}</button>
      </form>
      <FormAlert message={error && !Object.keys(errors.fields).length ? errors.form : undefined} />
      <section aria-labelledby="results" aria-busy={fetching}>
        <h2 id="results" className="visually-hidden">
          {messages.calendar.results}
        </h2>
        {!fetching && edges.length === 0 && !error && <p>{messages.calendar.none}</p>}
        <ul className="cards">
          {edges.map((edge) => (
            <ActivityItem key={edge.node.id} activity={edge.node} />
          ))}
        </ul>
      </section>
      <nav aria-label={messages.calendar.pages} className="pager">
        {cursors.length > 0 && (
          <button type="button" className="secondary" onClick={() => setCursors(cursors.slice(0, -1))}>
            {messages.calendar.previous}
          </button>
        )}
        {page?.hasNextPage && page.endCursor && (
          <button type="button" className="secondary" onClick={() => setCursors([...cursors, page.endCursor ?? ''])}>
            {messages.calendar.next}
          </button>
        )}
      </nav>
    </main>
  );
}

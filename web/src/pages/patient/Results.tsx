import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const ResultsQuery = graphql(`
  query TestResults {
    testResults {
      id
      testCode
      testName
      value
      unit
      report
      flag
      referenceRange
      orderingProvider
      observedAt
    }
  }
`);

type Result = {
  id: string;
  testCode: string;
  testName?: string | null;
  value?: string | null;
  unit?: string | null;
  report?: string | null;
  flag?: string | null;
  referenceRange?: string | null;
  orderingProvider: string;
  observedAt: string;
};

/** Seed 003's "view test results": each test's latest released result, with its earlier ones as its history. */
export function Results() {
  const t = messages.results;
  const organization = useOrganization();
  const [{ data, error }] = useQuery({ query: ResultsQuery });
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);
  // The API answers latest first: the first of each test is its latest, the rest its history.
  const byTest = new Map<string, Result[]>();
  for (const result of data?.testResults ?? []) byTest.set(result.testCode, [...(byTest.get(result.testCode) ?? []), result]);
  const reading = (r: Result) => [r.value, r.unit].filter(Boolean).join(' ') || r.report || '';
  // The API names flags in lower case (`high`); a normal result shows none.
  const flag = (r: Result) => {
    const name = r.flag?.toUpperCase();
    return name && name !== 'NORMAL' ? (t.flags[name] ?? r.flag) : undefined;
  };
  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && byTest.size === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {[...byTest.entries()].map(([code, results]) => {
          const [latest, ...earlier] = results;
          if (!latest) return null;
          return (
            <li key={code} className="card">
              <h2 className="card-title">{latest.testName ?? code}</h2>
              <p className="balance">{reading(latest)}</p>
              {flag(latest) && <p className="tag">{flag(latest)}</p>}
              {latest.referenceRange && <p>{t.range(latest.referenceRange)}</p>}
              <p>{t.observed(when(latest.observedAt), latest.orderingProvider)}</p>
              {earlier.length > 0 && (
                <details>
                  <summary>{t.history(earlier.length)}</summary>
                  <ul>
                    {earlier.map((r) => (
                      <li key={r.id}>
                        {when(r.observedAt)}: {reading(r)}
                        {flag(r) ? ` (${flag(r)})` : ''}
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </li>
          );
        })}
      </ul>
    </main>
  );
}

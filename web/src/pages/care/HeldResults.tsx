import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Done, FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const HeldQuery = graphql(`
  query HeldTestResults {
    heldTestResults {
      id
      patientName
      testCode
      testName
      value
      unit
      report
      flag
      referenceRange
      orderingProvider
      observedAt
      releaseDueAt
      releasedAt
    }
  }
`);

const ReleaseMutation = graphql(`
  mutation ReleaseTestResult($resultId: ID!) {
    releaseTestResult(resultId: $resultId) {
      testResult {
        id
        releasedAt
      }
    }
  }
`);

/** The results held back from their patients, oldest first, each released by a provider with one button. */
export function HeldResults() {
  const t = messages.care.results;
  const organization = useOrganization();
  const [{ data, error }, reread] = useQuery({ query: HeldQuery, requestPolicy: 'cache-and-network' });
  const [{ fetching }, release] = useMutation(ReleaseMutation);
  const form = useCommand(['resultId']);
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);
  // A released result leaves the list: the answer marks it released, and the list is read again.
  const held = data?.heldTestResults.filter((result) => !result.releasedAt) ?? [];
  return (
    <main id="content">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert message={error ? formErrors(error).form : form.errors.form} />
      <Done message={form.said} />
      {data && held.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {held.map((result) => {
          const test = result.testName ?? result.testCode;
          const patient = result.patientName ?? messages.care.unknownPatient;
          const value = [result.value, result.unit].filter(Boolean).join(' ');
          return (
            <li key={result.id} className="card">
              <h2 className="card-title">{t.of(test, patient)}</h2>
              {value && <p>{t.value(value)}</p>}
              {result.report && <p>{result.report}</p>}
              {result.flag && result.flag !== 'normal' && (
                <p className="badge">{messages.results.flags[result.flag.toUpperCase()] ?? result.flag}</p>
              )}
              {result.referenceRange && <p>{messages.results.range(result.referenceRange)}</p>}
              <p>{messages.results.observed(when(result.observedAt), result.orderingProvider)}</p>
              {result.releaseDueAt && <p className="hint">{t.due(when(result.releaseDueAt))}</p>}
              <button type="button" className="small" disabled={fetching}
                onClick={() =>
                  void form.run(
                    () => release({ resultId: result.id }),
                    () => {
                      reread({ requestPolicy: 'network-only' });
                      return t.released(test, patient);
                    },
                  )
                }>
                {t.release(test, patient)}
              </button>
            </li>
          );
        })}
      </ul>
    </main>
  );
}

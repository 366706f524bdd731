import type { ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { FormAlert } from '../../components';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const TermsQuery = graphql(`
  query TermsInForce($organizationCode: String!) {
    terms(organizationCode: $organizationCode) {
      id
      version
      termsOfUse
      privacyPractices
    }
  }
`);

const AcceptTermsMutation = graphql(`
  mutation AcceptTerms($version: Int!, $commandId: UUID) {
    acceptTerms(version: $version, commandId: $commandId) {
      account {
        id
        termsAcceptedVersion
      }
    }
  }
`);

/**
 * Seed 001, step 4: the terms of use and privacy practices in force, to read and accept before anything else; a new
 * version asks again. Renders `children` once the patient accepted the version in force (or when there are none).
 */
export function TermsGate({ accepted, children }: { accepted?: number | null; children: ReactNode }) {
  const t = messages.terms;
  const organization = useOrganization();
  const [{ data, fetching }] = useQuery({ query: TermsQuery, variables: { organizationCode: organization.code } });
  const [{ fetching: accepting }, accept] = useMutation(AcceptTermsMutation);
  const form = useCommand(['version']);
  if (fetching && !data) return <p className="page">{messages.loading}</p>;
  const terms = data?.terms;
  if (!terms || (accepted ?? 0) >= terms.version) return children;

  const agree = () =>
    void form.run((commandId) => accept({ version: terms.version, commandId }), () => undefined);

  return (
    <main id="content" className="page">
      <h1>{t.title}</h1>
      <p>{accepted ? t.newVersion : t.intro}</p>
      <section aria-labelledby="terms-of-use" className="terms" tabIndex={0}>
        <h2 id="terms-of-use">{t.termsOfUse}</h2>
        <p className="preserve">{terms.termsOfUse}</p>
      </section>
      <section aria-labelledby="privacy-practices" className="terms" tabIndex={0}>
        <h2 id="privacy-practices">{t.privacyPractices}</h2>
        <p className="preserve">{terms.privacyPractices}</p>
      </section>
      <FormAlert message={form.errors.form} />
      <button type="button" disabled={accepting} onClick={agree}>
        {t.accept}
      </button>
    </main>
  );
}

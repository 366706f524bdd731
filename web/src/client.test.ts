import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { termsPage } from './client';

describe('termsPage', () => {
  const refusal = (code: string) =>
    new CombinedError({ graphQLErrors: [new GraphQLError('accept the terms first', { extensions: { code } })] });

  it('sends a refusal for terms not accepted to the organization’s home page', () => {
    expect(termsPage(refusal('TERMS_NOT_ACCEPTED'), '/o/demo/transcript')).toBe('/o/demo/');
  });

  it('stays on the home page, which shows the terms, and ignores other refusals and pages outside a portal', () => {
    expect(termsPage(refusal('TERMS_NOT_ACCEPTED'), '/o/demo/')).toBeUndefined();
    expect(termsPage(refusal('FORBIDDEN'), '/o/demo/transcript')).toBeUndefined();
    expect(termsPage(refusal('TERMS_NOT_ACCEPTED'), '/')).toBeUndefined();
  });
});

import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { signInPage, termsPage, twoStepPage } from './client';

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

describe('signInPage', () => {
  const refusal = (code: string) =>
    new CombinedError({ graphQLErrors: [new GraphQLError('sign in first', { extensions: { code } })] });

  it('sends a page opened without a session to the sign-in page, which comes back to it', () => {
    expect(signInPage(refusal('UNAUTHENTICATED'), '/o/demo/appointments/wait-list', '?x=1')).toBe(
      '/o/demo/sign-in?next=%2Fo%2Fdemo%2Fappointments%2Fwait-list%3Fx%3D1',
    );
  });

  it('leaves the sign-in page, other refusals and pages outside a portal alone', () => {
    expect(signInPage(refusal('UNAUTHENTICATED'), '/o/demo/sign-in', '')).toBeUndefined();
    expect(signInPage(refusal('UNAUTHENTICATED'), '/o/demo/', '')).toBeUndefined();
    expect(signInPage(refusal('FORBIDDEN'), '/o/demo/results', '')).toBeUndefined();
    expect(signInPage(refusal('UNAUTHENTICATED'), '/', '')).toBeUndefined();
  });
});

describe('twoStepPage', () => {
  const refusal = (code: string) =>
    new CombinedError({ graphQLErrors: [new GraphQLError('set it up first', { extensions: { code } })] });

  it('sends a person the organization requires two-step verification of to set it up', () => {
    expect(twoStepPage(refusal('TWO_STEP_SETUP_REQUIRED'), '/o/demo/appointments')).toBe('/o/demo/profile/two-step?required');
  });

  it('stays on the two-step page and ignores other refusals', () => {
    expect(twoStepPage(refusal('TWO_STEP_SETUP_REQUIRED'), '/o/demo/profile/two-step')).toBeUndefined();
    expect(twoStepPage(refusal('FORBIDDEN'), '/o/demo/appointments')).toBeUndefined();
  });
});

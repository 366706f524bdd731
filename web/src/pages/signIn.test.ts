import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { formErrors } from '../errors';
import { afterSignIn, lockedMessage } from './SignIn';

const organization = { id: 'o', code: 'demo', name: 'Demo CE Portal', timeZone: 'America/Chicago' };

const locked = (extensions: Record<string, string>) =>
  formErrors(
    new CombinedError({
      graphQLErrors: [new GraphQLError('this account is locked', { extensions: { code: 'ACCOUNT_LOCKED', ...extensions } })],
    }),
  );

describe('lockedMessage', () => {
  it('tells a person under a cool-down when to try again, on the organization’s clocks', () => {
    const message = lockedMessage(locked({ lock: 'COOL_DOWN', lockedUntil: '2026-12-05T21:30:00+00:00' }), organization);
    expect(message).toContain('Try again after');
    expect(message).toContain('3:30');
    expect(message).toContain('reset your password');
  });

  it('tells a person whose lock only staff lift to contact the organization', () => {
    expect(lockedMessage(locked({ lock: 'UNTIL_STAFF_UNLOCK' }), organization)).toContain(
      'Contact Demo CE Portal with your name and the e-mail address of your account.',
    );
  });

  it('gives the help desk’s number, hours and address when the organization has them', () => {
    const helped = {
      ...organization,
      displayName: 'Demo Portal Help Desk',
      help: { phone: '612-555-0100', hours: '8:00am to 4:30pm', email: 'help@demo.example' },
    };
    expect(lockedMessage(locked({ lock: 'UNTIL_STAFF_UNLOCK' }), helped)).toContain(
      'Contact Demo Portal Help Desk at 612-555-0100 (8:00am to 4:30pm) or help@demo.example with your name',
    );
    expect(lockedMessage(locked({ lock: 'UNTIL_STAFF_UNLOCK' }), helped)).toContain('we will notify you by email');
  });

  it('says nothing of other refusals', () => {
    expect(lockedMessage({ fields: {}, code: 'INVALID_CREDENTIALS' }, organization)).toBeUndefined();
  });
});

describe('afterSignIn', () => {
  it('goes back to the page of the portal that asked for a sign-in', () => {
    expect(afterSignIn('/o/demo/appointments/wait-list', 'demo')).toBe('/o/demo/appointments/wait-list');
  });

  it('goes home instead of to another organization, another site or nowhere', () => {
    expect(afterSignIn(null, 'demo')).toBe('/o/demo/');
    expect(afterSignIn('/o/other/results', 'demo')).toBe('/o/demo/');
    expect(afterSignIn('https://evil.example/o/demo/', 'demo')).toBe('/o/demo/');
    expect(afterSignIn('/o/demo//evil.example', 'demo')).toBe('/o/demo/');
  });
});

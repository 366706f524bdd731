import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { formErrors } from './errors';
import { messages } from './messages';

describe('formErrors', () => {
  it('puts a refusal at the field the API names', () => {
    const error = new CombinedError({
      graphQLErrors: [new GraphQLError('is not an e-mail address', { extensions: { code: 'EMAIL_INVALID', field: 'input.email' } })],
    });
    expect(formErrors(error)).toMatchObject({ form: messages.errors.problem, fields: { email: 'is not an e-mail address' }, code: 'EMAIL_INVALID' });
  });

  it('lists every field of a refusal with several', () => {
    const error = new CombinedError({
      graphQLErrors: [
        new GraphQLError('the input is invalid', {
          extensions: { code: 'INPUT_INVALID', fields: [{ field: 'input.email', message: 'a' }, { field: 'input.password', message: 'b' }] },
        }),
      ],
    });
    expect(formErrors(error).fields).toEqual({ email: 'a', password: 'b' });
  });

  it('keeps an error without a field for the form', () => {
    const error = new CombinedError({
      graphQLErrors: [new GraphQLError('e-mail address or password is wrong', { extensions: { code: 'INVALID_CREDENTIALS' } })],
    });
    expect(formErrors(error)).toMatchObject({ form: 'e-mail address or password is wrong', fields: {}, code: 'INVALID_CREDENTIALS' });
  });

  it('makes the refusal of an input the form does not show its message', () => {
    const error = new CombinedError({
      graphQLErrors: [new GraphQLError('this link was used already', { extensions: { code: 'RESET_TOKEN_USED', field: 'input.token' } })],
    });
    expect(formErrors(error, ['token'])).toMatchObject({ form: 'this link was used already', fields: {}, code: 'RESET_TOKEN_USED' });
  });

  it('says the portal cannot be reached on a network failure', () => {
    const error = new CombinedError({ networkError: new Error('offline') });
    expect(formErrors(error).form).toBe(messages.errors.network);
  });
});

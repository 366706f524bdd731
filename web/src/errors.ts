// The API's errors for people: the message at the field the API names (`extensions.field`, `extensions.fields`),
// or for the whole form.
import type { CombinedError } from 'urql';
import { messages } from './messages';

/** What went wrong, by input field (its name without `input.`) and for the form. */
export interface FormErrors {
  form?: string;
  fields: Record<string, string>;
  code?: string;
  /** The first error's extensions beyond its code and fields (such as `lockedUntil`). */
  details?: Record<string, unknown>;
}

interface FieldRefusal {
  field?: string;
  message?: string;
}

/** The field's name in the form: `input.email` is `email`. */
export function fieldName(path: string): string {
  return path.replace(/^input\./, '');
}

/**
 * Turns an urql error into messages for the form. A refusal of an input the form does not show (`notShown`, such as
 * the token of an e-mailed link) is the form's message.
 */
export function formErrors(error: CombinedError | undefined, notShown: readonly string[] = []): FormErrors {
  if (!error) return { fields: {} };
  if (error.networkError) return { form: messages.errors.network, fields: {} };
  const fields: Record<string, string> = {};
  let form: string | undefined;
  let code: string | undefined;
  let details: Record<string, unknown> | undefined;
  for (const e of error.graphQLErrors) {
    const extensions = e.extensions as { code?: string; field?: string; fields?: FieldRefusal[] };
    code ??= extensions.code;
    details ??= e.extensions;
    const refusals = extensions.fields?.length ? extensions.fields : [{ field: extensions.field, message: e.message }];
    for (const refusal of refusals) {
      const name = refusal.field && fieldName(refusal.field);
      if (name && !notShown.includes(name)) fields[name] = refusal.message ?? e.message;
      else form ??= refusal.message ?? e.message;
    }
  }
  const count = Object.keys(fields).length;
  if (!form && count > 0) form = count === 1 ? messages.errors.problem : messages.errors.problems(count);
  return { form: form ?? (count === 0 ? messages.errors.unexpected : undefined), fields, code, details };
}

// What every command form of the staff pages does the same way: send the mutation with one commandId (retried on a
// network failure), show the API's refusals at their fields, and say what was done.
import { useState } from 'react';
import type { AnyVariables, OperationResult } from 'urql';
import { command } from './commands';
import { formErrors, type FormErrors } from './errors';

/** A form's command: its errors, what it said on success, and `run` to send it. */
export interface CommandForm {
  errors: FormErrors;
  said: string | undefined;
  run: <Data, Variables extends AnyVariables>(
    send: (commandId: string) => Promise<OperationResult<Data, Variables>>,
    done: (data: Data) => string | undefined,
  ) => Promise<boolean>;
}

/** One command form's state. Refusals of inputs the form does not show (`notShown`) are the form's message. */
export function useCommand(notShown: readonly string[] = []): CommandForm {
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [said, setSaid] = useState<string | undefined>();
  const run: CommandForm['run'] = async (send, done) => {
    setSaid(undefined);
    const result = await command(send);
    setErrors(formErrors(result.error, notShown));
    if (!result.data || result.error) return false;
    setSaid(done(result.data));
    return true;
  };
  return { errors, said, run };
}

/** A text field's value for the API: trimmed, and null when left empty (the API's "not given"). */
export function optionalText(value: string): string | null {
  return value.trim() || null;
}

/** A number field's value for the API: null when left empty (the API's default). */
export function optionalNumber(value: string): number | null {
  return value.trim() === '' ? null : Number(value);
}

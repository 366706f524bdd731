import { useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import type { AnyVariables, OperationResult } from 'urql';
import { command } from '../commands';
import { FormAlert } from '../components';
import { formErrors } from '../errors';

/** What one e-mailed link's page says. */
export interface TokenLinkTexts {
  title: string;
  intro: string;
  submit: string;
  busy: string;
  done: string;
  missingToken: string;
}

/**
 * The page an e-mailed link with a token opens. Opening it changes nothing (mail scanners open links): the person
 * presses the button, which sends `send(token, commandId)`. Then `next` (a link onward) is shown.
 */
export function TokenLink<Data, Variables extends AnyVariables>({
  texts,
  send,
  fetching,
  next,
}: {
  texts: TokenLinkTexts;
  send: (token: string, commandId: string) => Promise<OperationResult<Data, Variables>>;
  fetching: boolean;
  next: ReactNode;
}) {
  const token = useSearchParams()[0].get('token') ?? '';
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState(false);

  const submit = async () => {
    const result = await command((commandId) => send(token, commandId));
    // The link's token is the only input: its refusal (unknown, expired, used) is the page's message.
    setError(formErrors(result.error, ['token']).form);
    setDone(Boolean(result.data));
  };

  return (
    <main id="content" className="page narrow">
      <h1>{texts.title}</h1>
      {done ? (
        <>
          <p role="status">{texts.done}</p>
          <p>{next}</p>
        </>
      ) : token ? (
        <>
          <p>{texts.intro}</p>
          <FormAlert message={error} />
          <button type="button" disabled={fetching} onClick={() => void submit()}>
            {fetching ? texts.busy : texts.submit}
          </button>
        </>
      ) : (
        <p role="alert">{texts.missingToken}</p>
      )}
    </main>
  );
}

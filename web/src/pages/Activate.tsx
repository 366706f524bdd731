import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { FormAlert } from '../components';
import { formErrors } from '../errors';
import { messages } from '../messages';

const ActivateMutation = graphql(`
  mutation ActivateAccount($input: ActivateAccountInput!) {
    activateAccount(input: $input) {
      accountId
      position
    }
  }
`);

/**
 * The page the activation link opens. Opening it changes nothing (mail scanners open links): the person presses the
 * button. Then it leads to sign-in (`signIn`: the organization's sign-in page, when the link named it).
 */
export function Activate({ signIn }: { signIn?: string }) {
  const token = useSearchParams()[0].get('token') ?? '';
  const [error, setError] = useState<string | undefined>();
  const [active, setActive] = useState(false);
  const [{ fetching }, activate] = useMutation(ActivateMutation);

  const submit = async () => {
    const result = await command((commandId) => activate({ input: { token, commandId } }));
    // The link's token is the only input: its refusal (unknown, expired, used) is the page's message.
    setError(formErrors(result.error, ['token']).form);
    setActive(Boolean(result.data?.activateAccount));
  };

  return (
    <main id="content" className="page narrow">
      <h1>{messages.activate.title}</h1>
      {active ? (
        <>
          <p role="status">{messages.activate.done}</p>
          <p>
            {signIn ? (
              <Link to={signIn}>{messages.activate.signIn}</Link>
            ) : (
              <Link to="/">{messages.activate.chooseOrganization}</Link>
            )}
          </p>
        </>
      ) : token ? (
        <>
          <p>{messages.activate.intro}</p>
          <FormAlert message={error} />
          <button type="button" disabled={fetching} onClick={() => void submit()}>
            {fetching ? messages.activate.busy : messages.activate.submit}
          </button>
        </>
      ) : (
        <p role="alert">{messages.activate.missingToken}</p>
      )}
    </main>
  );
}

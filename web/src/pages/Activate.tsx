import { Link } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { messages } from '../messages';
import { TokenLink } from './TokenLink';

const ActivateMutation = graphql(`
  mutation ActivateAccount($input: ActivateAccountInput!) {
    activateAccount(input: $input) {
      accountId
      position
    }
  }
`);

/** The page the activation link opens; then sign-in (`signIn`: the organization's, when the link named it). */
export function Activate({ signIn }: { signIn?: string }) {
  const [{ fetching }, activate] = useMutation(ActivateMutation);
  return (
    <TokenLink
      texts={messages.activate}
      fetching={fetching}
      send={(token, commandId) => activate({ input: { token, commandId } })}
      next={
        signIn ? (
          <Link to={signIn}>{messages.activate.signIn}</Link>
        ) : (
          <Link to="/">{messages.activate.chooseOrganization}</Link>
        )
      }
    />
  );
}

import { Link } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { messages } from '../messages';
import { TokenLink } from './TokenLink';

const ConfirmEmailMutation = graphql(`
  mutation ConfirmEmailChange($input: ConfirmEmailChangeInput!) {
    confirmEmailChange(input: $input) {
      position
    }
  }
`);

/** The page the e-mail change link opens: the new address takes effect when the person presses the button. */
export function ConfirmEmail({ signIn }: { signIn?: string }) {
  const [{ fetching }, confirm] = useMutation(ConfirmEmailMutation);
  return (
    <TokenLink
      texts={messages.confirmEmail}
      fetching={fetching}
      send={(token, commandId) => confirm({ input: { token, commandId } })}
      next={
        signIn ? (
          <Link to={signIn}>{messages.confirmEmail.signIn}</Link>
        ) : (
          <Link to="/">{messages.confirmEmail.chooseOrganization}</Link>
        )
      }
    />
  );
}

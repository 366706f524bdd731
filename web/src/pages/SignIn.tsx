import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { command } from '../commands';
import { Field, FormAlert } from '../components';
import { formErrors, type FormErrors } from '../errors';
import { formatDateTime } from '../format';
import { messages } from '../messages';
import { useOrganization, type CurrentOrganization } from './OrganizationLayout';

const SignInMutation = graphql(`
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      secondStepRequired
      challengeToken
      account {
        id
        firstName
        email
      }
    }
  }
`);

const CompleteSignInMutation = graphql(`
  mutation CompleteSignIn($input: CompleteSignInInput!) {
    completeSignIn(input: $input) {
      account {
        id
        firstName
        email
      }
    }
  }
`);

/**
 * A locked account's message, by the organization's policy (the API says which, only to the right password): wait
 * until the cool-down ends (or reset the password), or contact the organization.
 */
export function lockedMessage(errors: FormErrors, organization: CurrentOrganization): string | undefined {
  if (errors.code !== 'ACCOUNT_LOCKED') return undefined;
  const until = errors.details?.lockedUntil;
  return typeof until === 'string'
    ? messages.signIn.lockedCoolDown(formatDateTime(until, organization.timeZone))
    : messages.signIn.lockedUntilUnlocked(helpContact(organization));
}

/** Who to contact and how ("Demo Portal Help Desk at 612-555-0100 (8:00am to 4:30pm) or help@demo.example"). */
function helpContact(organization: CurrentOrganization): string {
  const name = organization.displayName ?? organization.name;
  const phone = organization.help?.phone;
  const hours = organization.help?.hours;
  const ways = [phone && (hours ? `${phone} (${hours})` : phone), organization.help?.email].filter(Boolean);
  return ways.length ? `${name} at ${ways.join(' or ')}` : name;
}

/**
 * Where to go once signed in: the `next` page when it is one of this organization's portal (never another site),
 * else the portal's home.
 */
export function afterSignIn(next: string | null, code: string): string {
  const home = `/o/${code}/`;
  return next?.startsWith(home) && !next.includes('//') && !next.includes('\\') ? next : home;
}

/** Sign in with an e-mail address (learners, staff) or a username (patients); the session goes into the cookie. */
export function SignIn() {
  const organization = useOrganization();
  const navigate = useNavigate();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [challenge, setChallenge] = useState<string | null>(null);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [{ fetching: signingIn }, signIn] = useMutation(SignInMutation);
  const [{ fetching: completing }, completeSignIn] = useMutation(CompleteSignInMutation);
  // Back to the page that sent the person here (`?next=`), when it is a page of this portal.
  const next = afterSignIn(useSearchParams()[0].get('next'), organization.code);
  const home = () => navigate(next);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const who = login.trim();
    const result = await command((commandId) =>
      signIn({
        input: {
          organizationCode: organization.code,
          ...(who.includes('@') ? { email: who } : { username: who }),
          password,
          setCookie: true,
          commandId,
        },
      }),
    );
    setErrors(formErrors(result.error));
    const answer = result.data?.signIn;
    if (answer?.secondStepRequired && answer.challengeToken) {
      setChallenge(answer.challengeToken);
    } else if (answer) {
      await home();
    }
  };

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (!challenge) return;
    const result = await command((commandId) =>
      completeSignIn({
        input: { organizationCode: organization.code, challengeToken: challenge, code: code.trim(), setCookie: true, commandId },
      }),
    );
    setErrors(formErrors(result.error));
    if (result.data?.completeSignIn) await home();
  };

  if (challenge) {
    return (
      <main id="content" className="page narrow">
        <h1>{messages.signIn.secondStepTitle}</h1>
        <p>{messages.signIn.secondStepIntro}</p>
        <form onSubmit={(e) => void verify(e)} noValidate>
          <FormAlert message={lockedMessage(errors, organization) ?? errors.form} />
          <Field label={messages.signIn.code} name="code" value={code} required autoComplete="one-time-code"
            inputMode="numeric" error={errors.fields.code} onChange={(e) => setCode(e.target.value)} />
          <button type="submit" disabled={completing}>
            {messages.signIn.verify}
          </button>
        </form>
      </main>
    );
  }

  return (
    <main id="content" className="page narrow">
      <h1>{messages.signIn.title}</h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <FormAlert message={lockedMessage(errors, organization) ?? errors.form} />
        <Field label={messages.signIn.login} name="login" value={login} required autoComplete="username"
          error={errors.fields.email ?? errors.fields.username} onChange={(e) => setLogin(e.target.value)} />
        <Field label={messages.signIn.password} name="password" type="password" value={password} required
          autoComplete="current-password" error={errors.fields.password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" disabled={signingIn}>
          {signingIn ? messages.signIn.busy : messages.signIn.submit}
        </button>
      </form>
      <p>
        <Link to={`/o/${organization.code}/forgot-password`}>{messages.signIn.forgot}</Link>
      </p>
      <p>
        <Link to={`/o/${organization.code}/forgot-username`}>{messages.signIn.forgotUsername}</Link>
      </p>
      {organization.calendarPublic && (
        <p>
          <Link to={`/o/${organization.code}/calendar`}>{messages.signIn.calendar}</Link>
        </p>
      )}
      <p>
        <Link to={`/o/${organization.code}/register`}>{messages.signIn.createAccount}</Link>
      </p>
    </main>
  );
}

import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { command } from '../../commands';
import { FormAlert } from '../../components';
import { formErrors } from '../../errors';
import { formatDateTime } from '../../format';
import { messages } from '../../messages';
import { AttemptsTable } from '../AttemptsTable';
import { useOrganization } from '../OrganizationLayout';
import { useAreaAccount } from './ProfileArea';

const DevicesQuery = graphql(`
  query Devices($accountId: ID!) {
    devices {
      id
      name
      startedAt
      lastRefreshedAt
      expiresAt
      current
    }
    signInAttempts(accountId: $accountId, first: 10) {
      id
      at
      outcome
      clientIp
      userAgent
    }
  }
`);

const SignOutDeviceMutation = graphql(`
  mutation SignOutDevice($input: SignOutDeviceInput!) {
    signOutDevice(input: $input) {
      devices {
        id
        name
        startedAt
        lastRefreshedAt
        expiresAt
        current
      }
    }
  }
`);

/** Your devices (the apps signed in to your account), each of which you can sign out, and your recent sign-ins. */
export function Devices() {
  const organization = useOrganization();
  const account = useAreaAccount();
  const [{ data, error }] = useQuery({ query: DevicesQuery, variables: { accountId: account.id } });
  const [{ fetching }, signOut] = useMutation(SignOutDeviceMutation);
  const [signOutError, setSignOutError] = useState<string | undefined>();
  const when = (instant: string) => formatDateTime(instant, organization.timeZone);

  const signOutDevice = async (deviceId: string) => {
    const result = await command((commandId) => signOut({ input: { deviceId, commandId } }));
    setSignOutError(formErrors(result.error, ['deviceId']).form);
  };

  return (
    <main id="content">
      <h1>{messages.profile.devices.title}</h1>
      <FormAlert message={signOutError ?? (error ? formErrors(error).form : undefined)} />
      <h2>{messages.profile.devices.apps}</h2>
      {data && data.devices.length === 0 && <p>{messages.profile.devices.none}</p>}
      <ul className="cards">
        {data?.devices.map((device) => (
          <li key={device.id} className="card">
            <h3 className="card-title">{device.name ?? messages.profile.devices.unnamed}</h3>
            <p>{messages.profile.devices.since(when(device.startedAt))}</p>
            {device.lastRefreshedAt && <p>{messages.profile.devices.lastUsed(when(device.lastRefreshedAt))}</p>}
            <p>{messages.profile.devices.expires(when(device.expiresAt))}</p>
            <button type="button" className="secondary small" disabled={fetching}
              onClick={() => void signOutDevice(device.id)}>
              {messages.profile.devices.signOut(device.name ?? messages.profile.devices.unnamed)}
            </button>
          </li>
        ))}
      </ul>
      <AttemptsTable caption={messages.profile.devices.attempts} attempts={data?.signInAttempts ?? []} />
    </main>
  );
}

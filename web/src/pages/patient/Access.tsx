import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { Scope } from '../../gql/graphql';
import { Choice, Done, Field, FormAlert, optionsOf } from '../../components';
import { formErrors } from '../../errors';
import { addDays, formatDate, todayIn } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

/** A grant of proxy access as the pages show it. */
export const ProxyGrantItem = graphql(`
  fragment ProxyGrantItem on ProxyGrantView {
    id
    patientId
    patientName
    proxyId
    proxyName
    grantedScope
    scope
    endsOn
  }
`);

const AccessQuery = graphql(`
  query Access {
    me {
      id
    }
    proxies {
      ...ProxyGrantItem
    }
  }
`);

const GrantMutation = graphql(`
  mutation GrantProxyAccess($input: GrantProxyAccessInput!) {
    grantProxyAccess(input: $input) {
      proxyGrant {
        ...ProxyGrantItem
      }
    }
  }
`);

const RevokeMutation = graphql(`
  mutation RevokeProxyAccess($proxyId: ID) {
    revokeProxyAccess(proxyId: $proxyId) {
      position
    }
  }
`);

/** Seed 001's proxy access, the patient's side: who may open their record, giving access and ending it. */
export function Access() {
  const t = messages.access;
  const organization = useOrganization();
  const [{ data, error }, reread] = useQuery({ query: AccessQuery, requestPolicy: 'cache-and-network' });
  const [{ fetching: granting }, grant] = useMutation(GrantMutation);
  const [{ fetching: revoking }, revoke] = useMutation(RevokeMutation);
  const [proxyId, setProxyId] = useState('');
  const [scope, setScope] = useState<Scope>('SCHEDULING');
  const [endsOn, setEndsOn] = useState(() => addDays(todayIn(organization.timeZone), 365));
  const form = useCommand();
  const again = () => reread({ requestPolicy: 'network-only' });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const given = await form.run(
      (commandId) => grant({ input: { proxyId: proxyId.trim(), scope, endsOn, commandId } }),
      () => t.given,
    );
    if (given) {
      setProxyId('');
      again();
    }
  };
  const scopes = messages.acting.scopes;
  return (
    <main id="content" className="page narrow-forms">
      <h1>{t.title}</h1>
      <p>{t.intro}</p>
      <FormAlert message={error ? formErrors(error).form : form.errors.form} />
      <Done message={form.said} />
      {data && data.proxies.length === 0 && <p>{t.none}</p>}
      <ul className="cards">
        {data?.proxies.map((proxy) => (
          <li key={proxy.id} className="card">
            <p>{t.grant(proxy.proxyName, scopes[proxy.grantedScope] ?? proxy.grantedScope, formatDate(proxy.endsOn))}</p>
            <button type="button" className="secondary small" disabled={revoking}
              onClick={() =>
                void form.run(
                  () => revoke({ proxyId: proxy.proxyId }),
                  () => {
                    again();
                    return t.revoked(proxy.proxyName);
                  },
                )
              }>
              {t.revoke(proxy.proxyName)}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.newTitle}>
        <h2>{t.newTitle}</h2>
        <Field label={t.proxyId} name="proxyId" value={proxyId} autoComplete="off" error={form.errors.fields.proxyId}
          aria-describedby="proxy-id-hint" onChange={(e) => setProxyId(e.target.value)} />
        <p id="proxy-id-hint" className="hint">{t.proxyIdHint}</p>
        <Choice legend={t.scope} name="scope" options={optionsOf(scopes)} value={scope}
          onChange={(value) => setScope(value as Scope)} error={form.errors.fields.scope} />
        <Field label={t.endsOn} name="endsOn" type="date" value={endsOn} min={todayIn(organization.timeZone)}
          error={form.errors.fields.endsOn} onChange={(e) => setEndsOn(e.target.value)} />
        <button type="submit" disabled={granting}>
          {t.give}
        </button>
      </form>
      {data?.me && <p className="secret">{t.yourId(data.me.id)}</p>}
    </main>
  );
}

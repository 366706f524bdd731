import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Choice, Done, Field, FormAlert, SelectField, optionsOf } from '../../components';
import { formatPhone } from '../../format';
import { useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization } from '../OrganizationLayout';

const TwoStepQuery = graphql(`
  query TwoStep {
    me {
      id
      twoStepEnabled
    }
    myPhones {
      id
      number
      verified
    }
  }
`);

const StartTotpMutation = graphql(`
  mutation StartTotpEnrollment($commandId: UUID) {
    startTotpEnrollment(commandId: $commandId) {
      secret
      otpauthUri
    }
  }
`);

const ConfirmTotpMutation = graphql(`
  mutation ConfirmTotpEnrollment($code: String!, $commandId: UUID) {
    confirmTotpEnrollment(code: $code, commandId: $commandId) {
      recoveryCodes
      account {
        id
        twoStepEnabled
      }
    }
  }
`);

const EnableCodesMutation = graphql(`
  mutation EnableTwoStepCodes($channel: CodeChannel!, $phone: String, $commandId: UUID) {
    enableTwoStepCodes(channel: $channel, phone: $phone, commandId: $commandId) {
      recoveryCodes
      account {
        id
        twoStepEnabled
      }
    }
  }
`);

const DisableMutation = graphql(`
  mutation DisableTwoStep($currentPassword: String!, $commandId: UUID) {
    disableTwoStep(currentPassword: $currentPassword, commandId: $commandId) {
      account {
        id
        twoStepEnabled
      }
    }
  }
`);

/** The QR code of an `otpauth://` address, drawn in the browser (the library loads only on this page). */
function QrCode({ uri }: { uri: string }) {
  const [image, setImage] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    void import('qrcode')
      .then((qrcode) => qrcode.toDataURL(uri, { margin: 2, width: 220 }))
      .then((url) => live && setImage(url));
    return () => {
      live = false;
    };
  }, [uri]);
  return image ? <img src={image} width={220} height={220} alt={messages.profile.twoStep.qrAlt} /> : null;
}

/** The recovery codes, shown once, to download or print. */
function RecoveryCodes({ codes }: { codes: string[] }) {
  const t = messages.profile.twoStep;
  const file = useMemo(
    () => URL.createObjectURL(new Blob([`${t.recoveryFile}\n\n${codes.join('\n')}\n`], { type: 'text/plain' })),
    [codes, t.recoveryFile],
  );
  useEffect(() => () => URL.revokeObjectURL(file), [file]);
  return (
    <section aria-labelledby="recovery-codes" className="recovery">
      <h2 id="recovery-codes">{t.recoveryTitle}</h2>
      <p>{t.recoveryIntro}</p>
      <ul className="codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="actions no-print">
        <a href={file} download="recovery-codes.txt">
          {t.download}
        </a>
        <button type="button" className="secondary" onClick={() => window.print()}>
          {t.print}
        </button>
      </div>
    </section>
  );
}

/** Sets two-step verification up with an authenticator app: the QR code and secret, then a first code. */
function AuthenticatorSetUp({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const t = messages.profile.twoStep;
  const [enrollment, setEnrollment] = useState<{ secret: string; otpauthUri: string } | undefined>();
  const [code, setCode] = useState('');
  const [{ fetching: starting }, start] = useMutation(StartTotpMutation);
  const [{ fetching: confirming }, confirm] = useMutation(ConfirmTotpMutation);
  const form = useCommand();

  const begin = () =>
    void form.run(
      (commandId) => start({ commandId }),
      (data) => {
        setEnrollment(data.startTotpEnrollment);
        return undefined;
      },
    );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => confirm({ code: code.trim(), commandId }),
      (data) => {
        onCodes(data.confirmTotpEnrollment.recoveryCodes);
        return t.enabled;
      },
    );
  };

  if (!enrollment) {
    return (
      <>
        <FormAlert message={form.errors.form} />
        <button type="button" disabled={starting} onClick={begin}>
          {t.startApp}
        </button>
      </>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.appTitle}>
      <p>{t.scan}</p>
      <QrCode uri={enrollment.otpauthUri} />
      <p>
        {t.manual} <code className="secret">{enrollment.secret}</code>
      </p>
      <FormAlert message={form.errors.form} />
      <Field label={t.firstCode} name="code" inputMode="numeric" autoComplete="one-time-code" value={code} required
        error={form.errors.fields.code} onChange={(e) => setCode(e.target.value)} />
      <button type="submit" disabled={confirming}>
        {t.confirm}
      </button>
    </form>
  );
}

/** Sets two-step verification up with codes by e-mail or by text to a verified number. */
function CodesSetUp({ channel, phones, onCodes }: {
  channel: 'EMAIL' | 'SMS';
  phones: { number: string; verified: boolean }[];
  onCodes: (codes: string[]) => void;
}) {
  const t = messages.profile.twoStep;
  const verified = phones.filter((phone) => phone.verified);
  const [phone, setPhone] = useState(verified[0]?.number ?? '');
  const [{ fetching }, enable] = useMutation(EnableCodesMutation);
  const form = useCommand();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => enable({ channel, phone: channel === 'SMS' ? phone : null, commandId }),
      (data) => {
        onCodes(data.enableTwoStepCodes.recoveryCodes);
        return t.enabled;
      },
    );
  };

  if (channel === 'SMS' && verified.length === 0) return <p>{t.noPhone}</p>;
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.codesTitle}>
      <FormAlert message={form.errors.form} />
      {channel === 'SMS' && (
        <SelectField label={t.phone} name="phone" value={phone} placeholder={t.choosePhone}
          options={verified.map((p) => ({ value: p.number, label: formatPhone(p.number) }))}
          error={form.errors.fields.phone} onChange={(e) => setPhone(e.target.value)} />
      )}
      <button type="submit" disabled={fetching}>
        {channel === 'SMS' ? t.enableText : t.enableEmail}
      </button>
    </form>
  );
}

/** Turning two-step verification off, with the current password. */
function TurnOff() {
  const t = messages.profile.twoStep;
  const [password, setPassword] = useState('');
  const [{ fetching }, disable] = useMutation(DisableMutation);
  const form = useCommand();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run((commandId) => disable({ currentPassword: password, commandId }), () => t.disabled);
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.turnOff}>
      <FormAlert message={form.errors.form} />
      <Field label={messages.profile.password.current} name="currentPassword" type="password" value={password}
        autoComplete="current-password" required error={form.errors.fields.currentPassword}
        onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" className="secondary" disabled={fetching}>
        {t.turnOff}
      </button>
    </form>
  );
}

/** Two-step verification: on with an authenticator app or codes by e-mail or text, the recovery codes, or off. */
export function TwoStep() {
  const t = messages.profile.twoStep;
  const [{ data }] = useQuery({ query: TwoStepQuery });
  const organization = useOrganization();
  // `?required`: sent here because the organization requires it (client.ts, twoStepPage).
  const required = useSearchParams()[0].has('required');
  const [method, setMethod] = useState('APP');
  const [codes, setCodes] = useState<string[]>([]);
  const [said, setSaid] = useState<string | undefined>();
  const onCodes = (recovery: string[]) => {
    setCodes(recovery);
    setSaid(t.enabled);
  };
  if (!data?.me) return <p>{messages.loading}</p>;
  return (
    <main id="content" className="narrow-forms">
      <h1>{t.title}</h1>
      {required && !data.me.twoStepEnabled && <p role="alert">{t.required}</p>}
      {required && data.me.twoStepEnabled && (
        <p>
          <Link to={`/o/${organization.code}/`}>{t.goOn}</Link>
        </p>
      )}
      <p>{t.intro}</p>
      <Done message={said} />
      {codes.length > 0 && <RecoveryCodes codes={codes} />}
      {data.me.twoStepEnabled ? (
        <>
          <p>{t.on}</p>
          <TurnOff />
        </>
      ) : (
        <>
          <p>{t.off}</p>
          <Choice legend={t.how} name="method" value={method} options={optionsOf(t.methods)} onChange={setMethod} />
          {method === 'APP' ? (
            <AuthenticatorSetUp onCodes={onCodes} />
          ) : (
            <CodesSetUp key={method} channel={method === 'SMS' ? 'SMS' : 'EMAIL'} phones={data.myPhones}
              onCodes={onCodes} />
          )}
        </>
      )}
    </main>
  );
}

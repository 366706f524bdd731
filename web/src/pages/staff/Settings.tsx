import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { LockoutModeInput, TwoStepRequirement } from '../../gql/graphql';
import { Choice, Done, Field, FormAlert, optionsOf } from '../../components';
import { formErrors } from '../../errors';
import { formatPhone } from '../../format';
import { optionalNumber, useCommand } from '../../forms';
import { messages } from '../../messages';
import { useOrganization, useRefreshOrganization } from '../OrganizationLayout';

/** The security policy as the form shows it, and as saving answers it. */
export const PolicyFields = graphql(`
  fragment PolicyFields on SecurityPolicyView {
    id
    lockoutThreshold
    lockoutMode
    coolDownMinutes
    maxCoolDownMinutes
    sessionHours
    sessionIdleMinutes
    twoStepRequired
  }
`);

const SetTwoStepRequirementMutation = graphql(`
  mutation SetTwoStepRequirement($required: TwoStepRequirement!, $commandId: UUID) {
    setTwoStepRequirement(required: $required, commandId: $commandId) {
      securityPolicy {
        ...PolicyFields
      }
    }
  }
`);

/** Who must use two-step verification (seed 001's "additional security", as an organization's rule). */
function TwoStepRequirementForm({ current }: { current: TwoStepRequirement }) {
  const t = messages.staff.settings;
  const [required, setRequired] = useState<TwoStepRequirement>(current);
  const [{ fetching }, save] = useMutation(SetTwoStepRequirementMutation);
  const form = useCommand();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void form.run(
      (commandId) => save({ required, commandId }),
      () => t.twoStepSaved(t.twoStepChoices[required] ?? required),
    );
  };
  return (
    <section aria-labelledby="two-step-requirement">
      <h2 id="two-step-requirement">{t.twoStepTitle}</h2>
      <p>{t.twoStepIntro}</p>
      <Done message={form.said} />
      <form onSubmit={submit} noValidate aria-label={t.twoStepTitle}>
        <FormAlert message={form.errors.form} />
        <Choice legend={t.twoStepWho} name="required" value={required} options={optionsOf(t.twoStepChoices)}
          onChange={(value) => setRequired(value as TwoStepRequirement)} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.save}
        </button>
      </form>
    </section>
  );
}

const SettingsQuery = graphql(`
  query StaffSettings {
    securityPolicy {
      ...PolicyFields
    }
    messagingSettings {
      id
      timeZone
      smsAccountSid
    }
  }
`);

const SetSecurityPolicyMutation = graphql(`
  mutation SetSecurityPolicy($input: SetSecurityPolicyInput!) {
    setSecurityPolicy(input: $input) {
      securityPolicy {
        ...PolicyFields
      }
    }
  }
`);

const SetTimeZoneMutation = graphql(`
  mutation SetTimeZone($timeZone: String!, $commandId: UUID) {
    setTimeZone(timeZone: $timeZone, commandId: $commandId) {
      messagingSettings {
        id
        timeZone
      }
    }
  }
`);

const ConfigureSmsMutation = graphql(`
  mutation ConfigureSms($input: ConfigureSmsInput!) {
    configureSms(input: $input) {
      messagingSettings {
        id
        smsAccountSid
      }
    }
  }
`);

interface Policy {
  lockoutThreshold: number;
  lockoutMode: string;
  coolDownMinutes?: number | null;
  maxCoolDownMinutes?: number | null;
  sessionHours: number;
  sessionIdleMinutes: number;
}

const text = (n: number | null | undefined) => (n == null ? '' : String(n));

/** Lockout and session rules. */
function PolicyForm({ policy }: { policy: Policy }) {
  const t = messages.staff.settings;
  const [values, setValues] = useState({
    lockoutThreshold: text(policy.lockoutThreshold),
    lockoutMode: policy.lockoutMode,
    coolDownMinutes: text(policy.coolDownMinutes),
    maxCoolDownMinutes: text(policy.maxCoolDownMinutes),
    sessionHours: text(policy.sessionHours),
    sessionIdleMinutes: text(policy.sessionIdleMinutes),
  });
  const [{ fetching }, save] = useMutation(SetSecurityPolicyMutation);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });
  const coolDown = values.lockoutMode === 'COOL_DOWN';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) =>
        save({
          input: {
            lockoutThreshold: Number(values.lockoutThreshold),
            lockoutMode: values.lockoutMode as LockoutModeInput,
            coolDownMinutes: coolDown ? optionalNumber(values.coolDownMinutes) : null,
            maxCoolDownMinutes: coolDown ? optionalNumber(values.maxCoolDownMinutes) : null,
            sessionHours: optionalNumber(values.sessionHours),
            sessionIdleMinutes: optionalNumber(values.sessionIdleMinutes),
            commandId,
          },
        }),
      () => t.policySaved,
    );
  };

  return (
    <section aria-labelledby="security-policy">
      <h2 id="security-policy">{t.policyTitle}</h2>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.policyTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.threshold} name="lockoutThreshold" type="number" inputMode="numeric" min={1} max={100}
          required value={values.lockoutThreshold} error={form.errors.fields.lockoutThreshold}
          onChange={set('lockoutThreshold')} />
        <Choice legend={t.mode} name="lockoutMode" value={values.lockoutMode} options={optionsOf(t.modes)}
          error={form.errors.fields.lockoutMode} onChange={(lockoutMode) => setValues({ ...values, lockoutMode })} />
        {coolDown && (
          <>
            <Field label={t.coolDown} name="coolDownMinutes" type="number" inputMode="numeric" min={1}
              placeholder="15" value={values.coolDownMinutes} error={form.errors.fields.coolDownMinutes}
              onChange={set('coolDownMinutes')} />
            <Field label={t.maxCoolDown} name="maxCoolDownMinutes" type="number" inputMode="numeric" min={1}
              placeholder="1440" value={values.maxCoolDownMinutes} error={form.errors.fields.maxCoolDownMinutes}
              onChange={set('maxCoolDownMinutes')} />
          </>
        )}
        <Field label={t.sessionHours} name="sessionHours" type="number" inputMode="numeric" min={1} max={24}
          value={values.sessionHours} error={form.errors.fields.sessionHours} onChange={set('sessionHours')} />
        <Field label={t.sessionIdle} name="sessionIdleMinutes" type="number" inputMode="numeric" min={5} max={480}
          value={values.sessionIdleMinutes} error={form.errors.fields.sessionIdleMinutes}
          onChange={set('sessionIdleMinutes')} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.save}
        </button>
      </form>
    </section>
  );
}

/** The zone the organization's calendar, texting hours and pages use. */
function TimeZoneForm({ current }: { current: string }) {
  const t = messages.staff.settings;
  const refreshOrganization = useRefreshOrganization();
  const [zone, setZone] = useState(current);
  const [{ fetching }, save] = useMutation(SetTimeZoneMutation);
  const form = useCommand();
  const zones = Intl.supportedValuesOf('timeZone');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await form.run((commandId) => save({ timeZone: zone, commandId }), () => t.zoneSaved(zone));
    // Every page shows times in the organization's zone: read it again.
    if (saved) {
      await refreshOrganization();
    }
  };

  return (
    <section aria-labelledby="time-zone">
      <h2 id="time-zone">{t.zoneTitle}</h2>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.zoneTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.zone} name="timeZone" list="time-zones" value={zone} required
          error={form.errors.fields.timeZone} onChange={(e) => setZone(e.target.value)} />
        <datalist id="time-zones">
          {zones.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.save}
        </button>
      </form>
    </section>
  );
}

/** The number learners text and the SMS provider's account and token (the token is never shown again). */
function SmsForm({ accountSid }: { accountSid?: string | null | undefined }) {
  const t = messages.staff.settings;
  const organization = useOrganization();
  const refreshOrganization = useRefreshOrganization();
  const [values, setValues] = useState({ number: organization.smsNumber ?? '', authToken: '', accountSid: accountSid ?? '' });
  const [{ fetching }, save] = useMutation(ConfigureSmsMutation);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await form.run(
      (commandId) => save({ input: { ...values, accountSid: values.accountSid || null, commandId } }),
      () => t.smsSaved(formatPhone(values.number)),
    );
    if (saved) {
      setValues({ ...values, authToken: '' });
      await refreshOrganization();
    }
  };

  return (
    <section aria-labelledby="sms-settings">
      <h2 id="sms-settings">{t.smsTitle}</h2>
      <p>{organization.smsNumber ? t.smsNow(formatPhone(organization.smsNumber)) : t.smsNone}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.smsTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.smsNumber} name="number" type="tel" value={values.number} required
          error={form.errors.fields.number} onChange={set('number')} />
        <Field label={t.accountSid} name="accountSid" value={values.accountSid} autoComplete="off"
          error={form.errors.fields.accountSid} onChange={set('accountSid')} />
        <Field label={t.authToken} name="authToken" type="password" value={values.authToken} required
          autoComplete="off" error={form.errors.fields.authToken} onChange={set('authToken')} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.save}
        </button>
      </form>
    </section>
  );
}

const SetHelpContactsMutation = graphql(`
  mutation SetHelpContacts($input: SetHelpContactsInput!) {
    setHelpContacts(input: $input) {
      position
      organization {
        id
      }
    }
  }
`);

/** How people reach the help desk: shown at the foot of every page, e-mail and text, and to a locked account. */
function HelpForm() {
  const t = messages.staff.settings;
  const organization = useOrganization();
  const refreshOrganization = useRefreshOrganization();
  const help = organization.help;
  const [values, setValues] = useState({
    displayName: organization.displayName === organization.name ? '' : (organization.displayName ?? ''),
    phone: help?.phone ?? '',
    hours: help?.hours ?? '',
    email: help?.email ?? '',
    web: help?.web ?? '',
  });
  const [{ fetching }, save] = useMutation(SetHelpContactsMutation);
  const form = useCommand();
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues({ ...values, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await form.run((commandId) => save({ input: { ...values, commandId } }), () => t.helpSaved);
    // The foot of every page shows them: read the organization again once the read model has them.
    if (saved) {
      await refreshOrganization();
    }
  };

  return (
    <section aria-labelledby="help-contacts">
      <h2 id="help-contacts">{t.helpTitle}</h2>
      <p>{t.helpIntro}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.helpTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.helpDisplayName} name="displayName" value={values.displayName}
          error={form.errors.fields.displayName} onChange={set('displayName')} />
        <Field label={t.helpPhone} name="phone" type="tel" value={values.phone}
          error={form.errors.fields.phone} onChange={set('phone')} />
        <Field label={t.helpHours} name="hours" value={values.hours}
          error={form.errors.fields.hours} onChange={set('hours')} />
        <Field label={t.helpEmail} name="email" type="email" value={values.email}
          error={form.errors.fields.email} onChange={set('email')} />
        <Field label={t.helpWeb} name="web" type="url" value={values.web}
          error={form.errors.fields.web} onChange={set('web')} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.save}
        </button>
      </form>
    </section>
  );
}

const SetCalendarPublicMutation = graphql(`
  mutation SetCalendarPublic($public: Boolean!, $commandId: UUID) {
    setCalendarPublic(public: $public, commandId: $commandId) {
      position
      organization {
        id
        calendarPublic
      }
    }
  }
`);

/** Whether anyone may browse the calendar (the FAQ's "click the Calendar link") and subscribe to it. */
function PublicCalendarForm() {
  const t = messages.staff.settings;
  const organization = useOrganization();
  const refreshOrganization = useRefreshOrganization();
  const [open, setOpen] = useState(organization.calendarPublic ?? false);
  const [{ fetching }, save] = useMutation(SetCalendarPublicMutation);
  const form = useCommand();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await form.run(
      (commandId) => save({ public: open, commandId }),
      () => (open ? t.calendarOpened : t.calendarClosed),
    );
    if (saved) {
      await refreshOrganization();
    }
  };
  return (
    <section aria-labelledby="public-calendar">
      <h2 id="public-calendar">{t.calendarTitle}</h2>
      <p>{t.calendarIntro}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.calendarTitle}>
        <FormAlert message={form.errors.form} />
        <div className="check">
          <input id="calendar-public" type="checkbox" checked={open} onChange={(e) => setOpen(e.target.checked)} />
          <label htmlFor="calendar-public">{t.calendarPublic}</label>
        </div>
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : t.save}
        </button>
      </form>
    </section>
  );
}

/** Settings: the security policy, the time zone, texting (SMS), the help contacts and the public calendar. */
export function Settings() {
  const [{ data, error }] = useQuery({ query: SettingsQuery });
  return (
    <main id="content" className="narrow-forms">
      <h1>{messages.staff.settings.title}</h1>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {data && (
        <>
          <PolicyForm policy={data.securityPolicy} />
          <TwoStepRequirementForm current={data.securityPolicy.twoStepRequired} />
          <TimeZoneForm current={data.messagingSettings.timeZone} />
          <SmsForm accountSid={data.messagingSettings.smsAccountSid} />
          <HelpForm />
          <PublicCalendarForm />
        </>
      )}
    </main>
  );
}

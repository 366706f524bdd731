import { useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { MessageKind } from '../../gql/graphql';
import { Done, Field, FormAlert, TextArea } from '../../components';
import { formErrors, type FormErrors } from '../../errors';
import { useCommand } from '../../forms';
import { messages } from '../../messages';

/** One kind of message's wording, as the page shows it and as saving or resetting answers it. */
export const TemplateView = graphql(`
  fragment TemplateView on MessageTemplateInfo {
    id
    kind
    channel
    custom
    subject
    text
    html
    variables
  }
`);

const MessagingQuery = graphql(`
  query StaffMessaging {
    messagingSettings {
      id
      senderName
      senderAddress
      textingOpens
      textingCloses
      timeZone
    }
    messageTemplates {
      ...TemplateView
    }
  }
`);

const PreviewQuery = graphql(`
  query MessagePreview($kind: MessageKind!, $draft: MessageDraftInput) {
    messagePreview(kind: $kind, draft: $draft) {
      subject
      text
      links
    }
  }
`);

const SetMailSenderMutation = graphql(`
  mutation SetMailSender($input: MailSenderInput, $commandId: UUID) {
    setMailSender(input: $input, commandId: $commandId) {
      messagingSettings {
        id
        senderName
        senderAddress
      }
    }
  }
`);

const SetTextingHoursMutation = graphql(`
  mutation SetTextingHours($opens: String!, $closes: String!, $commandId: UUID) {
    setTextingHours(opens: $opens, closes: $closes, commandId: $commandId) {
      messagingSettings {
        id
        textingOpens
        textingCloses
      }
    }
  }
`);

const SetTemplateMutation = graphql(`
  mutation SetMessageTemplate($input: MessageTemplateInput!, $commandId: UUID) {
    setMessageTemplate(input: $input, commandId: $commandId) {
      messageTemplate {
        ...TemplateView
      }
    }
  }
`);

const ResetTemplateMutation = graphql(`
  mutation ResetMessageTemplate($kind: MessageKind!, $commandId: UUID) {
    resetMessageTemplate(kind: $kind, commandId: $commandId) {
      messageTemplate {
        ...TemplateView
      }
    }
  }
`);

/** The sender of the organization's e-mail; cleared, the server's default sender. */
function SenderForm({ name, address }: { name?: string | null | undefined; address?: string | null | undefined }) {
  const t = messages.staff.messaging;
  const [values, setValues] = useState({ name: name ?? '', address: address ?? '' });
  const [{ fetching }, save] = useMutation(SetMailSenderMutation);
  const form = useCommand();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const cleared = values.name.trim() === '' && values.address.trim() === '';
    await form.run(
      (commandId) => save({ input: cleared ? null : values, commandId }),
      () => (cleared ? t.senderDefault : t.senderSaved(values.address)),
    );
  };

  return (
    <section aria-labelledby="mail-sender">
      <h2 id="mail-sender">{t.senderTitle}</h2>
      <p>{t.senderIntro}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.senderTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.senderName} name="name" value={values.name} error={form.errors.fields.name}
          onChange={(e) => setValues({ ...values, name: e.target.value })} />
        <Field label={t.senderAddress} name="address" type="email" value={values.address}
          error={form.errors.fields.address} onChange={(e) => setValues({ ...values, address: e.target.value })} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : messages.staff.settings.save}
        </button>
      </form>
    </section>
  );
}

/** The local hours in which texts other than one-time codes go out. */
function TextingHoursForm({ opens, closes, timeZone }: { opens: string; closes: string; timeZone: string }) {
  const t = messages.staff.messaging;
  const [values, setValues] = useState({ opens, closes });
  const [{ fetching }, save] = useMutation(SetTextingHoursMutation);
  const form = useCommand();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => save({ ...values, commandId }),
      () => t.hoursSaved(values.opens, values.closes),
    );
  };

  return (
    <section aria-labelledby="texting-hours">
      <h2 id="texting-hours">{t.hoursTitle}</h2>
      <p>{t.hoursIntro(timeZone)}</p>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={t.hoursTitle}>
        <FormAlert message={form.errors.form} />
        <Field label={t.opens} name="opens" type="time" value={values.opens} required error={form.errors.fields.opens}
          onChange={(e) => setValues({ ...values, opens: e.target.value })} />
        <Field label={t.closes} name="closes" type="time" value={values.closes} required
          error={form.errors.fields.closes} onChange={(e) => setValues({ ...values, closes: e.target.value })} />
        <button type="submit" disabled={fetching}>
          {fetching ? messages.staff.saving : messages.staff.settings.save}
        </button>
      </form>
    </section>
  );
}

interface Template {
  kind: MessageKind;
  channel: string;
  custom: boolean;
  subject: string;
  text: string;
  html?: string | null;
  variables: string[];
}

/** One kind of message's wording: edit and save it, or go back to the default. */
function TemplateEditor({ template }: { template: Template }) {
  const t = messages.staff.messaging;
  const label = messages.staff.messageKinds[template.kind] ?? template.kind;
  const email = template.channel === 'email';
  const [values, setValues] = useState({ subject: template.subject, text: template.text, html: template.html ?? '' });
  const [{ fetching: saving }, save] = useMutation(SetTemplateMutation);
  const [{ fetching: resetting }, reset] = useMutation(ResetTemplateMutation);
  const form = useCommand(['kind']);

  const [custom, setCustom] = useState(template.custom);
  const client = useClient();
  const [preview, setPreview] = useState<{ subject: string; text: string; links: string[] } | undefined>();
  const [previewError, setPreviewError] = useState<FormErrors>({ fields: {} });
  // What the form holds, as the API takes a wording: texts have no subject and no HTML.
  const draft = () => ({
    subject: email ? values.subject : '',
    text: values.text,
    html: email && values.html ? values.html : null,
  });
  const show = (answer: Template | null | undefined) => {
    if (!answer) return;
    setValues({ subject: answer.subject, text: answer.text, html: answer.html ?? '' });
    setCustom(answer.custom);
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await form.run(
      (commandId) => save({ input: { kind: template.kind, ...draft() }, commandId }),
      (data) => {
        show(data.setMessageTemplate.messageTemplate);
        return t.templateSaved(label);
      },
    );
  };
  // The draft as it would read, with sample values and the portal's real links (not saved).
  const showPreview = async () => {
    const result = await client
      .query(PreviewQuery, { kind: template.kind, draft: draft() }, { requestPolicy: 'network-only' })
      .toPromise();
    setPreviewError(formErrors(result.error, ['kind']));
    setPreview(result.data?.messagePreview);
  };
  const backToDefault = async () => {
    await form.run(
      (commandId) => reset({ kind: template.kind, commandId }),
      (data) => {
        show(data.resetMessageTemplate.messageTemplate);
        return t.templateReset(label);
      },
    );
  };

  return (
    <details>
      <summary>
        {label} · {email ? t.email : t.text} · {custom ? t.custom : t.standard}
      </summary>
      <Done message={form.said} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-label={label}>
        <FormAlert message={form.errors.form ?? previewError.form} />
        <p>{t.variables(template.variables.map((v) => `{{ ${v} }}`).join(', '))}</p>
        {email && (
          <Field label={t.subject} name="subject" value={values.subject}
            error={form.errors.fields.subject ?? previewError.fields['draft.subject']}
            onChange={(e) => setValues({ ...values, subject: e.target.value })} />
        )}
        <TextArea label={t.body} name="text" value={values.text} required
          error={form.errors.fields.text ?? previewError.fields['draft.text']}
          onChange={(e) => setValues({ ...values, text: e.target.value })} />
        {email && (
          <TextArea label={t.html} name="html" value={values.html}
            error={form.errors.fields.html ?? previewError.fields['draft.html']}
            onChange={(e) => setValues({ ...values, html: e.target.value })} />
        )}
        <div className="actions">
          <button type="submit" disabled={saving}>
            {saving ? messages.staff.saving : t.saveTemplate(label)}
          </button>
          <button type="button" className="secondary" onClick={() => void showPreview()}>
            {t.preview(label)}
          </button>
          {custom && (
            <button type="button" className="secondary" disabled={resetting} onClick={() => void backToDefault()}>
              {t.reset(label)}
            </button>
          )}
        </div>
      </form>
      {preview && (
        <section className="preview" aria-label={t.previewOf(label)}>
          {preview.subject && <p className="preview-subject">{preview.subject}</p>}
          <p className="preview-text">{preview.text}</p>
          {preview.links.length > 0 && (
            <ul>
              {preview.links.map((link) => (
                <li key={link}>
                  <a href={link} target="_blank" rel="noreferrer">
                    {t.openLink(link)}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </details>
  );
}

/** Messaging: who e-mail comes from, when texts go out, and the wording of every kind of message. */
export function Messages() {
  const t = messages.staff.messaging;
  const [{ data, error }] = useQuery({ query: MessagingQuery });
  const settings = data?.messagingSettings;
  return (
    <main id="content" className="narrow-forms">
      <h1>{t.title}</h1>
      <FormAlert message={error ? formErrors(error).form : undefined} />
      {settings && (
        <>
          <SenderForm name={settings.senderName} address={settings.senderAddress} />
          <TextingHoursForm opens={settings.textingOpens} closes={settings.textingCloses} timeZone={settings.timeZone} />
        </>
      )}
      <section aria-labelledby="templates">
        <h2 id="templates">{t.templatesTitle}</h2>
        <p>{t.templatesIntro}</p>
        {data?.messageTemplates.map((template) => (
          <TemplateEditor key={template.kind} template={template} />
        ))}
      </section>
    </main>
  );
}

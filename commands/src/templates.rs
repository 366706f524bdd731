//! The wording of every kind of message: the defaults, an organization's own templates, and rendering them with a
//! message's data. Templates use Jinja syntax (`{{ link }}`) through minijinja: a sandbox without file or network
//! access, where an unknown variable is an error rather than an empty string.
//!
//! Templates are written by staff, so they are bounded: each render has a fuel budget (minijinja's `fuel`: one
//! unit per instruction), runs on a blocking thread rather than the async workers, and must finish within
//! [`RENDER_TIME_LIMIT`]. A kind's secret variables (a link with a token, a code: `MessageKind::secret_variables`)
//! may appear in the body only, and must: a subject is shown to staff in the deliveries, and a reset e-mail
//! without its link silently breaks password resets.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use portal_domain::values::person_name::looks_like_link;
use portal_domain::values::{Channel, HelpContacts, MessageKind, MessageTemplate};
use serde_json::{Map, Value};

/// A message ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line (empty for texts).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body of an e-mail (none for texts).
    pub html: Option<String>,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct TemplateError {
    /// The part of the template (`subject`, `text`, `html`).
    pub field: &'static str,
    /// What is wrong, with the line where the engine says.
    pub detail: String,
}

/// The longest rendered part, in bytes: a template that loops its way past this is refused.
const MAX_RENDERED_BYTES: usize = 100_000;

/// Instructions one render may run: the defaults take a few dozen, a template that loops over a long list a few
/// thousand; nested loops over `range(100000)` run out in milliseconds.
const FUEL: u64 = 50_000;

/// How long a render may take, off the async workers, before it is given up.
pub const RENDER_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The default subject and text of a kind.
pub fn default_template(kind: MessageKind) -> (&'static str, &'static str) {
    use MessageKind::*;
    match kind {
        Activation => (
            "Activate your {{ organization }} account",
            "Hello {{ salutation }},\n\n\
             Thanks for creating your {{ organization }} account. To finish setting it up, open this link:\n\n\
             {{ link }}\n\n\
             The link works once and expires in 72 hours. Until you open it, you cannot sign in.\n\n\
             If you did not create this account, ignore this e-mail: nothing happens without the link.\n",
        ),
        RepeatedRegistration => (
            "You already have a {{ organization }} account",
            "Hello {{ salutation }},\n\n\
             Someone, perhaps you, tried to create a {{ organization }} account with this e-mail address. \
             You already have one, so nothing was created.\n\n\
             To get in, sign in with this address. If you forgot your password, use \"Forgot your password\".\n\
             If you have not activated your account yet, ask for a new activation e-mail on the sign-in page.\n",
        ),
        AccountUnlocked => (
            "Your account was unlocked",
            "Hello {{ salutation }},\n\n\
             Your account was locked after too many failed sign-ins. A coordinator has now unlocked it: \
             you can sign in again.\n\n\
             If you did not try to sign in, someone else may have tried to guess your password. \
             Choose a new one with \"Forgot your password\" on the sign-in page.\n",
        ),
        PasswordReset => (
            "Reset your {{ organization }} password",
            "Hello {{ salutation }},\n\n\
             Someone, perhaps you, asked to reset the password of your {{ organization }} account. To choose a new \
             one, open this link:\n\n\
             {{ link }}\n\n\
             The link works once and expires in one hour. Setting a new password signs you out everywhere.\n\n\
             If you did not ask for this, ignore this e-mail: your password stays as it is.\n",
        ),
        NoAccount => (
            "No {{ organization }} account uses this address",
            "Hello,\n\n\
             Someone, perhaps you, asked to reset the password of a {{ organization }} account for this e-mail \
             address, but no account uses it.\n\n\
             If you have an account, try another e-mail address you may have used. If you do not, create one \
             here:\n\n\
             {{ register_link }}\n\n\
             If you did not ask for this, ignore this e-mail.\n",
        ),
        PasswordChanged => (
            "Your password was changed",
            "Hello {{ salutation }},\n\n\
             The password of your account was just changed, and every other session was signed out.\n\n\
             If this was not you, reset your password at once with \"Forgot your password\" on the sign-in page, \
             and tell your coordinator.\n",
        ),
        StaffInvitation => (
            "You are invited to coordinate {{ organization }}",
            "Hello {{ salutation }},\n\n\
             A coordinator of {{ organization }} created a staff account for you. To start, choose your password \
             here:\n\n\
             {{ link }}\n\n\
             The link works once and expires in 72 hours. If you did not expect this, ignore this e-mail.\n",
        ),
        AuditorInvitation => (
            "You are invited to audit {{ organization }}",
            "Hello {{ salutation }},\n\n\
             A coordinator of {{ organization }} created an auditor's account for you: with it you can read \
             accounts' and transcripts' history and the access log, and change nothing. To start, choose your \
             password here:\n\n\
             {{ link }}\n\n\
             The link works once and expires in 72 hours. If you did not expect this, ignore this e-mail.\n",
        ),
        ConfirmEmail => (
            "Confirm your new e-mail address",
            "Hello {{ salutation }},\n\n\
             You asked to sign in with this address from now on. To confirm it, open this link:\n\n\
             {{ link }}\n\n\
             The link works for 24 hours. Until then you keep signing in with your previous address.\n\n\
             If you did not ask for this, ignore this e-mail.\n",
        ),
        EmailChangeRequested => (
            "A change of your e-mail address was requested",
            "Hello {{ salutation }},\n\n\
             Someone signed in to your account asked to change its sign-in address. The change takes effect only \
             once the new address is confirmed.\n\n\
             If this was not you, reset your password at once with \"Forgot your password\" and tell your \
             coordinator.\n",
        ),
        EmailChanged => (
            "Your e-mail address was changed",
            "Hello {{ salutation }},\n\n\
             The sign-in address of your account was just changed; this address is no longer used for it.\n\n\
             If this was not you, reset your password at once with \"Forgot your password\" and tell your \
             coordinator.\n",
        ),
        EmailInUse => (
            "This address already has an account",
            "Hello,\n\n\
             Someone asked to use this e-mail address for their account, but another account already uses it, so \
             nothing changed.\n\n\
             If you have two accounts and want to keep one, ask your coordinator.\n",
        ),
        PhoneAdded => (
            "A phone number was added to your account",
            "Hello {{ salutation }},\n\n\
             The mobile number ending in {{ last_four }} is now paired with your account: texts from it record \
             attendance in your name.\n\n\
             If this was not you, remove the number under Profile > Phone numbers and tell your coordinator.\n",
        ),
        PhoneMoved => (
            "A phone number was removed from your account",
            "Hello {{ salutation }},\n\n\
             The mobile number ending in {{ last_four }} was paired with another account, so it no longer records \
             attendance for yours.\n\n\
             If that number is still yours, pair it again by texting your e-mail address to your organization's \
             number.\n",
        ),
        PhoneCode => (
            "",
            "{{ code }} is your {{ organization }} verification code. It expires in 10 minutes. Do not share it.",
        ),
        PatientActivationCode => (
            "Your {{ organization }} patient portal activation code",
            "Hello {{ salutation }},\n\n\
             Your activation code for the {{ organization }} patient portal is:\n\n    {{ code }}\n\n\
             To create your account, open {{ link }} and enter the code with your date of birth. The code works \
             once, until {{ expires }}.\n\n\
             If you did not ask for a patient portal account, you can ignore this e-mail.\n",
        ),
        CodeRequestRejected => (
            "Your {{ organization }} patient portal request",
            "Hello {{ salutation }},\n\n\
             We could not confirm your identity from the details you gave, so no activation code was sent. Please \
             call the clinic, or ask for a code at your next visit.\n\n\
             If you did not ask for a patient portal account, you can ignore this e-mail.\n",
        ),
        SignInCodeEmail => (
            "Your {{ organization }} sign-in code",
            "Hello {{ salutation }},\n\n\
             Your sign-in code is {{ code }}. It works once, for 10 minutes.\n\n\
             If you did not just sign in, someone knows your password: change it now, and tell the clinic.\n",
        ),
        SignInCodeText => (
            "",
            "{{ code }} is your {{ organization }} sign-in code. It expires in 10 minutes. Do not share it.",
        ),
        AppointmentBooked => (
            "Your appointment is booked at {{ organization }}",
            APPOINTMENT_BOOKED,
        ),
        AppointmentMoved => (
            "Your appointment was moved at {{ organization }}",
            APPOINTMENT_MOVED,
        ),
        AppointmentCancelled => (
            "Your appointment was cancelled at {{ organization }}",
            APPOINTMENT_CANCELLED,
        ),
        AppointmentReminder => (
            "Reminder: your appointment at {{ organization }}",
            APPOINTMENT_REMINDER,
        ),
        AppointmentReminderText => (
            "",
            "Reminder from {{ organization }}: your appointment with {{ provider }} is on {{ when }} at \
             {{ location }}. To move or cancel it, sign in to the patient portal.",
        ),
        SlotOffered => (
            "An earlier appointment is free at {{ organization }}",
            "Hello {{ salutation }},\n\n\
             An appointment you were waiting for opened up: {{ when }}.\n\n\
             It is held for you until {{ until }}. To take it, accept the offer on your wait list:\n\n\
             {{ link }}\n\n\
             After that it goes to the next person waiting.\n",
        ),
        // What care messages say stays behind the sign-in: they only say that something is waiting there.
        ReplyWaiting => (
            "A message from your care team at {{ organization }}",
            "Hello {{ salutation }},\n\n\
             Your care team has answered you. To read the message, sign in to the patient portal.\n",
        ),
        ReplyWaitingText => (
            "",
            "{{ organization }}: your care team has answered you. Sign in to the patient portal to read it.",
        ),
        ResultAvailable => (
            "A new test result at {{ organization }}",
            "Hello {{ salutation }},\n\n\
             A new test result is available. To see it, sign in to the patient portal.\n",
        ),
        ResultAvailableText => (
            "",
            "{{ organization }}: a new test result is available. Sign in to the patient portal to see it.",
        ),
        RenewalAnswered => (
            "Your prescription renewal request at {{ organization }}",
            "Hello {{ salutation }},\n\n\
             Your care team has answered your request to renew a prescription. To see the answer, sign in to \
             the patient portal.\n",
        ),
        StatementReady => (
            "A new statement from {{ organization }}",
            "Hello {{ salutation }},\n\n\
             A new statement is ready, due on {{ due }}. To see it and pay, sign in to the patient portal.\n",
        ),
        UsernameReminder => (
            "Your {{ organization }} username",
            "Hello {{ salutation }},\n\n\
             Someone, perhaps you, asked for the username of your {{ organization }} account. It is:\n\n\
             \x20   {{ username }}\n\n\
             Sign in with it and your password. If you also forgot your password, use \"Forgot your password\" on \
             the sign-in page.\n\n\
             If you did not ask for this, ignore this e-mail.\n",
        ),
        CreditAwarded => (
            "Your credit for {{ activity }} is recorded",
            "Hello {{ salutation }},\n\n\
             The credit you claimed for {{ activity }} waited for you to finish what it needed. It is now \
             recorded: {{ credits }}.\n\n\
             Your transcript in the portal shows it.\n",
        ),
        ProxyAccessGranted => (
            "Someone can now use your patient portal at {{ organization }}",
            "Hello {{ salutation }},\n\n\
             Another person was given access to your patient portal, until {{ ends }}. You can see who, and end \
             their access, in the portal.\n\n\
             If you did not expect this, contact the clinic.\n",
        ),
    }
}

const APPOINTMENT_BOOKED: &str = concat!(
    "Hello,\n\nYour appointment is booked.\n\n",
    "    When: {{ when }}\n    With: {{ provider }}\n    Where: {{ location }}\n    Why: {{ reason }}\n\n",
    "To move or cancel it, sign in to the patient portal.\n"
);
const APPOINTMENT_MOVED: &str = concat!(
    "Hello,\n\nYour appointment was moved to a new time.\n\n",
    "    When: {{ when }}\n    With: {{ provider }}\n    Where: {{ location }}\n    Why: {{ reason }}\n\n",
    "To move or cancel it, sign in to the patient portal.\n"
);
const APPOINTMENT_CANCELLED: &str = concat!(
    "Hello,\n\nYour appointment was cancelled.\n\n",
    "    When: {{ when }}\n    With: {{ provider }}\n    Where: {{ location }}\n    Why: {{ reason }}\n\n",
    "To book another time, sign in to the patient portal.\n"
);
const APPOINTMENT_REMINDER: &str = concat!(
    "Hello,\n\nA reminder of your coming appointment.\n\n",
    "    When: {{ when }}\n    With: {{ provider }}\n    Where: {{ location }}\n    Why: {{ reason }}\n\n",
    "To move or cancel it, sign in to the patient portal.\n"
);

/// Renders a message of `kind` with `data`, in the organization's template if it has one, else the default.
pub fn render(
    kind: MessageKind,
    template: Option<&MessageTemplate>,
    data: &Value,
) -> Result<Rendered, TemplateError> {
    let (default_subject, default_text) = default_template(kind);
    let (subject, text, html) = match template {
        Some(t) => (t.subject.as_str(), t.text.as_str(), t.html.as_deref()),
        None => (default_subject, default_text, None),
    };
    let data = &defanged(data);
    let env = environment();
    // A template saved before this rule was enforced is refused here too, so its subject never holds a secret.
    secrets_stay_out_of_the_subject(&env, kind, subject)?;
    let subject = one_line(&run(&env, "subject", subject, data)?);
    let text = run(&env, "text", text, data)?;
    let html = match (kind.channel(), html) {
        (Channel::Sms, _) => None,
        (Channel::Email, Some(html)) => Some(run(&env, "html", html, data)?),
        (Channel::Email, None) => Some(html_from_text(&subject, &text)),
    };
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// Checks an organization's template before it is saved: it parses, uses only the kind's variables, renders
/// within bounds, keeps secrets out of the subject and carries each of them in the body.
pub fn check(kind: MessageKind, template: &MessageTemplate) -> Result<Rendered, TemplateError> {
    let rendered = render(kind, Some(template), &sample(kind))?;
    for name in kind.secret_variables() {
        let value = sample_value(name);
        let missing = |field| {
            TemplateError {
            field,
            detail: format!(
                "must show {{{{ {name} }}}}: this message exists to carry it, and without it the person cannot go on"
            ),
        }
        };
        if !rendered.text.contains(&value) {
            return Err(missing("text"));
        }
        if template.html.is_some()
            && !rendered
                .html
                .as_deref()
                .unwrap_or_default()
                .contains(&value)
        {
            return Err(missing("html"));
        }
    }
    Ok(rendered)
}

/// The organization's help contacts at the foot of a message of `kind` (every seed ends with a number to call):
/// a paragraph of an e-mail, a last line of a text. None when it has none for the channel.
pub fn footer(kind: MessageKind, organization: &str, help: &HelpContacts) -> Option<String> {
    match kind.channel() {
        Channel::Email => help.email_footer(organization),
        Channel::Sms => help.text_footer(),
    }
}

/// The message with `footer` added after its text (and its HTML, escaped, before the end of the body). Added after
/// rendering, so that an organization's own wording cannot leave it out.
pub fn with_footer(mut rendered: Rendered, footer: Option<&str>) -> Rendered {
    let Some(footer) = footer else {
        return rendered;
    };
    let separator = if rendered.html.is_some() {
        "\n\n"
    } else {
        "\n"
    };
    rendered.text = format!("{}{separator}{footer}\n", rendered.text.trim_end());
    if let Some(html) = &mut rendered.html {
        let paragraph = format!("<p>{}</p>\n", linkify(footer));
        match html.rfind("</body>") {
            Some(at) => html.insert_str(at, &paragraph),
            None => html.push_str(&paragraph),
        }
    }
    rendered
}

/// [`check`] on a blocking thread, within [`RENDER_TIME_LIMIT`].
pub async fn check_bounded(
    kind: MessageKind,
    template: &MessageTemplate,
) -> Result<Rendered, TemplateError> {
    let template = template.clone();
    bounded(move || check(kind, &template)).await
}

/// [`render`] on a blocking thread, within [`RENDER_TIME_LIMIT`].
pub async fn render_bounded(
    kind: MessageKind,
    template: Option<&MessageTemplate>,
    data: &Value,
) -> Result<Rendered, TemplateError> {
    let (template, data) = (template.cloned(), data.clone());
    bounded(move || render(kind, template.as_ref(), &data)).await
}

async fn bounded(
    work: impl FnOnce() -> Result<Rendered, TemplateError> + Send + 'static,
) -> Result<Rendered, TemplateError> {
    let too_slow = || TemplateError {
        field: "text",
        detail: "takes too long to render".to_owned(),
    };
    match tokio::time::timeout(RENDER_TIME_LIMIT, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(rendered)) => rendered,
        Ok(Err(_)) | Err(_) => Err(too_slow()),
    }
}

/// Refuses a subject that uses one of the kind's secret variables (in any way, shown or not: the analysis is of the
/// template's text, so neither a condition nor a filter gets one through).
fn secrets_stay_out_of_the_subject(
    env: &Environment<'_>,
    kind: MessageKind,
    subject: &str,
) -> Result<(), TemplateError> {
    if kind.secret_variables().is_empty() {
        return Ok(());
    }
    let used = env
        .template_from_named_str("subject", subject)
        .map_err(|error| TemplateError {
            field: "subject",
            detail: describe(&error),
        })?
        .undeclared_variables(false);
    match kind.secret_variables().iter().find(|name| used.contains(**name)) {
        Some(name) => Err(TemplateError {
            field: "subject",
            detail: format!(
                "may not use {{{{ {name} }}}}: it is a secret meant for the recipient alone (a link with a token, or a \
                 code), and subjects are shown to staff; put it in the body"
            ),
        }),
        None => Ok(()),
    }
}

/// The data with every value that looks like a web address, but is not one of the kind's links, made unclickable
/// (a name registered before names were checked, a reason typed by staff): mail programs turn such text into links,
/// and a greeting must not carry one. The dots become one-dot leaders (U+2024), which read the same.
fn defanged(data: &Value) -> Value {
    let Value::Object(map) = data else {
        return data.clone();
    };
    Value::Object(
        map.iter()
            .map(|(key, value)| {
                let value = match value.as_str() {
                    Some(text) if !key.ends_with("link") && looks_like_link(text) => {
                        Value::from(text.replace('.', "\u{2024}").replace("://", ":\u{2024}//"))
                    }
                    _ => value.clone(),
                };
                (key.clone(), value)
            })
            .collect(),
    )
}

fn sample_value(name: &str) -> String {
    format!("[{name}]")
}

/// Data with every variable of `kind`, for checking templates.
pub fn sample(kind: MessageKind) -> Value {
    let mut data = Map::new();
    data.insert("organization".to_owned(), Value::from("Example Clinic"));
    for name in kind.variables() {
        data.insert((*name).to_owned(), Value::from(sample_value(name)));
    }
    Value::Object(data)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Only the HTML part is escaped: the others are plain text, where an ampersand is an ampersand.
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

fn run(
    env: &Environment<'_>,
    field: &'static str,
    source: &str,
    data: &Value,
) -> Result<String, TemplateError> {
    let out = env
        .render_named_str(field, source, data)
        .map_err(|error| TemplateError {
            field,
            detail: describe(&error),
        })?;
    if out.len() > MAX_RENDERED_BYTES {
        return Err(TemplateError {
            field,
            detail: "renders to more than 100,000 bytes".to_owned(),
        });
    }
    Ok(out)
}

/// The engine's error without the template's text (which may be long): its kind, detail and line.
fn describe(error: &minijinja::Error) -> String {
    let mut out = error.detail().map_or_else(
        || error.kind().to_string(),
        |detail| format!("{}: {detail}", error.kind()),
    );
    if let Some(line) = error.line() {
        out.push_str(&format!(" (line {line})"));
    }
    out
}

/// A subject is one line: line breaks a template may produce become spaces (a header cannot carry them).
fn one_line(subject: &str) -> String {
    subject.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The HTML part made from the text: paragraphs, line breaks, and links that can be clicked.
pub fn html_from_text(subject: &str, text: &str) -> String {
    let mut body = String::new();
    for paragraph in text.replace("\r\n", "\n").split("\n\n") {
        let paragraph = paragraph.trim_matches('\n');
        if paragraph.trim().is_empty() {
            continue;
        }
        let lines: Vec<String> = paragraph.lines().map(|l| linkify(l.trim())).collect();
        body.push_str("<p>");
        body.push_str(&lines.join("<br>\n"));
        body.push_str("</p>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.4\">\n{body}</body></html>\n",
        escape_markup(subject)
    )
}

fn linkify(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            if word.starts_with("https://") || word.starts_with("http://") {
                // A sentence's full stop (or comma, or closing bracket) after an address is not part of it.
                let address = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
                let url = escape_markup(address);
                format!(
                    "<a href=\"{url}\">{url}</a>{}",
                    escape_markup(&word[address.len()..])
                )
            } else {
                escape_markup(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes text for HTML or XML (element content and quoted attribute values).
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_default_renders_with_its_kinds_variables() {
        for kind in MessageKind::ALL {
            let rendered = render(*kind, None, &sample(*kind)).unwrap();
            assert!(!rendered.text.is_empty(), "{kind:?}");
            assert_eq!(rendered.subject.is_empty(), kind.channel() == Channel::Sms);
        }
    }

    #[test]
    fn the_html_part_escapes_the_data_and_links_the_link() {
        let data = json!({ "organization": "M&M <Clinic>", "salutation": "Dr. <b>Ada</b>",
                           "link": "https://portal.example/activate?token=abc" });
        let rendered = render(MessageKind::Activation, None, &data).unwrap();
        let html = rendered.html.unwrap();
        assert!(html.contains("Dr. &lt;b&gt;Ada&lt;/b&gt;"), "{html}");
        assert!(
            html.contains("<a href=\"https://portal.example/activate?token=abc\">"),
            "{html}"
        );
        assert!(rendered.text.contains("Hello Dr. <b>Ada</b>,"));
    }

    #[test]
    fn an_organizations_html_is_escaped_too() {
        let template = MessageTemplate::new(
            MessageKind::Activation,
            "Welcome",
            "{{ link }}",
            Some("<p>Hi {{ salutation }}</p>"),
        )
        .unwrap();
        let data = json!({ "organization": "x", "salutation": "<script>", "link": "l" });
        let html = render(MessageKind::Activation, Some(&template), &data)
            .unwrap()
            .html
            .unwrap();
        assert_eq!(html, "<p>Hi &lt;script&gt;</p>");
    }

    #[test]
    fn a_template_with_an_unknown_variable_is_refused_naming_the_part() {
        let template = MessageTemplate::new(
            MessageKind::Activation,
            "Hi {{ password }}",
            "{{ link }}",
            None,
        )
        .unwrap();
        let error = check(MessageKind::Activation, &template).unwrap_err();
        assert_eq!(error.field, "subject");
        assert!(error.detail.contains("undefined"), "{}", error.detail);
    }

    #[test]
    fn a_template_with_a_syntax_error_is_refused_with_its_line() {
        let template =
            MessageTemplate::new(MessageKind::Activation, "Hi", "line one\n{% if %}", None)
                .unwrap();
        let error = check(MessageKind::Activation, &template).unwrap_err();
        assert_eq!(error.field, "text");
        assert!(error.detail.contains("line 2"), "{}", error.detail);
    }

    #[test]
    fn a_secret_variable_in_the_subject_is_refused_however_it_is_used() {
        for subject in [
            "R {{ link }}",
            "{% if link %}x{% endif %}",
            "{{ link|upper }}",
            "{% set l = link %}{{ l }}",
        ] {
            let template =
                MessageTemplate::new(MessageKind::PasswordReset, subject, "{{ link }}", None)
                    .unwrap();
            let error = check(MessageKind::PasswordReset, &template).unwrap_err();
            assert_eq!(error.field, "subject", "{subject}");
        }
    }

    #[test]
    fn a_body_without_its_secret_is_refused() {
        let template =
            MessageTemplate::new(MessageKind::PasswordReset, "Reset", "x", None).unwrap();
        assert_eq!(
            check(MessageKind::PasswordReset, &template)
                .unwrap_err()
                .field,
            "text"
        );
        let hidden = MessageTemplate::new(
            MessageKind::SignInCodeText,
            "",
            "{% if false %}{{ code }}{% endif %}",
            None,
        )
        .unwrap();
        assert!(check(MessageKind::SignInCodeText, &hidden).is_err());
        let html_without = MessageTemplate::new(
            MessageKind::Activation,
            "Hi",
            "{{ link }}",
            Some("<p>Hi</p>"),
        )
        .unwrap();
        assert_eq!(
            check(MessageKind::Activation, &html_without)
                .unwrap_err()
                .field,
            "html"
        );
    }

    #[test]
    fn a_template_that_loops_for_ever_runs_out_of_fuel() {
        let template = MessageTemplate::new(
            MessageKind::PasswordChanged,
            "Hi",
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            None,
        )
        .unwrap();
        let started = std::time::Instant::now();
        let error = check(MessageKind::PasswordChanged, &template).unwrap_err();
        assert_eq!(error.field, "text");
        assert!(error.detail.contains("fuel"), "{}", error.detail);
        assert!(started.elapsed() < RENDER_TIME_LIMIT);
    }

    #[test]
    fn a_name_that_looks_like_a_link_is_not_one_in_the_message() {
        let data = json!({ "organization": "x", "salutation": "www.evil.example",
                           "link": "https://portal.example/activate?token=abc" });
        let rendered = render(MessageKind::Activation, None, &data).unwrap();
        assert!(!rendered.text.contains("www.evil.example"));
        assert!(rendered
            .text
            .contains("https://portal.example/activate?token=abc"));
        assert_eq!(rendered.html.unwrap().matches("<a href").count(), 1);
    }

    #[test]
    fn a_subject_is_kept_on_one_line() {
        let template = MessageTemplate::new(
            MessageKind::Activation,
            "Hi {{ salutation }}",
            "{{ link }}",
            None,
        )
        .unwrap();
        let data =
            json!({ "organization": "x", "salutation": "A\r\nBcc: evil@example.org", "link": "l" });
        let rendered = render(MessageKind::Activation, Some(&template), &data).unwrap();
        assert_eq!(rendered.subject, "Hi A Bcc: evil@example.org");
    }
}

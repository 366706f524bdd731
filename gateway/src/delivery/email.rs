//! E-mail: the message as it goes out (text and HTML parts, a Message-ID made from the outbox id), and the two ways
//! it leaves: an SMTP server, or a folder of .eml files for development.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portal_commands::templates::Rendered;
use uuid::Uuid;

use super::SendError;

/// How long one SMTP conversation may take before it counts as a transient failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where e-mail goes.
#[derive(Clone)]
pub enum EmailTransport {
    /// One .eml file per message in this folder (development).
    Folder(PathBuf),
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl EmailTransport {
    /// An SMTP transport from a URL: `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS from the start), `?tls=opportunistic` (STARTTLS when
    /// offered). `ca_pem` adds a root certificate to trust (a private relay's own authority).
    pub fn smtp(url: &str, ca_pem: Option<&[u8]>) -> Result<Self, String> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("invalid --smtp-url: {e}"))?;
        if let Some(pem) = ca_pem {
            let host = host_of(url).ok_or("invalid --smtp-url: no host")?;
            let certificate =
                Certificate::from_pem(pem).map_err(|e| format!("invalid --smtp-ca-file: {e}"))?;
            let parameters = TlsParameters::builder(host.to_owned())
                .add_root_certificate(certificate)
                .build()
                .map_err(|e| format!("invalid --smtp-ca-file: {e}"))?;
            // The URL says which kind of TLS; the certificate only changes whom it trusts.
            builder = if url.starts_with("smtps://") {
                builder.tls(Tls::Wrapper(parameters))
            } else if url.contains("tls=required") {
                builder.tls(Tls::Required(parameters))
            } else if url.contains("tls=opportunistic") {
                builder.tls(Tls::Opportunistic(parameters))
            } else {
                builder
            };
        }
        Ok(Self::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
    }

    /// Sends one message; returns what the server answered (its queue id, usually).
    pub async fn send(&self, id: Uuid, message: Message) -> Result<Option<String>, SendError> {
        match self {
            EmailTransport::Folder(dir) => {
                write_atomically(&eml_path(dir, id), &message.formatted())
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!("cannot write to the mail folder: {e}"))
                    })?;
                Ok(None)
            }
            EmailTransport::Smtp(transport) => match transport.send(message).await {
                Ok(response) => Ok(Some(
                    format!(
                        "{} {}",
                        response.code(),
                        response.message().collect::<Vec<_>>().join(" ")
                    )
                    .chars()
                    .take(200)
                    .collect(),
                )),
                // 5xx answers are final (an address that does not exist, a message refused); everything else
                // (4xx, a connection or TLS failure, a timeout) may work later.
                Err(error) if error.is_permanent() => Err(SendError::Permanent(smtp_error(&error))),
                Err(error) => Err(SendError::Transient(smtp_error(&error))),
            },
        }
    }
}

fn smtp_error(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text.chars().take(500).collect()
}

/// The host of an SMTP URL (`smtp://user:pass@host:587?x` gives `host`).
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// The e-mail for a rendered message: text and HTML alternatives, Message-ID `<outbox id@sender's domain>` so that
/// a message sent twice (after a crash) is recognisably the same one.
pub fn build(
    id: Uuid,
    from: &Mailbox,
    to: &str,
    rendered: &Rendered,
    created_at: chrono::DateTime<chrono::Utc>,
) -> Result<Message, SendError> {
    let to = to
        .parse::<Mailbox>()
        .map_err(|e| SendError::Permanent(format!("the recipient is not an address: {e}")))?;
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(readable_body(&rendered.text));
    let builder = Message::builder()
        .message_id(Some(format!("<{id}@{}>", from.email.domain())))
        .from(from.clone())
        .to(to)
        .subject(rendered.subject.clone())
        .date(created_at.into());
    let message = match &rendered.html {
        Some(html) => builder.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(readable_body(html)),
            ),
        ),
        None => builder.singlepart(text),
    };
    message.map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))
}

/// The body as 8bit text with CRLF line ends, so that links stay intact for whoever reads the raw message; lettre's
/// automatic choice would pick quoted-printable for lines over 76 characters, which breaks them.
fn readable_body(body: &str) -> Body {
    let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.split("\r\n").all(|line| line.len() <= 998) && !crlf.contains('\0') {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(body.to_owned())
    }
}

/// Writes then renames, so that a reader never sees half a file; a message written again replaces the first copy.
pub(super) async fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, contents).await?;
    tokio::fs::rename(&partial, path).await
}

/// Where the message with this id is written.
pub fn eml_path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(format!("{id}.eml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_read_from_an_smtp_url() {
        assert_eq!(
            host_of("smtp://u:p@mail.example.org:587?tls=required"),
            Some("mail.example.org")
        );
        assert_eq!(host_of("smtps://127.0.0.1"), Some("127.0.0.1"));
        assert_eq!(host_of("smtp://"), None);
    }

    #[test]
    fn the_message_id_is_the_outbox_id() {
        let id = Uuid::from_u128(7);
        let from: Mailbox = "Clinic <no-reply@clinic.example>".parse().unwrap();
        let rendered = Rendered {
            subject: "Hi".into(),
            text: "Hello".into(),
            html: Some("<p>Hello</p>".into()),
        };
        let message = build(id, &from, "ada@example.org", &rendered, chrono::Utc::now()).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(
            raw.contains(&format!("Message-ID: <{id}@clinic.example>")),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }

    #[test]
    fn a_recipient_that_is_not_an_address_is_a_permanent_failure() {
        let from: Mailbox = "no-reply@clinic.example".parse().unwrap();
        let rendered = Rendered {
            subject: "Hi".into(),
            text: "Hello".into(),
            html: None,
        };
        assert!(matches!(
            build(Uuid::nil(), &from, "", &rendered, chrono::Utc::now()),
            Err(SendError::Permanent(_))
        ));
    }
}

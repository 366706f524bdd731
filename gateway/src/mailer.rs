//! Delivers the outbox to a folder of .eml files, one per message, named by the message id (so a redelivery after
//! a crash rewrites the same file instead of adding a second). Real SMTP delivery comes later.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::Message;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection.
    #[error("connection pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// Writing the file failed.
    #[error("cannot write to the mail folder: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes due outbox e-mails into `dir`.
#[derive(Clone)]
pub struct FolderMailer {
    pool: Pool,
    dir: PathBuf,
    from: Mailbox,
    clock: Clock,
}

/// The clock that says which messages are due: the server's (which tests may move forward).
pub type Clock = Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

impl FolderMailer {
    /// A mailer; `from` must parse as a mailbox (`Name <address>`).
    pub fn new(pool: Pool, dir: PathBuf, from: &str, clock: Clock) -> Result<Self, String> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("invalid --mail-from: {e}"))?;
        Ok(Self {
            pool,
            dir,
            from,
            clock,
        })
    }

    /// Delivers every due message once; returns how many were written.
    pub async fn deliver_due(&self) -> Result<usize, MailError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // SKIP LOCKED: several instances share the outbox without writing one message twice at the same time.
        let rows = tx
            .query(
                "SELECT id, recipient, subject, body, created_at, channel FROM outbox
                 WHERE status = 'pending' AND channel IN ('email', 'sms') AND due_at <= $1
                 ORDER BY due_at LIMIT 50 FOR UPDATE SKIP LOCKED",
                &[&(self.clock)()],
            )
            .await?;
        let mut sent = 0;
        for row in &rows {
            let id: Uuid = row.get(0);
            let channel: String = row.get(5);
            let result = if channel == "sms" {
                self.write_text(id, row.get(1), row.get(3)).await
            } else {
                self.write(id, row.get(1), row.get(2), row.get(3), row.get(4))
                    .await
            };
            match result {
                Ok(()) => {
                    tx.execute(
                        "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL
                         WHERE id = $1",
                        &[&id],
                    )
                    .await?;
                    sent += 1;
                }
                Err(error) => {
                    tracing::warn!(message_id = %id, %error, "could not write e-mail");
                    tx.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, status =
                             CASE WHEN attempts + 1 >= 5 THEN 'failed' ELSE status END,
                             due_at = now() + interval '30 seconds'
                         WHERE id = $1",
                        &[&id, &error],
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(sent)
    }

    async fn write(
        &self,
        id: Uuid,
        recipient: String,
        subject: String,
        body: String,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        let to = recipient
            .parse::<Mailbox>()
            .map_err(|e| format!("invalid recipient: {e}"))?;
        let message = Message::builder()
            .message_id(Some(format!("<{id}@portal>")))
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .date(created_at.into())
            .header(ContentType::TEXT_PLAIN)
            // 8bit keeps links readable when the .eml is opened as text (quoted-printable would break them).
            .body(readable_body(&body))
            .map_err(|e| e.to_string())?;
        let path = eml_path(&self.dir, id);
        let partial = path.with_extension("eml.partial");
        // Write then rename, so a reader never sees half a message.
        tokio::fs::write(&partial, message.formatted())
            .await
            .map_err(|e| e.to_string())?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| e.to_string())
    }

    /// Writes a text message as `<id>.sms`: the recipient's number, a blank line, the body (until an SMS provider
    /// sends it).
    async fn write_text(&self, id: Uuid, recipient: String, body: String) -> Result<(), String> {
        let path = sms_path(&self.dir, id);
        let partial = path.with_extension("sms.partial");
        tokio::fs::write(&partial, format!("To: {recipient}\n\n{body}\n"))
            .await
            .map_err(|e| e.to_string())?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| e.to_string())
    }

    /// Runs until `stop` turns true, woken by `wake` and polling every second.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.deliver_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "outbox delivery failed; retrying"),
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// The body as 8bit text with CRLF line ends, so links stay intact when the .eml is opened as text; lettre's
/// automatic choice would pick quoted-printable for lines over 76 characters, which breaks them.
fn readable_body(body: &str) -> Body {
    let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.split("\r\n").all(|line| line.len() <= 998) && !crlf.contains('\0') {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(body.to_owned())
    }
}

/// Where the message with this id is written.
pub fn eml_path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(format!("{id}.eml"))
}

/// Where the text message with this id is written.
pub fn sms_path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(format!("{id}.sms"))
}

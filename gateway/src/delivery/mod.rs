//! The delivery worker: takes due messages from the outbox, renders them with their organization's templates,
//! sends them, and records what happened.
//!
//! Each message is sent inside its own transaction that holds the message's row lock (`FOR UPDATE SKIP LOCKED`):
//! several workers never send one message at the same time, and a worker killed mid-send releases the lock with
//! its connection, so the message is still pending and goes out again (at least once; the receiver recognises the
//! second copy by its stable id). Transient failures are retried with exponential backoff and jitter; permanent
//! ones, and the last failed retry, leave the message `dead` with its last error.

pub mod email;
pub mod text;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use lettre::message::Mailbox;
use portal_commands::log::PgEventLog;
use portal_commands::organizations::{self, OrganizationSummary};
use portal_commands::outbox;
use portal_commands::templates::{self, Rendered};
use portal_commands::Store;
use portal_domain::values::{Channel, MessageKind};
use portal_domain::OrganizationId;
use rand::Rng;
use serde_json::Value;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

pub use email::EmailTransport;
pub use text::TextTransport;

/// The clock that says which messages are due: the server's (which tests may move forward).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Why one message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It may work later (a timeout, a 4xx SMTP answer, throttling).
    #[error("{0}")]
    Transient(String),
    /// It will never work (an address refused, a number that cannot receive texts).
    #[error("{0}")]
    Permanent(String),
}

/// Why the worker could not do its part (the database).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection.
    #[error("connection pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
}

/// How hard the worker tries.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Messages sent at the same time.
    pub lanes: usize,
    /// Attempts before a message is dead-lettered.
    pub max_attempts: i32,
    /// The wait after the first failure; it doubles with each further one.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            lanes: 4,
            max_attempts: 8,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
        }
    }
}

impl DeliverySettings {
    /// The wait before attempt `attempts + 1`, after `attempts` failures: the base doubled per failure, capped,
    /// then scaled by a random factor between 0.5 and 1 so that messages failing together do not retry together.
    pub fn backoff_after(&self, attempts: i32, jitter: f64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        let full = self
            .backoff
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_backoff);
        full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// The worker.
#[derive(Clone)]
pub struct Delivery {
    pool: Pool,
    store: Store<PgEventLog>,
    email: EmailTransport,
    texts: TextTransport,
    default_sender: Mailbox,
    settings: DeliverySettings,
    clock: Clock,
}

/// A message taken from the outbox.
struct Claimed {
    id: Uuid,
    tenant: Uuid,
    channel: String,
    kind: String,
    recipient: String,
    subject: String,
    body: String,
    data: Value,
    attempts: i32,
    created_at: DateTime<Utc>,
}

/// What one attempt came to.
enum Outcome {
    Sent {
        provider_id: Option<String>,
        subject: String,
    },
    Held(DateTime<Utc>),
    Failed(SendError),
}

impl Delivery {
    /// A worker; `default_sender` (`Name <address>`) signs the e-mail of organizations without their own sender.
    pub fn new(
        pool: Pool,
        store: Store<PgEventLog>,
        email: EmailTransport,
        texts: TextTransport,
        default_sender: &str,
        settings: DeliverySettings,
        clock: Clock,
    ) -> Result<Self, String> {
        let default_sender = default_sender
            .parse::<Mailbox>()
            .map_err(|e| format!("invalid --mail-from: {e}"))?;
        Ok(Self {
            pool,
            store,
            email,
            texts,
            default_sender,
            settings,
            clock,
        })
    }

    /// Runs until `stop` turns true: `lanes` loops, each woken by `wake` (a commit) and polling every second.
    pub async fn run(self, wake: Arc<Notify>, stop: watch::Receiver<bool>) {
        let lanes: Vec<_> = (0..self.settings.lanes.max(1))
            .map(|_| {
                let worker = self.clone();
                let wake = wake.clone();
                let stop = stop.clone();
                tokio::spawn(async move { worker.lane(wake, stop).await })
            })
            .collect();
        for lane in lanes {
            let _ = lane.await;
        }
    }

    async fn lane(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.deliver_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "outbox delivery failed; retrying"),
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Takes one due message, if any, and sends it; false when none was due.
    pub async fn deliver_one(&self) -> Result<bool, DeliveryError> {
        let now = (self.clock)();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT id, tenant_id, channel, kind, recipient, subject, body, data, attempts, created_at
                 FROM outbox WHERE status = 'pending' AND due_at <= $1
                 ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                &[&now],
            )
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let message = Claimed {
            id: row.get(0),
            tenant: row.get(1),
            channel: row.get(2),
            kind: row.get(3),
            recipient: row.get(4),
            subject: row.get(5),
            body: row.get(6),
            data: row.get(7),
            attempts: row.get(8),
            created_at: row.get(9),
        };
        let outcome = self.attempt(&message, now).await;
        let attempts = message.attempts + 1;
        match &outcome {
            Outcome::Held(until) => {
                tx.execute(
                    "UPDATE outbox SET due_at = $2, held = true WHERE id = $1",
                    &[&message.id, until],
                )
                .await?;
            }
            Outcome::Sent {
                provider_id,
                subject,
            } => {
                // Sent: the link or code it carried is forgotten (see `portal_commands::outbox`).
                tx.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = $2, last_attempt_at = $2, attempts = $3,
                            last_error = NULL, provider_id = $4, held = false, subject = $5, data = $6
                     WHERE id = $1",
                    &[
                        &message.id,
                        &now,
                        &attempts,
                        provider_id,
                        subject,
                        &outbox::spent(&message.data),
                    ],
                )
                .await?;
            }
            Outcome::Failed(error) => {
                let (dead, text) = match error {
                    SendError::Permanent(text) => (true, text),
                    SendError::Transient(text) => (attempts >= self.settings.max_attempts, text),
                };
                let wait = self
                    .settings
                    .backoff_after(attempts, rand::rng().random::<f64>());
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                tx.execute(
                    "UPDATE outbox SET attempts = $2, last_attempt_at = $3, last_error = $4, held = false,
                            status = CASE WHEN $5 THEN 'dead' ELSE status END,
                            due_at = CASE WHEN $5 THEN due_at ELSE $6 END,
                            data = CASE WHEN $5 THEN $7 ELSE data END
                     WHERE id = $1",
                    &[
                        &message.id,
                        &attempts,
                        &now,
                        text,
                        &dead,
                        &next,
                        &outbox::spent(&message.data),
                    ],
                )
                .await?;
            }
        }
        tx.commit().await?;
        // Ids, kinds and outcomes only: addresses, numbers and texts are personal data.
        match outcome {
            Outcome::Sent { .. } => tracing::info!(
                message_id = %message.id, kind = %message.kind, channel = %message.channel, attempts,
                "message sent"
            ),
            Outcome::Held(until) => tracing::info!(
                message_id = %message.id, kind = %message.kind, %until, "text held until the texting hours open"
            ),
            Outcome::Failed(SendError::Permanent(_)) => tracing::warn!(
                message_id = %message.id, kind = %message.kind, channel = %message.channel, attempts,
                "message refused for good; dead-lettered"
            ),
            Outcome::Failed(SendError::Transient(_)) => tracing::warn!(
                message_id = %message.id, kind = %message.kind, channel = %message.channel, attempts,
                dead = attempts >= self.settings.max_attempts, "message not sent"
            ),
        }
        Ok(true)
    }

    async fn attempt(&self, message: &Claimed, now: DateTime<Utc>) -> Outcome {
        let organization =
            match organizations::find_by_id(&self.store, OrganizationId(message.tenant)).await {
                Ok(organization) => organization,
                Err(error) => {
                    return Outcome::Failed(SendError::Transient(format!(
                        "cannot read the organization: {error}"
                    )))
                }
            };
        let kind = MessageKind::parse(&message.kind);
        if let (Some(kind), Some(org)) = (kind, organization.as_ref()) {
            if kind.channel() == Channel::Sms && !kind.is_one_time_code() {
                if let Some(opening) = org
                    .messaging
                    .texting_hours
                    .next_opening(now, &org.time_zone)
                {
                    return Outcome::Held(opening);
                }
            }
        }
        // The sealed link or code is opened here, and only here.
        let mut data = message.data.clone();
        if let Err(gone) = outbox::open(&self.store.secrets, &mut data, now) {
            return Outcome::Failed(SendError::Permanent(format!(
                "cannot send the message: {gone}"
            )));
        }
        let secrets: Vec<String> = kind
            .map(MessageKind::secret_variables)
            .unwrap_or_default()
            .iter()
            .filter_map(|name| data.get(*name).and_then(Value::as_str).map(str::to_owned))
            .collect();
        let rendered = match kind {
            Some(kind) => match render(message, data, kind, organization.as_ref()).await {
                Ok(rendered) => rendered,
                Err(error) => return Outcome::Failed(error),
            },
            // Written before messages had kinds: sent as rendered then.
            None => Rendered {
                subject: message.subject.clone(),
                text: message.body.clone(),
                html: None,
            },
        };
        let sent = if message.channel == "sms" {
            self.send_text(message, organization.as_ref(), &rendered)
                .await
        } else {
            self.send_email(message, organization.as_ref(), &rendered)
                .await
        };
        match sent {
            Ok(provider_id) => Outcome::Sent {
                provider_id,
                subject: shown_to_staff(&rendered.subject, &secrets),
            },
            Err(error) => Outcome::Failed(error),
        }
    }

    async fn send_email(
        &self,
        message: &Claimed,
        organization: Option<&OrganizationSummary>,
        rendered: &Rendered,
    ) -> Result<Option<String>, SendError> {
        let from = organization
            .and_then(|o| o.messaging.sender.as_ref())
            .and_then(|s| {
                let address = s.address.as_str().parse().ok()?;
                Some(Mailbox::new(Some(s.name.clone()), address))
            })
            .unwrap_or_else(|| self.default_sender.clone());
        let email = email::build(
            message.id,
            &from,
            &message.recipient,
            rendered,
            message.created_at,
        )?;
        self.email.send(message.id, email).await
    }

    async fn send_text(
        &self,
        message: &Claimed,
        organization: Option<&OrganizationSummary>,
        rendered: &Rendered,
    ) -> Result<Option<String>, SendError> {
        let channel = organization.and_then(|o| Some((o, o.sms.as_ref()?)));
        let token = channel.and_then(|(o, _)| organizations::sms_auth_token(&self.store, o));
        let sender = match (channel, &token) {
            (Some((o, channel)), Some(token)) => {
                o.messaging
                    .sms_account
                    .as_ref()
                    .map(|account| text::Sender {
                        account: account.as_str(),
                        auth_token: token,
                        from: channel.number.as_str(),
                    })
            }
            _ => None,
        };
        self.texts
            .send(
                message.id,
                sender,
                channel.map(|(_, channel)| channel.number.as_str()),
                &message.recipient,
                &rendered.text,
            )
            .await
    }
}

/// The message in its organization's template, or in the default one if that template cannot render it (it was
/// checked when saved, so only data written before a change of variables, or a template saved before a rule was
/// enforced, could fail). Rendered off the async workers, within a time bound.
async fn render(
    message: &Claimed,
    mut data: Value,
    kind: MessageKind,
    organization: Option<&OrganizationSummary>,
) -> Result<Rendered, SendError> {
    if let Value::Object(map) = &mut data {
        map.insert(
            "organization".to_owned(),
            Value::from(organization.map_or("", |o| o.name.as_str())),
        );
    }
    let template = organization.and_then(|o| o.messaging.templates.get(&kind));
    let footer = organization.and_then(|o| templates::footer(kind, o.name.as_str(), &o.help));
    let rendered = match templates::render_bounded(kind, template, &data).await {
        Ok(rendered) => rendered,
        Err(error) => {
            tracing::warn!(message_id = %message.id, kind = %message.kind, field = error.field,
                "the organization's template failed; the default is used");
            templates::render_bounded(kind, None, &data)
                .await
                .map_err(|e| SendError::Permanent(format!("cannot render the message: {e}")))?
        }
    };
    Ok(templates::with_footer(rendered, footer.as_deref()))
}

/// The subject as staff see it in the deliveries. Templates keep secrets out of subjects; should one be there
/// anyway (a value that happens to contain it), it is cut out before the subject is stored.
fn shown_to_staff(subject: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .fold(subject.to_owned(), |shown, secret| {
            shown.replace(secret.as_str(), "[hidden]")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_with_each_failure_up_to_the_cap() {
        let settings = DeliverySettings {
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(100),
            ..DeliverySettings::default()
        };
        assert_eq!(settings.backoff_after(1, 1.0), Duration::from_secs(30));
        assert_eq!(settings.backoff_after(2, 1.0), Duration::from_secs(60));
        assert_eq!(settings.backoff_after(3, 1.0), Duration::from_secs(100));
        assert_eq!(settings.backoff_after(40, 1.0), Duration::from_secs(100));
    }

    #[test]
    fn jitter_takes_off_at_most_half() {
        let settings = DeliverySettings::default();
        assert_eq!(settings.backoff_after(1, 0.0), Duration::from_secs(15));
        assert_eq!(
            settings.backoff_after(1, 0.5),
            Duration::from_millis(22_500)
        );
    }
}

//! The outbox keeps no usable secret at rest.
//!
//! A message's secret variables (`MessageKind::secret_variables`: a link with a token, a code) are sealed when the
//! message is written (XChaCha20-Poly1305 under a key derived from the master key, which never enters the
//! database): `data.link` becomes `{"$sealed": "…", "expires_at": "…"}`. The delivery worker opens them to render
//! the message. Once the message is sent or dead, and once its secret's lifetime is over (sent or not), the sealed
//! value is replaced by `{"$spent": true}`: a copy of the database, or a backup, holds no link or code that works.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_domain::values::MessageKind;
use serde_json::{json, Value};

use crate::log::{LogError, OutboxMessage};
use crate::secrets::Secrets;

const SEALED: &str = "$sealed";
const SPENT: &str = "$spent";
const EXPIRES_AT: &str = "expires_at";

/// Why a message's secret cannot be put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretGone {
    /// Its lifetime is over: the link or code no longer works anyway.
    #[error("its link or code expired before it could be sent")]
    Expired,
    /// It was forgotten after the message was sent or given up.
    #[error("its link or code was forgotten after it was sent")]
    Spent,
    /// It does not open with this server's master key.
    #[error("its link or code does not open with this master key")]
    Unreadable,
}

/// Seals the secret variables of a message about to be written.
pub fn seal(secrets: &Secrets, message: &mut OutboxMessage) {
    let expires_at = message.due_at + message.kind.secret_lifetime();
    for name in message.kind.secret_variables() {
        if let Some(value) = message.data.get_mut(*name) {
            if let Some(text) = value.as_str() {
                *value = json!({ SEALED: secrets.seal(text.as_bytes()), EXPIRES_AT: expires_at });
            }
        }
    }
}

/// Opens the sealed variables of a message's data for rendering it at `now`.
pub fn open(secrets: &Secrets, data: &mut Value, now: DateTime<Utc>) -> Result<(), SecretGone> {
    let Value::Object(map) = data else {
        return Ok(());
    };
    for value in map.values_mut() {
        if value.get(SPENT).is_some() {
            return Err(SecretGone::Spent);
        }
        let Some(sealed) = value.get(SEALED).and_then(Value::as_str) else {
            continue;
        };
        let expires_at = value
            .get(EXPIRES_AT)
            .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok());
        if expires_at.is_none_or(|at| at <= now) {
            return Err(SecretGone::Expired);
        }
        let text = secrets
            .open(sealed)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(SecretGone::Unreadable)?;
        *value = Value::String(text);
    }
    Ok(())
}

/// The data with every secret forgotten (`{"$spent": true}`), for a message sent or given up.
pub fn spent(data: &Value) -> Value {
    match data {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let value = if value.get(SEALED).is_some() {
                        json!({ SPENT: true })
                    } else {
                        value.clone()
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a kind's messages carry a secret, which a copy sent again by staff could not (it is forgotten once
/// sent): the person asks for a new link or code instead.
pub fn carries_secret(kind: MessageKind) -> bool {
    !kind.secret_variables().is_empty()
}

/// Forgets the secrets whose lifetime is over in messages not sent yet (retrying, held); answers how many messages.
pub async fn forget_expired(pool: &Pool, now: DateTime<Utc>) -> Result<u64, LogError> {
    let client = pool.get().await?;
    let forgotten = client
        .execute(
            "UPDATE outbox o SET data = (
                 SELECT jsonb_object_agg(e.key, CASE
                     WHEN jsonb_typeof(e.value) = 'object' AND e.value ? '$sealed'
                          AND (e.value->>'expires_at')::timestamptz <= $1
                     THEN '{\"$spent\": true}'::jsonb ELSE e.value END)
                 FROM jsonb_each(o.data) e)
             WHERE o.status = 'pending' AND EXISTS (
                 SELECT 1 FROM jsonb_each(o.data) e
                 WHERE jsonb_typeof(e.value) = 'object' AND e.value ? '$sealed'
                   AND (e.value->>'expires_at')::timestamptz <= $1)",
            &[&now],
        )
        .await?;
    Ok(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MasterKey;
    use chrono::Duration;

    fn message() -> OutboxMessage {
        crate::messages::activation(
            &portal_domain::values::EmailAddress::parse("ada@example.org").unwrap(),
            "Ada",
            "https://portal.example/activate?token=secret-token",
            Utc::now(),
        )
    }

    #[test]
    fn a_sealed_link_is_not_in_the_data_and_opens_for_the_worker() {
        let secrets = Secrets::derive(&MasterKey::generate());
        let mut message = message();
        seal(&secrets, &mut message);
        assert!(!message.data.to_string().contains("secret-token"));
        assert_eq!(message.data["salutation"], "Ada");
        let mut data = message.data.clone();
        open(&secrets, &mut data, Utc::now()).unwrap();
        assert_eq!(
            data["link"],
            "https://portal.example/activate?token=secret-token"
        );
    }

    #[test]
    fn a_secret_past_its_lifetime_or_spent_does_not_open() {
        let secrets = Secrets::derive(&MasterKey::generate());
        let mut message = message();
        seal(&secrets, &mut message);
        let mut late = message.data.clone();
        assert_eq!(
            open(&secrets, &mut late, Utc::now() + Duration::hours(73)),
            Err(SecretGone::Expired)
        );
        let mut forgotten = spent(&message.data);
        assert_eq!(forgotten["link"], json!({ "$spent": true }));
        assert_eq!(
            open(&secrets, &mut forgotten, Utc::now()),
            Err(SecretGone::Spent)
        );
    }
}

//! Text messages: through an SMS provider's HTTP API (Twilio's Messages API), or into a folder for development.

use std::path::{Path, PathBuf};
use std::time::Duration;

use uuid::Uuid;

use super::SendError;

/// How long one request to the provider may take before it counts as a transient failure.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(30);

/// Where texts go.
#[derive(Clone)]
pub enum TextTransport {
    /// One .sms file per message in this folder (development).
    Folder(PathBuf),
    /// Twilio's Messages API (or a server that speaks it) at this base URL (`https://api.twilio.com`).
    Twilio {
        /// The HTTP client (connections reused).
        client: reqwest::Client,
        /// The API's base URL, without a trailing slash.
        base_url: String,
    },
}

/// The account a text is sent from: the organization's.
pub struct Sender<'a> {
    /// The provider account id.
    pub account: &'a str,
    /// Its auth token.
    pub auth_token: &'a str,
    /// The number texts come from.
    pub from: &'a str,
}

impl TextTransport {
    /// Twilio's API at `base_url`.
    pub fn twilio(base_url: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot make the SMS provider's HTTP client: {e}"))?;
        Ok(Self::Twilio {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends one text from the organization's `number`; returns the provider's id of it. `sender` is None when the
    /// organization has no SMS account.
    pub async fn send(
        &self,
        id: Uuid,
        sender: Option<Sender<'_>>,
        number: Option<&str>,
        to: &str,
        body: &str,
    ) -> Result<Option<String>, SendError> {
        match self {
            TextTransport::Folder(dir) => {
                // The number the text comes from, as the person would see it, with or without an SMS account.
                let from = number.unwrap_or_default();
                super::email::write_atomically(
                    &sms_path(dir, id),
                    format!("To: {to}\nFrom: {from}\nMessage-Id: {id}\n\n{body}\n").as_bytes(),
                )
                .await
                .map_err(|e| {
                    SendError::Transient(format!("cannot write to the mail folder: {e}"))
                })?;
                Ok(None)
            }
            TextTransport::Twilio { client, base_url } => {
                let sender = sender.ok_or_else(|| {
                    SendError::Permanent(
                        "the organization has no SMS account: set it up with configureSms (accountSid)"
                            .to_owned(),
                    )
                })?;
                let url = format!(
                    "{base_url}/2010-04-01/Accounts/{}/Messages.json",
                    sender.account
                );
                let response = client
                    .post(&url)
                    .basic_auth(sender.account, Some(sender.auth_token))
                    // Twilio itself does not read it; a provider or proxy that does can drop a text sent twice.
                    .header("Idempotency-Key", id.to_string())
                    .form(&[("To", to), ("From", sender.from), ("Body", body)])
                    .send()
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!(
                            "the SMS provider did not answer: {}",
                            without_url(&e)
                        ))
                    })?;
                let status = response.status();
                let answer: serde_json::Value = response.json().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(answer["sid"].as_str().map(str::to_owned));
                }
                let error = format!(
                    "the SMS provider answered {}{}{}",
                    status.as_u16(),
                    answer["code"]
                        .as_i64()
                        .map(|c| format!(", error {c}"))
                        .unwrap_or_default(),
                    answer["message"]
                        .as_str()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default(),
                );
                let error: String = error.chars().take(500).collect();
                // Throttling and the provider's own failures pass; any other refusal (a number that cannot
                // receive texts, an unsubscribed recipient, a rejected account) would be refused again.
                if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
                    Err(SendError::Transient(error))
                } else {
                    Err(SendError::Permanent(error))
                }
            }
        }
    }
}

/// A request error without its URL (which names the account).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "the provider");
    }
    text
}

/// Where the text with this id is written.
pub fn sms_path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(format!("{id}.sms"))
}

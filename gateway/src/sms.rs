//! `POST /sms/inbound`: the webhook an SMS provider calls for every text to an organization's number, in Twilio's
//! shape (a form with From, To, Body, MessageSid; signed with X-Twilio-Signature), answered with TwiML.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use portal_commands::handler::{Actor, CommandContext};
use portal_commands::organizations;
use portal_commands::sms::{self, InboundText};
use portal_domain::values::PhoneNumber;
use sha1::Sha1;
use uuid::Uuid;

use crate::app::AppState;

/// The signature Twilio computes: base64 of HMAC-SHA1, keyed with the auth token, over the full URL followed by
/// every POST parameter's name and value, sorted by name.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(signing_mac(auth_token, url, params).finalize().into_bytes())
}

fn signing_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Checks a signature in constant time.
fn verify(auth_token: &str, url: &str, params: &[(String, String)], presented: &str) -> bool {
    let Ok(presented) = base64::engine::general_purpose::STANDARD.decode(presented.trim()) else {
        return false;
    };
    signing_mac(auth_token, url, params)
        .verify_slice(&presented)
        .is_ok()
}

/// A TwiML answer that sends `message` back to the sender.
pub fn twiml(message: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
            portal_commands::templates::escape_markup(message)
        ),
    )
        .into_response()
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Handles one inbound text.
pub async fn inbound(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let (Some(to), Some(from), Some(body), Some(message_id)) = (
        param(&params, "To"),
        param(&params, "From"),
        param(&params, "Body"),
        param(&params, "MessageSid"),
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "To, From, Body and MessageSid are required",
        );
    };
    let Ok(to) = PhoneNumber::parse(to) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no organization receives texts at this number",
        );
    };
    let organization = match organizations::find_by_sms_number(&state.store, &to).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "no organization receives texts at this number",
            )
        }
        Err(error) => {
            tracing::error!(%error, "could not look up the receiving number");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
    };
    let Some(auth_token) = organizations::sms_auth_token(&state.store, &organization) else {
        tracing::error!(organization = %organization.id, "the SMS auth token cannot be unsealed");
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
    };
    let path = uri.path_and_query().map_or("/sms/inbound", |p| p.as_str());
    let url = format!("{}{path}", state.api_url);
    let presented = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !verify(&auth_token, &url, &params, presented) {
        tracing::warn!(organization = %organization.id, "refused a text with a bad signature");
        return refuse(
            StatusCode::FORBIDDEN,
            "the request signature does not match",
        );
    }
    let Ok(from) = PhoneNumber::parse(from) else {
        return twiml(sms::USER_NOT_FOUND);
    };
    if state
        .sms_limiter()
        .check_key(&from.as_str().to_owned())
        .is_err()
    {
        // No reply: answering a flood would cost as much as the flood.
        tracing::warn!(organization = %organization.id, "texts from one number over the limit");
        return (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
        )
            .into_response();
    }
    let text = InboundText {
        from,
        body: body.chars().take(320).collect(),
        message_id: message_id.to_owned(),
    };
    let ctx = CommandContext {
        command_id: sms::command_id(&organization, &text.message_id),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        actor: Actor::Anonymous,
        client_ip: None,
        user_agent: Some("sms".to_owned()),
        now: state.now(),
    };
    match sms::reply(&state.store, &organization, &text, &ctx).await {
        Ok(reply) => twiml(&reply),
        Err(error) => {
            // A 5xx makes the provider deliver the text again, with the same MessageSid.
            tracing::error!(%error, "could not handle a text");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_twilios_published_example() {
        // The example of Twilio's signature-validation snippets (token 12345).
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            signature("12345", url, &params),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        );
        assert!(verify(
            "12345",
            url,
            &params,
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
        assert!(!verify(
            "12346",
            url,
            &params,
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
    }

    #[test]
    fn replies_are_escaped_for_xml() {
        assert_eq!(
            portal_commands::templates::escape_markup("M&M <b>"),
            "M&amp;M &lt;b&gt;"
        );
    }
}

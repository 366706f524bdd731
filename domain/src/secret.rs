//! Secrets inside events: the third class of event field, beside plain and personal.
//!
//! A secret is something that would let its holder act as someone: a password hash (crackable offline), an
//! authenticator app's seed, the hash of a token or code, a sealed provider credential. The write side needs them
//! (to verify a password, to check a code); nobody reads them. Their types serialize as their value when events
//! are stored, and as `{"$secret": true}` inside [`redacted`], which is how every reader outside the write side
//! (history, replays, any API answer) turns an event into JSON. The stored shape is unchanged, so no event version
//! moved and the hashes of the log still verify.

use std::cell::Cell;

use serde::{Serialize, Serializer};

/// The JSON marker that stands for a secret's value (`{"$secret": true}`).
pub const SECRET_MARKER: &str = "$secret";

thread_local! {
    static REDACTING: Cell<bool> = const { Cell::new(false) };
}

/// Serializes `value` as JSON with every secret in it replaced by `{"$secret": true}`.
pub fn redacted<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<serde_json::Value> {
    /// Puts the flag back however serialization ends (an error, or a panic in a Serialize impl).
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            REDACTING.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(REDACTING.with(|flag| flag.replace(true)));
    serde_json::to_value(value)
}

/// Whether `value` is the marker of a redacted secret.
pub fn is_redacted(value: &serde_json::Value) -> bool {
    value.get(SECRET_MARKER) == Some(&serde_json::Value::Bool(true))
        && value.as_object().is_some_and(|object| object.len() == 1)
}

/// For the `Serialize` impls of secret types: the value itself, or the marker inside [`redacted`].
pub fn serialize_secret<S: Serializer>(
    serializer: S,
    value: impl FnOnce(S) -> Result<S::Ok, S::Error>,
) -> Result<S::Ok, S::Error> {
    if REDACTING.with(Cell::get) {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(SECRET_MARKER, &true)?;
        map.end()
    } else {
        value(serializer)
    }
}

/// A secret kept as text that the domain never reads: a credential sealed by the commands layer.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct SealedSecret(String);

impl SealedSecret {
    /// Wraps text sealed by the commands layer.
    pub fn new(sealed: String) -> Self {
        Self(sealed)
    }

    /// The sealed text, for the commands layer to open.
    pub fn as_sealed(&self) -> &str {
        &self.0
    }
}

impl Serialize for SealedSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_secret(serializer, |s| s.serialize_str(&self.0))
    }
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedSecret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Event {
        name: &'static str,
        credential: SealedSecret,
    }

    fn event() -> Event {
        Event {
            name: "plain",
            credential: SealedSecret::new("sealed-bytes".into()),
        }
    }

    #[test]
    fn a_secret_is_stored_as_its_value() {
        assert_eq!(
            serde_json::to_value(event()).unwrap(),
            json!({"name": "plain", "credential": "sealed-bytes"})
        );
    }

    #[test]
    fn a_redacted_secret_reads_as_the_marker_and_plain_fields_stay() {
        let value = redacted(&event()).unwrap();
        assert_eq!(
            value,
            json!({"name": "plain", "credential": {"$secret": true}})
        );
        assert!(is_redacted(&value["credential"]));
    }

    #[test]
    fn redaction_ends_with_the_call() {
        redacted(&event()).unwrap();
        assert_eq!(
            serde_json::to_value(event()).unwrap()["credential"],
            "sealed-bytes"
        );
    }
}

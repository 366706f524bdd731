//! Personal data inside events.
//!
//! A `Personal<T>` field is written to the log encrypted with the data subject's own key (by the commands layer).
//! Once that key is erased, the field reads back as `Erased`: the domain has to say what it does without it.

use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};

/// A piece of personal data that may have been erased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Personal<T> {
    /// The value, readable.
    Known(T),
    /// The subject's key was erased: the value is gone for good.
    Erased,
}

impl<T> Personal<T> {
    /// The value, if it is still readable.
    pub fn known(&self) -> Option<&T> {
        match self {
            Personal::Known(value) => Some(value),
            Personal::Erased => None,
        }
    }
}

impl<T> From<T> for Personal<T> {
    fn from(value: T) -> Self {
        Personal::Known(value)
    }
}

/// The JSON marker the commands layer looks for to encrypt a value (`{"$pii": value}`).
pub const PII_MARKER: &str = "$pii";
/// The JSON marker of a value whose key was erased (`{"$erased": true}`).
pub const ERASED_MARKER: &str = "$erased";

/// For upcasters: marks a field that an older event version stored in clear as known personal data, the shape
/// `Personal<T>` reads (`{"$pii": value}`). A missing or null field stays as it is.
pub fn mark_personal(data: &mut serde_json::Value, field: &str) {
    if let Some(value) = data.get_mut(field).filter(|v| !v.is_null()) {
        *value = serde_json::json!({ PII_MARKER: value.take() });
    }
}

#[derive(Serialize, Deserialize)]
enum Wire<T> {
    #[serde(rename = "$pii")]
    Known(T),
    #[serde(rename = "$erased")]
    Erased(bool),
}

impl<T: Serialize> Serialize for Personal<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Personal::Known(value) => Wire::Known(value).serialize(serializer),
            Personal::Erased => Wire::<&T>::Erased(true).serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Personal<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Wire::<T>::deserialize(deserializer)? {
            Wire::Known(value) => Personal::Known(value),
            Wire::Erased(_) => Personal::Erased,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_known_value_is_wrapped_in_the_pii_marker() {
        let value = serde_json::to_value(Personal::Known("Ada")).unwrap();
        assert_eq!(value, json!({"$pii": "Ada"}));
        let back: Personal<String> = serde_json::from_value(value).unwrap();
        assert_eq!(back, Personal::Known("Ada".to_owned()));
    }

    #[test]
    fn an_erased_value_reads_back_as_erased() {
        let back: Personal<String> = serde_json::from_value(json!({"$erased": true})).unwrap();
        assert_eq!(back, Personal::Erased);
        assert_eq!(
            serde_json::to_value(Personal::<String>::Erased).unwrap(),
            json!({"$erased": true})
        );
    }
}

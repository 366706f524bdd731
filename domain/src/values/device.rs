use serde::{Deserialize, Serialize};

use super::person_name::looks_like_link;

/// What a person calls the device an app is signed in on ("Jane's iPhone"): 1 to 60 characters, no control
/// characters, nothing that reads as a link (it is shown back in the device list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceName(String);

/// Why a string is not a device name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceNameError {
    /// Empty, too long, or with control characters.
    #[error("a device name has 1 to 60 characters and no control characters")]
    Invalid,
    /// It reads as a web address.
    #[error("a device name may not look like a web address")]
    LooksLikeLink,
}

impl DeviceName {
    /// Parses a name; surrounding spaces are dropped.
    pub fn parse(raw: &str) -> Result<Self, DeviceNameError> {
        let name = raw.trim();
        if !(1..=60).contains(&name.chars().count()) || name.chars().any(char::is_control) {
            return Err(DeviceNameError::Invalid);
        }
        if looks_like_link(name) {
            return Err(DeviceNameError::LooksLikeLink);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_is_trimmed_and_bounded() {
        assert_eq!(
            DeviceName::parse("  Jane's iPhone ").unwrap().as_str(),
            "Jane's iPhone"
        );
        assert_eq!(DeviceName::parse(" "), Err(DeviceNameError::Invalid));
        assert_eq!(
            DeviceName::parse(&"x".repeat(61)),
            Err(DeviceNameError::Invalid)
        );
        assert_eq!(DeviceName::parse("a\u{7}b"), Err(DeviceNameError::Invalid));
    }

    #[test]
    fn a_device_name_may_not_be_a_link() {
        assert_eq!(
            DeviceName::parse("visit evil.example"),
            Err(DeviceNameError::LooksLikeLink)
        );
    }
}

//! Identifiers of aggregates. Each is a UUID with a type of its own, so one cannot stand in for another.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// An organization (tenant).
    OrganizationId
);
id_type!(
    /// A person's account in one organization.
    AccountId
);
id_type!(
    /// A signed-in session.
    SessionId
);
id_type!(
    /// An app's stay signed in on one device: a refresh token that rotates, and the access sessions it opens.
    DeviceSessionId
);
id_type!(
    /// A continuing-education activity (a course, or one meeting of a series).
    ActivityId
);
id_type!(
    /// A Regularly Scheduled Series (Grand Rounds, M&M, journal club).
    SeriesId
);
id_type!(
    /// A patient record of a clinic (not an account: a patient signs up to link one).
    PatientId
);

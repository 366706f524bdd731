//! Stable global ids for objects that have no id of their own.
//!
//! Entities (accounts, activities, appointments, conversations, ...) answer their own UUID. An object that exists
//! only as part of another (an account's phone or profile, a learner's transcript entry, an organization's settings)
//! gets a UUID derived from its type and its owner's key: the same in every answer and after a read model is rebuilt,
//! never equal to another object's id (Relay's rule for global ids), and telling nothing about what the object holds.

use async_graphql::ID;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The id of the `typename` object keyed by `key` (its owner's id and, where the owner has several, what tells them
/// apart).
pub fn derived(typename: &str, key: &[&dyn std::fmt::Display]) -> ID {
    let mut hash = Sha256::new().chain_update(typename.as_bytes());
    for part in key {
        // A separator no key part holds keeps ("ab", "c") and ("a", "bc") apart.
        hash.update([0u8]);
        hash.update(part.to_string().as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ID(uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string())
}

/// The id of an entity that has its own UUID.
pub fn of(id: Uuid) -> ID {
    ID(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_id_is_the_same_for_the_same_key() {
        let owner = Uuid::from_u128(7);
        assert_eq!(
            derived("Phone", &[&owner, &"+15555550100"]),
            derived("Phone", &[&owner, &"+15555550100"])
        );
    }

    #[test]
    fn a_derived_id_differs_by_type_and_by_key() {
        let owner = Uuid::from_u128(7);
        let profile = derived("Profile", &[&owner]);
        assert_ne!(profile, derived("Transcript", &[&owner]));
        assert_ne!(profile, of(owner));
        assert_ne!(derived("X", &[&"ab", &"c"]), derived("X", &[&"a", &"bc"]));
    }
}

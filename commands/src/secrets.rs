//! The server's master key and the keys derived from it.
//!
//! One 256-bit master key (`PORTAL_MASTER_KEY`) is the root: it wraps every person's data key, keys the hashes
//! of the uniqueness index, and seals secrets kept for idempotent retries. Losing it makes personal data unreadable.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A 256-bit master key.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

/// Why a master key is refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not base64 of 32 bytes.
    #[error(
        "the master key must be 32 bytes in base64 (generate one with `openssl rand -base64 32`)"
    )]
    Malformed,
    /// The database was set up with another master key.
    #[error(
        "this database was set up with a different master key; personal data would be unreadable"
    )]
    Mismatch,
}

impl MasterKey {
    /// Parses base64 (standard alphabet, padded) of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Malformed)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed)?;
        Ok(Self(key))
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        chacha20poly1305::aead::rand_core::RngCore::fill_bytes(&mut OsRng, &mut key);
        Self(key)
    }

    /// The key in base64, to store it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Keys derived from the master key, one per purpose.
#[derive(Clone)]
pub struct Secrets {
    wrap: [u8; 32],
    index: [u8; 32],
    seal: [u8; 32],
    check: [u8; 32],
    checkpoint: [u8; 32],
    access: [u8; 32],
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    hmac_sha256(master, &[label.as_bytes()])
}

/// HMAC-SHA256 over the concatenation of `parts`, each prefixed by its length so that parts cannot run together.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl Secrets {
    /// Derives the purpose keys.
    pub fn derive(master: &MasterKey) -> Self {
        Self {
            wrap: derive(&master.0, "portal/wrap-subject-keys/v1"),
            index: derive(&master.0, "portal/uniqueness-index/v1"),
            seal: derive(&master.0, "portal/seal-outcomes/v1"),
            check: derive(&master.0, "portal/check/v1"),
            checkpoint: derive(&master.0, "portal/log-checkpoints/v1"),
            access: derive(&master.0, "portal/access-log-chain/v1"),
        }
    }

    /// The key that wraps people's data keys.
    pub(crate) fn wrap_key(&self) -> &[u8; 32] {
        &self.wrap
    }

    /// The keyed hash that stands for a unique value (`kind` keeps e-mail and codes apart).
    pub fn index_hash(&self, kind: &str, value: &str) -> Vec<u8> {
        hmac_sha256(&self.index, &[kind.as_bytes(), value.as_bytes()]).to_vec()
    }

    /// The keyed hash of a command's input, to tell a retry from a reuse of its id.
    pub fn fingerprint(&self, command: &str, input: &[&[u8]]) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = vec![b"fingerprint", command.as_bytes()];
        parts.extend_from_slice(input);
        hmac_sha256(&self.index, &parts).to_vec()
    }

    /// The signature of a log checkpoint's chain hash: only a holder of the master key can make one.
    pub fn sign_checkpoint(&self, sequence: i64, chain_hash: &[u8]) -> Vec<u8> {
        hmac_sha256(
            &self.checkpoint,
            &[b"checkpoint", &sequence.to_be_bytes(), chain_hash],
        )
        .to_vec()
    }

    /// Whether `signature` is this server's signature of the checkpoint (compared in constant time).
    pub fn checkpoint_signed(&self, sequence: i64, chain_hash: &[u8], signature: &[u8]) -> bool {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.checkpoint)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        for part in [
            b"checkpoint".as_slice(),
            &sequence.to_be_bytes(),
            chain_hash,
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.verify_slice(signature).is_ok()
    }

    /// An access-log row's link: the previous row's link and the row's fields, under the access-log key.
    pub fn chain_access(&self, previous: &[u8], fields: &[&[u8]]) -> [u8; 32] {
        let mut parts: Vec<&[u8]> = vec![b"access-log", previous];
        parts.extend_from_slice(fields);
        hmac_sha256(&self.access, &parts)
    }

    /// A value that shows which master key this is, without revealing it.
    pub fn check_value(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.check)
    }

    /// Encrypts a secret to keep it (for idempotent retries).
    pub fn seal(&self, plaintext: &[u8]) -> String {
        seal_with(&self.seal, plaintext, b"portal/sealed")
    }

    /// Decrypts what [`Secrets::seal`] produced.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        open_with(&self.seal, sealed, b"portal/sealed")
    }
}

/// XChaCha20-Poly1305 with a random nonce; output is base64 of nonce || ciphertext.
pub(crate) fn seal_with(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> String {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    // Encryption with a valid key and in-memory buffers cannot fail.
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 encryption does not fail"));
    out.extend_from_slice(&ciphertext);
    STANDARD.encode(out)
}

/// The inverse of [`seal_with`]; None when the text was not sealed with this key and aad.
pub(crate) fn open_with(key: &[u8; 32], sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            nonce.into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// Records the master key's check value on first start and refuses a different key afterwards.
pub async fn verify_master_key(
    pool: &deadpool_postgres::Pool,
    secrets: &Secrets,
) -> Result<(), crate::StartupError> {
    let client = pool.get().await.map_err(crate::log::LogError::from)?;
    let check = secrets.check_value();
    client
        .execute(
            "INSERT INTO server_settings (name, value) VALUES ('master_key_check', $1) ON CONFLICT (name) DO NOTHING",
            &[&check],
        )
        .await
        .map_err(crate::log::LogError::from)?;
    let stored: String = client
        .query_one(
            "SELECT value FROM server_settings WHERE name = 'master_key_check'",
            &[],
        )
        .await
        .map_err(crate::log::LogError::from)?
        .get(0);
    if stored == check {
        Ok(())
    } else {
        Err(KeyError::Mismatch.into())
    }
}

/// Whether two byte strings are equal, compared in constant time.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            .eq(&std::hint::black_box(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key() {
        let secrets = Secrets::derive(&MasterKey::generate());
        let sealed = secrets.seal(b"token");
        assert_eq!(secrets.open(&sealed).as_deref(), Some(&b"token"[..]));
        let other = Secrets::derive(&MasterKey::generate());
        assert_eq!(other.open(&sealed), None);
    }

    #[test]
    fn a_master_key_round_trips_through_base64() {
        let key = MasterKey::generate();
        let back = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(
            Secrets::derive(&key).check_value(),
            Secrets::derive(&back).check_value()
        );
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }
}

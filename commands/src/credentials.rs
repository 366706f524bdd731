//! Passwords and secret tokens: argon2id hashing, the breached-password list, random tokens stored as hashes.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portal_domain::values::{Password, PasswordBlocklist, PasswordHash, TokenHash};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

/// OWASP's argon2id parameters (Password Storage Cheat Sheet): 19 MiB of memory, 2 iterations, 1 lane.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// See [`ARGON2_MEMORY_KIB`].
pub const ARGON2_ITERATIONS: u32 = 2;
/// See [`ARGON2_MEMORY_KIB`].
pub const ARGON2_LANES: u32 = 1;

/// Why hashing failed (it does not, short of a bug or memory exhaustion).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(String);

/// Checks that may wait per core before more are refused: at about 50 ms a check, a wait of at most a few hundred
/// milliseconds.
pub const WAITING_PER_CORE: usize = 8;

/// Every core is hashing and the queue is full.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("every core is busy checking passwords")]
pub struct Busy;

/// Hashes and checks passwords with argon2id. CPU-heavy: call it from a blocking thread.
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// One hash at a time per core: more would not finish sooner, and each holds its memory cost (19 MiB) while
    /// it runs, so a burst of sign-ins could otherwise take gigabytes.
    running: std::sync::Arc<tokio::sync::Semaphore>,
    /// How many checks may wait for a core; past it a check is refused at once ([`Busy`]), so that a burst of
    /// attempts cannot queue everyone else's sign-ins behind it for seconds.
    queue: usize,
    /// Checks waiting now.
    waiting: std::sync::atomic::AtomicUsize,
    /// argon2id runs so far (hashes and verifications), so that the work a request causes can be seen.
    runs: std::sync::atomic::AtomicU64,
    /// A hash to check against when there is no account, so that an unknown address takes as long as a known one.
    dummy: String,
}

// NIST SP 800-63B 5.1.1.2: normalize Unicode (NFKC) before hashing, so the same password typed on two devices matches.
fn normalized(password: &str) -> String {
    password.nfkc().collect()
}

impl PasswordHasher {
    /// A hasher with OWASP's parameters.
    pub fn new() -> Result<Self, HashingError> {
        let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
            .map_err(|e| HashingError(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon2
            .hash_password(b"portal: no such account", &salt)
            .map_err(|e| HashingError(e.to_string()))?
            .to_string();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Ok(Self {
            argon2,
            dummy,
            running: std::sync::Arc::new(tokio::sync::Semaphore::new(cores)),
            queue: cores * WAITING_PER_CORE,
            waiting: std::sync::atomic::AtomicUsize::new(0),
            runs: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// A free core to hash or verify on (hold the permit meanwhile); waits behind at most [`WAITING_PER_CORE`]
    /// checks per core, else [`Busy`] at once.
    pub async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Busy> {
        use std::sync::atomic::Ordering;
        if let Ok(permit) = std::sync::Arc::clone(&self.running).try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let permit = std::sync::Arc::clone(&self.running).acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        // The semaphore is never closed.
        permit.map_err(|_| Busy)
    }

    /// How many times argon2id ran (hashes and verifications) in this hasher.
    pub fn runs(&self) -> u64 {
        self.runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes a new password with a fresh random salt, as a PHC string.
    pub fn hash(&self, password: &Password) -> Result<PasswordHash, HashingError> {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let salt = SaltString::generate(&mut OsRng);
        let phc = self
            .argon2
            .hash_password(normalized(password.expose()).as_bytes(), &salt)
            .map_err(|e| HashingError(e.to_string()))?;
        Ok(PasswordHash::from_phc(phc.to_string()))
    }

    /// True when `candidate` matches `hash` (argon2's comparison is constant-time).
    pub fn verify(&self, hash: &PasswordHash, candidate: &str) -> bool {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match PhcHash::new(hash.as_phc()) {
            Ok(parsed) => self
                .argon2
                .verify_password(normalized(candidate).as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the time of a real check, for an address that has no account. Always false.
    pub fn verify_nothing(&self, candidate: &str) -> bool {
        let dummy = PasswordHash::from_phc(self.dummy.clone());
        let _ = self.verify(&dummy, candidate);
        false
    }
}

/// The 30,000 most common passwords of the Xato corpus of breached passwords, as shipped in the `zxcvbn` crate
/// (`commands/data/breached-passwords.txt`, regenerated by `scripts/update-breached-passwords`).
///
/// A password is refused when, ignoring case, it is exactly one of them.
pub struct BreachedPasswords;

static BREACHED_LIST: &str = include_str!("../data/breached-passwords.txt");

fn breached_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        BREACHED_LIST
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

impl BreachedPasswords {
    /// How many passwords the list holds.
    pub fn len() -> usize {
        breached_set().len()
    }
}

impl PasswordBlocklist for BreachedPasswords {
    fn is_blocked(&self, candidate: &str) -> bool {
        // The list is in lower case; a capital letter does not make a listed password safe.
        breached_set().contains(candidate.to_lowercase().as_str())
    }
}

/// A secret token handed to a person (in a link or as a bearer token): the id it belongs to and 256 random bits.
///
/// Its text is `base64url(id || secret)`; only its SHA-256 is ever stored.
pub fn new_token(id: Uuid) -> (String, TokenHash) {
    let mut bytes = [0u8; 48];
    bytes[..16].copy_from_slice(id.as_bytes());
    OsRng.fill_bytes(&mut bytes[16..]);
    let text = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&text);
    (text, hash)
}

/// The id a token belongs to and its hash; None when the text is not a token of ours.
pub fn parse_token(text: &str) -> Option<(Uuid, TokenHash)> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    if bytes.len() != 48 {
        return None;
    }
    let id = Uuid::from_slice(&bytes[..16]).ok()?;
    Some((id, hash_token(text.trim())))
}

/// SHA-256 of a token's text. Tokens carry 256 random bits, so a fast hash is enough.
pub fn hash_token(text: &str) -> TokenHash {
    TokenHash(Sha256::digest(text.as_bytes()).into())
}

/// `N` bytes from the operating system's random number generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_thirty_thousand_passwords() {
        assert_eq!(BreachedPasswords::len(), 30_000);
    }

    #[test]
    fn common_breached_passwords_are_on_the_list_in_any_case() {
        for password in [
            "password1234",
            "PASSWORD1234",
            "qwertyuiop12",
            "1qaz2wsx3edc",
        ] {
            assert!(BreachedPasswords.is_blocked(password), "{password}");
        }
    }

    #[test]
    fn a_passphrase_is_not_on_the_list() {
        assert!(!BreachedPasswords.is_blocked("violet tractor sings at noon"));
        assert!(!BreachedPasswords.is_blocked("password1234 but longer"));
    }

    #[test]
    fn a_hash_verifies_only_its_password_and_is_argon2id_with_owasp_parameters() {
        let hasher = PasswordHasher::new().unwrap();
        let password = Password::parse("correct horse staple", &BreachedPasswords).unwrap();
        let hash = hasher.hash(&password).unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&hash, "correct horse staple"));
        assert!(!hasher.verify(&hash, "correct horse stapler"));
        assert!(!hasher.verify_nothing("correct horse staple"));
    }

    #[test]
    fn unicode_is_normalized_before_hashing() {
        let hasher = PasswordHasher::new().unwrap();
        let composed = Password::parse("caf\u{e9} au lait noir", &BreachedPasswords).unwrap();
        let hash = hasher.hash(&composed).unwrap();
        assert!(hasher.verify(&hash, "cafe\u{301} au lait noir"));
    }

    #[test]
    fn a_token_carries_its_id_and_is_stored_as_a_hash() {
        let id = Uuid::new_v4();
        let (text, hash) = new_token(id);
        assert!(text.len() >= 64);
        let (parsed_id, parsed_hash) = parse_token(&text).unwrap();
        assert_eq!(parsed_id, id);
        assert!(parsed_hash.ct_eq(&hash));
        assert!(parse_token("not-a-token").is_none());
    }
}

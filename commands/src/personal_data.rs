//! Crypto-shredding: every person's data in the log is encrypted with a key of their own.
//!
//! Events mark personal fields as `{"$pii": value}` (see `portal_domain::Personal`). Before an append this module
//! replaces each with `{"$enc": {"subject": id, "data": sealed}}`; after a read it puts the value back, or
//! `{"$erased": true}` when the subject's key is gone. This is the only module that sees data keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{rand_core::RngCore, OsRng};
use deadpool_postgres::Pool;
use portal_domain::personal::{ERASED_MARKER, PII_MARKER};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::log::LogError;
use crate::secrets::{open_with, seal_with, Secrets};

const ENCRYPTED_MARKER: &str = "$enc";

/// How long an unwrapped key is reused before the table is asked again: an erasure made by another process is
/// honoured here within this time.
const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// Why personal data could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// An event has personal data but no data subject was named for it.
    #[error("personal data without a data subject")]
    NoSubject,
    /// A stored value does not decrypt with its subject's key: tampering or a wrong master key.
    #[error("personal data of subject {0} does not decrypt")]
    Undecryptable(Uuid),
    /// A data key does not unwrap with the master key.
    #[error("the data key of subject {0} does not unwrap; wrong master key?")]
    KeyUnwrap(Uuid),
    /// Storage failed.
    #[error(transparent)]
    Log(#[from] LogError),
}

enum Backend {
    Postgres(Pool),
    Memory(Mutex<HashMap<Uuid, String>>),
}

struct Inner {
    backend: Backend,
    secrets: Secrets,
    cache: Mutex<KeyCache>,
}

/// Unwrapped keys by subject, each kept [`KEY_CACHE_TTL`]; expired keys are dropped every TTL, so that neither the
/// memory nor the time a key stays in it grows with the number of people served.
#[derive(Default)]
struct KeyCache {
    keys: HashMap<Uuid, ([u8; 32], Instant)>,
    pruned_at: Option<Instant>,
}

/// Keys cached at most; more fresh ones than this at once empty the cache.
const KEY_CACHE_CAPACITY: usize = 100_000;

/// The people's data keys, stored wrapped under the master key and cached unwrapped in memory.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

impl KeyRing {
    /// Keys kept in the `subject_keys` table.
    pub fn postgres(pool: Pool, secrets: Secrets) -> Self {
        Self::with(Backend::Postgres(pool), secrets)
    }

    /// Keys kept in memory (tests, the in-memory log).
    pub fn memory(secrets: Secrets) -> Self {
        Self::with(Backend::Memory(Mutex::new(HashMap::new())), secrets)
    }

    fn with(backend: Backend, secrets: Secrets) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                secrets,
                cache: Mutex::new(KeyCache::default()),
            }),
        }
    }

    fn cached(&self, subject: Uuid) -> Option<[u8; 32]> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys
            .get(&subject)
            .filter(|(_, since)| since.elapsed() < KEY_CACHE_TTL)
            .map(|(key, _)| *key)
    }

    fn remember(&self, subject: Uuid, key: [u8; 32]) {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache
            .pruned_at
            .is_none_or(|at| at.elapsed() > KEY_CACHE_TTL)
        {
            cache
                .keys
                .retain(|_, (_, since)| since.elapsed() < KEY_CACHE_TTL);
            cache.pruned_at = Some(Instant::now());
        }
        if cache.keys.len() >= KEY_CACHE_CAPACITY {
            cache.keys.clear();
        }
        cache.keys.insert(subject, (key, Instant::now()));
    }

    /// Forgets a subject's key after its erasure was committed (the commit deleted the stored key; the memory
    /// backend deletes it here).
    pub fn forget(&self, subject: Uuid) {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys
            .remove(&subject);
        if let Backend::Memory(keys) = &self.inner.backend {
            keys.lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&subject);
        }
    }

    fn unwrap_key(&self, subject: Uuid, wrapped: &str) -> Result<[u8; 32], CryptoError> {
        let bytes = open_with(self.inner.secrets.wrap_key(), wrapped, subject.as_bytes())
            .ok_or(CryptoError::KeyUnwrap(subject))?;
        bytes
            .try_into()
            .map_err(|_| CryptoError::KeyUnwrap(subject))
    }

    async fn stored(&self, subject: Uuid) -> Result<Option<String>, CryptoError> {
        match &self.inner.backend {
            Backend::Postgres(pool) => {
                let client = pool.get().await.map_err(LogError::from)?;
                let row = client
                    .query_opt(
                        "SELECT wrapped_key FROM subject_keys WHERE subject_id = $1",
                        &[&subject],
                    )
                    .await
                    .map_err(LogError::from)?;
                Ok(row.map(|row| row.get::<_, String>(0)))
            }
            Backend::Memory(keys) => Ok(keys
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&subject)
                .cloned()),
        }
    }

    /// The subject's key, created on first use.
    pub async fn key_for_writing(&self, subject: Uuid) -> Result<[u8; 32], CryptoError> {
        if let Some(key) = self.cached(subject) {
            return Ok(key);
        }
        let mut fresh = [0u8; 32];
        OsRng.fill_bytes(&mut fresh);
        let wrapped = seal_with(self.inner.secrets.wrap_key(), &fresh, subject.as_bytes());
        match &self.inner.backend {
            Backend::Postgres(pool) => {
                let client = pool.get().await.map_err(LogError::from)?;
                client
                    .execute(
                        "INSERT INTO subject_keys (subject_id, wrapped_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[&subject, &wrapped],
                    )
                    .await
                    .map_err(LogError::from)?;
            }
            Backend::Memory(keys) => {
                keys.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(subject)
                    .or_insert(wrapped);
            }
        }
        // Whoever inserted first won; read back the key that is stored.
        let stored = self
            .stored(subject)
            .await?
            .ok_or(CryptoError::KeyUnwrap(subject))?;
        let key = self.unwrap_key(subject, &stored)?;
        self.remember(subject, key);
        Ok(key)
    }

    /// The subject's key, or None when it was erased (or never existed).
    pub async fn key_for_reading(&self, subject: Uuid) -> Result<Option<[u8; 32]>, CryptoError> {
        if let Some(key) = self.cached(subject) {
            return Ok(Some(key));
        }
        match self.stored(subject).await? {
            Some(wrapped) => {
                let key = self.unwrap_key(subject, &wrapped)?;
                self.remember(subject, key);
                Ok(Some(key))
            }
            None => Ok(None),
        }
    }

    /// Replaces every `{"$pii": v}` in `data` by its encryption under `subject`'s key.
    pub async fn encrypt(
        &self,
        subject: Option<Uuid>,
        data: &mut Value,
    ) -> Result<(), CryptoError> {
        if !contains_marker(data, PII_MARKER) {
            return Ok(());
        }
        let subject = subject.ok_or(CryptoError::NoSubject)?;
        let key = self.key_for_writing(subject).await?;
        transform(data, PII_MARKER, &mut |value| {
            let plaintext = serde_json::to_vec(&value).unwrap_or_default();
            Ok(json!({ ENCRYPTED_MARKER: {
                "subject": subject,
                "data": seal_with(&key, &plaintext, subject.as_bytes()),
            }}))
        })
    }

    /// Moves a commit's client address and user agent into `metadata.client`, encrypted with `subject`'s key: where
    /// a person acted, where from is theirs, and goes with their key.
    pub async fn seal_client(
        &self,
        subject: Uuid,
        metadata: &mut crate::log::Metadata,
    ) -> Result<(), CryptoError> {
        if metadata.client_ip.is_none() && metadata.user_agent.is_none() {
            return Ok(());
        }
        let mut client = json!({ PII_MARKER: {
            "client_ip": metadata.client_ip.take(),
            "user_agent": metadata.user_agent.take(),
        }});
        self.encrypt(Some(subject), &mut client).await?;
        metadata.client = Some(client);
        Ok(())
    }

    /// Puts a sealed client address and user agent back into the metadata's fields (None once erased).
    pub async fn open_client(
        &self,
        metadata: &mut crate::log::Metadata,
    ) -> Result<(), CryptoError> {
        let Some(mut client) = metadata.client.take() else {
            return Ok(());
        };
        self.decrypt(&mut client).await?;
        let opened = &client[PII_MARKER];
        metadata.client_ip = opened["client_ip"].as_str().map(str::to_owned);
        metadata.user_agent = opened["user_agent"].as_str().map(str::to_owned);
        Ok(())
    }

    /// Replaces every encrypted value in `data` by `{"$pii": v}`, or `{"$erased": true}` if its key is gone.
    pub async fn decrypt(&self, data: &mut Value) -> Result<(), CryptoError> {
        if !contains_marker(data, ENCRYPTED_MARKER) {
            return Ok(());
        }
        let mut subjects = Vec::new();
        collect_subjects(data, &mut subjects);
        let mut keys = HashMap::new();
        for subject in subjects {
            keys.insert(subject, self.key_for_reading(subject).await?);
        }
        transform(data, ENCRYPTED_MARKER, &mut |envelope| {
            let subject = envelope
                .get("subject")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or(CryptoError::Undecryptable(Uuid::nil()))?;
            match keys.get(&subject).copied().flatten() {
                None => Ok(json!({ ERASED_MARKER: true })),
                Some(key) => {
                    let sealed = envelope
                        .get("data")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let plaintext = open_with(&key, sealed, subject.as_bytes())
                        .ok_or(CryptoError::Undecryptable(subject))?;
                    let value: Value = serde_json::from_slice(&plaintext)
                        .map_err(|_| CryptoError::Undecryptable(subject))?;
                    Ok(json!({ PII_MARKER: value }))
                }
            }
        })
    }
}

fn single_key_object<'a>(map: &'a Map<String, Value>, marker: &str) -> Option<&'a Value> {
    if map.len() == 1 {
        map.get(marker)
    } else {
        None
    }
}

fn contains_marker(value: &Value, marker: &str) -> bool {
    match value {
        Value::Object(map) => {
            single_key_object(map, marker).is_some()
                || map.values().any(|v| contains_marker(v, marker))
        }
        Value::Array(items) => items.iter().any(|v| contains_marker(v, marker)),
        _ => false,
    }
}

fn collect_subjects(value: &Value, out: &mut Vec<Uuid>) {
    match value {
        Value::Object(map) => {
            if let Some(envelope) = single_key_object(map, ENCRYPTED_MARKER) {
                if let Some(subject) = envelope
                    .get("subject")
                    .and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
                {
                    if !out.contains(&subject) {
                        out.push(subject);
                    }
                }
            } else {
                map.values().for_each(|v| collect_subjects(v, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_subjects(v, out)),
        _ => {}
    }
}

fn transform(
    value: &mut Value,
    marker: &str,
    f: &mut dyn FnMut(Value) -> Result<Value, CryptoError>,
) -> Result<(), CryptoError> {
    match value {
        Value::Object(map) => {
            if single_key_object(map, marker).is_some() {
                let inner = map.remove(marker).unwrap_or(Value::Null);
                *value = f(inner)?;
            } else {
                for v in map.values_mut() {
                    transform(v, marker, f)?;
                }
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                transform(v, marker, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MasterKey;

    #[tokio::test]
    async fn personal_fields_are_encrypted_and_come_back() {
        let keys = KeyRing::memory(Secrets::derive(&MasterKey::generate()));
        let subject = Uuid::new_v4();
        let original = json!({"name": {"$pii": {"first": "Ada"}}, "role": "learner"});
        let mut data = original.clone();
        keys.encrypt(Some(subject), &mut data).await.unwrap();
        assert!(!data.to_string().contains("Ada"));
        assert_eq!(data["role"], "learner");
        keys.decrypt(&mut data).await.unwrap();
        assert_eq!(data, original);
    }

    #[tokio::test]
    async fn personal_data_without_a_subject_is_refused() {
        let keys = KeyRing::memory(Secrets::derive(&MasterKey::generate()));
        let mut data = json!({"email": {"$pii": "ada@example.org"}});
        assert!(matches!(
            keys.encrypt(None, &mut data).await,
            Err(CryptoError::NoSubject)
        ));
    }

    #[tokio::test]
    async fn a_missing_key_reads_as_erased() {
        let secrets = Secrets::derive(&MasterKey::generate());
        let writer = KeyRing::memory(secrets.clone());
        let mut data = json!({"email": {"$pii": "ada@example.org"}});
        writer
            .encrypt(Some(Uuid::new_v4()), &mut data)
            .await
            .unwrap();
        let reader_without_keys = KeyRing::memory(secrets);
        reader_without_keys.decrypt(&mut data).await.unwrap();
        assert_eq!(data, json!({"email": {"$erased": true}}));
    }
}

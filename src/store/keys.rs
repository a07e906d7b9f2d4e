//! Where threads' storage keys live: apart from sled, so that destroying
//! one does not wait for sled to reuse a page (spec/retention.md,
//! "Crypto-shredding"). The server uses the file vault
//! ([`super::vault::Vault`]); tests without a disk use [`MemoryVault`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

/// A failure of the key vault. Carries no key.
#[derive(Debug)]
pub struct KeyVaultError(pub String);

impl std::fmt::Display for KeyVaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key vault: {}", self.0)
    }
}

impl std::error::Error for KeyVaultError {}

/// Storage keys by thread id.
pub trait KeyVault: Send + Sync + 'static {
    /// Stores a key durably; returns only once it would survive a crash.
    fn put(&self, id: [u8; 16], key: [u8; 32]) -> Result<(), KeyVaultError>;
    fn get(&self, id: &[u8; 16]) -> Option<Zeroizing<[u8; 32]>>;
    /// Destroys these keys (and, for the file vault, every copy the vault
    /// itself made of them) before returning. Absent ids are fine.
    fn remove(&self, ids: &[[u8; 16]]) -> Result<(), KeyVaultError>;
    fn ids(&self) -> Vec<[u8; 16]>;
}

/// Keys in memory, for tests.
#[derive(Default)]
pub struct MemoryVault {
    keys: Mutex<BTreeMap<[u8; 16], Zeroizing<[u8; 32]>>>,
}

impl MemoryVault {
    pub fn new() -> MemoryVault {
        MemoryVault::default()
    }
}

impl KeyVault for MemoryVault {
    fn put(&self, id: [u8; 16], key: [u8; 32]) -> Result<(), KeyVaultError> {
        let mut map = self
            .keys
            .lock()
            .map_err(|_| KeyVaultError("lock poisoned".into()))?;
        // As the file vault: a key is never replaced in place.
        match map.get(&id) {
            Some(old) if **old != key => Err(KeyVaultError("a different key exists".into())),
            Some(_) => Ok(()),
            None => {
                map.insert(id, Zeroizing::new(key));
                Ok(())
            }
        }
    }

    fn get(&self, id: &[u8; 16]) -> Option<Zeroizing<[u8; 32]>> {
        let map = self.keys.lock().ok()?;
        map.get(id).cloned()
    }

    fn remove(&self, ids: &[[u8; 16]]) -> Result<(), KeyVaultError> {
        let mut map = self
            .keys
            .lock()
            .map_err(|_| KeyVaultError("lock poisoned".into()))?;
        for id in ids {
            map.remove(id);
        }
        Ok(())
    }

    fn ids(&self) -> Vec<[u8; 16]> {
        self.keys
            .lock()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }
}

impl KeyVault for super::vault::Vault {
    fn put(&self, id: [u8; 16], key: [u8; 32]) -> Result<(), KeyVaultError> {
        super::vault::Vault::put(self, id, key).map_err(|e| KeyVaultError(e.to_string()))
    }

    fn get(&self, id: &[u8; 16]) -> Option<Zeroizing<[u8; 32]>> {
        super::vault::Vault::get(self, id)
    }

    fn remove(&self, ids: &[[u8; 16]]) -> Result<(), KeyVaultError> {
        super::vault::Vault::remove(self, ids).map_err(|e| KeyVaultError(e.to_string()))
    }

    fn ids(&self) -> Vec<[u8; 16]> {
        super::vault::Vault::ids(self)
    }
}

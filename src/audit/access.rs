//! Auditors' access to the log's endpoints: bearer tokens an operator
//! hands out (`buzon audit access add`). Only a BLAKE3 hash of each is
//! stored, with a label and the day it was made; revoking deletes it.
//!
//! The log holds no content, but its counts per day per entity are not
//! for the public (spec/tlog.md, "What the log reveals"), hence a token.

use serde::{Deserialize, Serialize};

use crate::core::Day;
use crate::platform::Entropy;
use crate::store::{Batch, Store, StoreError, Table};

const PREFIX: &str = "audit_";

/// What is stored per token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessRecord {
    pub v: u8,
    pub label: String,
    pub made: Day,
}

fn lookup(token: &str) -> [u8; 32] {
    *blake3::keyed_hash(
        &blake3::hash(b"buzon audit access v1").into(),
        token.trim().as_bytes(),
    )
    .as_bytes()
}

/// Makes a token, stores its hash and returns the token (shown once).
pub fn add(
    store: &dyn Store,
    entropy: &dyn Entropy,
    label: &str,
    today: Day,
) -> Result<String, StoreError> {
    let secret: [u8; 20] = crate::platform::random(entropy);
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let record = AccessRecord {
        v: 1,
        label: label
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect(),
        made: today,
    };
    let mut b = Batch::new();
    b.put(
        Table::AuditAccess,
        lookup(&token),
        serde_json::to_vec(&record).unwrap_or_default(),
    );
    store.apply(b)?;
    store.flush()?;
    Ok(token)
}

/// Whether a presented token is a current one.
pub fn allowed(store: &dyn Store, token: &str) -> Result<bool, StoreError> {
    if !token.starts_with(PREFIX) || token.len() > 100 {
        return Ok(false);
    }
    Ok(store.get(Table::AuditAccess, &lookup(token))?.is_some())
}

/// Every token's label and day, with the handle `revoke` takes (the first
/// 8 hex digits of its stored hash; never the token).
pub fn list(store: &dyn Store) -> Result<Vec<(String, AccessRecord)>, StoreError> {
    let mut out = Vec::new();
    for (k, v) in store.scan(Table::AuditAccess, &[], 10_000)? {
        if let Ok(r) = serde_json::from_slice::<AccessRecord>(&v) {
            out.push((hex::encode(k.get(..4).unwrap_or_default()), r));
        }
    }
    Ok(out)
}

/// Revokes the tokens whose handle (from `list`) is `handle`; returns how many.
pub fn revoke(store: &dyn Store, handle: &str) -> Result<usize, StoreError> {
    let mut b = Batch::new();
    let mut n = 0;
    for (k, _) in store.scan(Table::AuditAccess, &[], 10_000)? {
        if hex::encode(k.get(..4).unwrap_or_default()) == handle.trim().to_ascii_lowercase() {
            b.delete(Table::AuditAccess, k);
            n += 1;
        }
    }
    if n > 0 {
        store.apply(b)?;
        store.flush()?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    struct Fixed;
    impl Entropy for Fixed {
        fn fill(&self, out: &mut [u8]) {
            out.fill(7);
        }
    }

    #[test]
    fn tokens_work_until_revoked_and_are_stored_hashed() {
        let store = MemoryStore::default();
        let token = add(&store, &Fixed, "ASF", Day(20_000)).unwrap();
        assert!(allowed(&store, &token).unwrap());
        assert!(!allowed(&store, "audit_00").unwrap());
        assert!(!allowed(&store, "nope").unwrap());
        let dump = store.scan(Table::AuditAccess, &[], 10).unwrap();
        assert!(!format!("{dump:?}").contains(&token[PREFIX.len()..]));
        let listed = list(&store).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(revoke(&store, &listed[0].0).unwrap(), 1);
        assert!(!allowed(&store, &token).unwrap());
    }
}

//! An in-memory [`Store`] for tests: same semantics, nothing on disk.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Batch, Store, StoreError, Table, full_key};

#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStore {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-written
        // (each operation is a single insert or remove), so poison is ignored.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map().get(&full_key(table, key)).cloned())
    }

    fn scan_keys(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .scan(table, prefix, limit)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<super::Entries, StoreError> {
        let p = full_key(table, prefix);
        Ok(self
            .map()
            .range(p.clone()..)
            .take_while(|(k, _)| k.starts_with(&p))
            .take(limit)
            .map(|(k, v)| (k.get(1..).unwrap_or_default().to_vec(), v.clone()))
            .collect())
    }

    fn insert_if_absent(&self, table: Table, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        let mut m = self.map();
        let k = full_key(table, key);
        if m.contains_key(&k) {
            return Ok(false);
        }
        m.insert(k, value.to_vec());
        Ok(true)
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut m = self.map();
        for (t, k, v) in batch.ops {
            match v {
                Some(v) => m.insert(full_key(t, &k), v),
                None => m.remove(&full_key(t, &k)),
            };
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

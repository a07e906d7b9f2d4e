//! The sled implementation of [`Store`].
//!
//! sled 0.34 keeps writes in memory and in its log until `flush`; the
//! services call [`Store::flush`] before acknowledging. One process at a
//! time may open a directory: a second gets [`StoreError::Locked`], which
//! the command line uses to fall back to the running server's admin socket.

use std::path::Path;

use super::{Batch, Store, StoreError, Table, full_key};

pub struct SledStore {
    db: sled::Db,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 * 1024 * 1024)
            // sled writes any log item over a quarter of a segment to its
            // own file under `blobs/`, whose name and timestamps would tell
            // when it was written. 16 MiB segments put that threshold at
            // 4 MiB, far above any record we store (the largest is a
            // 256 KiB message frame); a test checks `blobs/` stays empty.
            .segment_size(16 * 1024 * 1024)
            // Background flushes are kept as a backstop; acknowledged
            // writes never rely on them.
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io) if is_lock_error(&io) => StoreError::Locked,
                other => StoreError::Engine(other.to_string()),
            })?;
        Ok(SledStore { db })
    }
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock
        || e.to_string().contains("lock")
        || e.raw_os_error() == Some(11)
}

fn engine(e: sled::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

impl Store for SledStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get(full_key(table, key))
            .map_err(engine)?
            .map(|v| v.to_vec()))
    }

    fn scan_keys(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for k in self
            .db
            .scan_prefix(full_key(table, prefix))
            .keys()
            .take(limit)
        {
            out.push(k.map_err(engine)?.get(1..).unwrap_or_default().to_vec());
        }
        Ok(out)
    }

    fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<super::Entries, StoreError> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix(full_key(table, prefix)).take(limit) {
            let (k, v) = item.map_err(engine)?;
            out.push((k.get(1..).unwrap_or_default().to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn insert_if_absent(&self, table: Table, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        let swapped = self
            .db
            .compare_and_swap(full_key(table, key), None as Option<&[u8]>, Some(value))
            .map_err(engine)?;
        Ok(swapped.is_ok())
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        for (t, k, v) in batch.ops {
            match v {
                Some(v) => b.insert(full_key(t, &k), v),
                None => b.remove(full_key(t, &k)),
            }
        }
        self.db.apply_batch(b).map_err(engine)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(engine)
    }
}

//! Storage: a small key-value trait with a sled implementation and an
//! in-memory one for tests (spec/storage.md).
//!
//! Every record lives in one keyspace, its key prefixed by a [`Table`]
//! byte, so that a [`Batch`] touching several tables is applied atomically
//! by sled's `apply_batch`. Nothing is durable until [`Store::flush`]
//! returns: services call it before acknowledging anything.

pub mod keys;
mod memory;
mod sled_store;
pub mod vault;

pub use memory::MemoryStore;
pub use sled_store::SledStore;

use std::fmt;

/// The tables of the keyspace. The byte is part of the on-disk format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Table {
    /// Instance settings and schema version.
    Meta = 1,
    /// Entity id → entity record (JSON).
    Entity = 2,
    /// Entity slug → entity id.
    EntitySlug = 3,
    /// Staff id → staff record (JSON).
    Staff = 4,
    /// Login name → staff id.
    StaffLogin = 5,
    /// Thread id → thread record (JSON).
    Thread = 6,
    /// Entity id || thread id → empty: the entity's threads.
    EntityThread = 7,
    /// Thread id || slot → wrap record (binary, sealed under the storage key).
    Wrap = 8,
    /// Thread id || epoch (u32) → epoch link (binary).
    Link = 9,
    /// Thread id || seq (u32) → message record (binary).
    Message = 10,
    /// Thread id || attachment id → attachment record (binary).
    Attachment = 11,
    /// Thread id || attachment id || index (u32) → chunk record (binary).
    Chunk = 12,
    /// Receipt lookup index (32) → thread id.
    ReceiptIndex = 13,
    /// Thread id → storage key (32): where keys lived before the file
    /// vault; moved out and deleted at start-up (spec/retention.md).
    Vault = 14,
    /// Token key id (32) → issuer key record (JSON, spec/tokens.md).
    IssuerKey = 15,
    /// Token key id (32) || BLAKE3 of the nonce (32) → empty: spent tokens.
    SpentToken = 16,
    /// Issuance code lookup (32) → code record (JSON).
    IssuanceCode = 17,
    /// Token key id (32) → retired key record (JSON, no secret): lets a
    /// token of an expired key be told apart from one never issued here.
    RetiredKey = 18,
    /// Scope name → policy (JSON).
    ScopePolicy = 19,
    /// Random key (16) → rank (u32) || audit entry: entries waiting for
    /// their day to end (spec/tlog.md, "Daily batches").
    AuditPending = 20,
    /// Leaf index (u64) → audit entry bytes (spec/tlog.md).
    AuditEntry = 21,
    /// Level (u8) || index (u64) → hash of a complete subtree (32).
    AuditNode = 22,
    /// Entity id (16) || kind → retention policy (JSON, spec/retention.md).
    RetentionPolicy = 23,
    /// BLAKE3 of an auditor's access token (32) → access record (JSON).
    AuditAccess = 24,
}

impl Table {
    /// Every table, for backups (spec/retention.md, "Backups").
    pub const ALL: [Table; 24] = [
        Table::Meta,
        Table::Entity,
        Table::EntitySlug,
        Table::Staff,
        Table::StaffLogin,
        Table::Thread,
        Table::EntityThread,
        Table::Wrap,
        Table::Link,
        Table::Message,
        Table::Attachment,
        Table::Chunk,
        Table::ReceiptIndex,
        Table::Vault,
        Table::IssuerKey,
        Table::SpentToken,
        Table::IssuanceCode,
        Table::RetiredKey,
        Table::ScopePolicy,
        Table::AuditPending,
        Table::AuditEntry,
        Table::AuditNode,
        Table::RetentionPolicy,
        Table::AuditAccess,
    ];

    /// The table with this byte.
    pub fn from_byte(b: u8) -> Option<Table> {
        Table::ALL.into_iter().find(|t| *t as u8 == b)
    }
}

/// A storage failure. Carries no key or value.
#[derive(Debug)]
pub enum StoreError {
    /// Another process holds the data directory (sled's lock).
    Locked,
    /// The storage engine reported an I/O or corruption error.
    Engine(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Locked => f.write_str("the data directory is in use by another process"),
            StoreError::Engine(e) => write!(f, "storage engine error: {e}"),
        }
    }
}
impl std::error::Error for StoreError {}

/// Writes applied together or not at all.
#[derive(Default)]
pub struct Batch {
    pub(crate) ops: Vec<(Table, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }
    pub fn put(&mut self, table: Table, key: impl AsRef<[u8]>, value: impl Into<Vec<u8>>) {
        self.ops
            .push((table, key.as_ref().to_vec(), Some(value.into())));
    }
    pub fn delete(&mut self, table: Table, key: impl AsRef<[u8]>) {
        self.ops.push((table, key.as_ref().to_vec(), None));
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Key-value pairs returned by a scan, keys without the table byte.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The storage the services use.
pub trait Store: Send + Sync + 'static {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` entries whose key starts with `prefix`, in key order,
    /// keys returned without the table byte.
    fn scan(&self, table: Table, prefix: &[u8], limit: usize) -> Result<Entries, StoreError>;
    /// Like [`Store::scan`], keys only: for sweeps over tables whose
    /// values are large (chunks), so they are never held all at once.
    fn scan_keys(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Writes `value` under `key` only if nothing is there, atomically
    /// with respect to every other writer; `true` if it was written.
    fn insert_if_absent(&self, table: Table, key: &[u8], value: &[u8]) -> Result<bool, StoreError>;
    /// Applies every write of `batch` atomically.
    fn apply(&self, batch: Batch) -> Result<(), StoreError>;
    /// Returns once everything applied so far is on disk.
    fn flush(&self) -> Result<(), StoreError>;
}

pub(crate) fn full_key(table: Table, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(table as u8);
    k.extend_from_slice(key);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(store: &dyn Store) {
        let mut b = Batch::new();
        b.put(Table::Thread, b"aa", b"1".to_vec());
        b.put(Table::Thread, b"ab", b"2".to_vec());
        b.put(Table::Message, b"aa", b"3".to_vec());
        store.apply(b).unwrap();
        store.flush().unwrap();
        assert_eq!(
            store.get(Table::Thread, b"aa").unwrap(),
            Some(b"1".to_vec())
        );
        let all = store.scan(Table::Thread, b"a", 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, b"aa".to_vec());
        assert_eq!(store.scan(Table::Thread, b"a", 1).unwrap().len(), 1);
        let mut d = Batch::new();
        d.delete(Table::Thread, b"aa");
        store.apply(d).unwrap();
        assert_eq!(store.get(Table::Thread, b"aa").unwrap(), None);
        assert!(store.insert_if_absent(Table::Thread, b"aa", b"4").unwrap());
        assert!(!store.insert_if_absent(Table::Thread, b"aa", b"5").unwrap());
        assert_eq!(
            store.get(Table::Thread, b"aa").unwrap(),
            Some(b"4".to_vec())
        );
        assert_eq!(
            store.get(Table::Message, b"aa").unwrap(),
            Some(b"3".to_vec())
        );
    }

    #[test]
    fn memory_store_behaves() {
        exercise(&MemoryStore::default());
    }

    #[test]
    fn sled_store_behaves_and_locks() {
        let dir = std::env::temp_dir().join(format!("buzon-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = SledStore::open(&dir).unwrap();
        exercise(&s);
        assert!(matches!(SledStore::open(&dir), Err(StoreError::Locked)));
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

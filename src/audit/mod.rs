//! The audit log: an append-only Merkle log (RFC 9162 shape) of retention
//! events with no content, signed as C2SP checkpoints (spec/tlog.md).
//!
//! Entries wait in `AuditPending` until the day they record has ended in
//! their entity's time zone, and are then appended in one shuffled batch,
//! so neither an entry's position nor the moment it appeared reveals a
//! time finer than the day. The tree's complete subtrees are stored in
//! `AuditNode`, so roots and proofs cost O(log² n) reads.

pub mod access;
pub mod scan;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::core::envelope::Id;
use crate::core::retention::{Entry, Event};
use crate::core::tlog::{self, Checkpoint, Hash, NoteSigner, TlogError};
use crate::core::zone::Zone;
use crate::platform::Entropy;
use crate::store::{Batch, Store, StoreError, Table};

const META_SEED: &[u8] = b"audit-signing-key";
const META_ORIGIN: &[u8] = b"audit-origin";
const META_SIZE: &[u8] = b"audit-size";
const META_CHECKPOINT: &[u8] = b"audit-checkpoint";

/// A copy of the whole log (`buzon audit export`), JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Export {
    pub v: u8,
    /// The signed checkpoint (a signed note) of exactly these entries.
    pub checkpoint: String,
    /// Every entry, standard base64 of the leaf bytes.
    pub entries: Vec<String>,
    /// Entries still waiting for their day to end when the export was
    /// made (not in the log yet): a restore applies and re-queues them,
    /// so a withdrawal made on the export's day is not undone.
    #[serde(default)]
    pub pending: Vec<String>,
}

/// Entries fetched per request at most.
pub const MAX_PAGE: u64 = 1000;

/// A failure of the audit log. Carries no entry contents.
#[derive(Debug)]
pub enum AuditError {
    Store(StoreError),
    /// The stored log is not what this code wrote.
    Corrupt(&'static str),
    /// A proof or range outside the log.
    Range,
    Tlog(TlogError),
    /// A log export offered to a restore does not fit (says why).
    Export(&'static str),
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Store(e) => write!(f, "{e}"),
            AuditError::Corrupt(what) => write!(f, "audit log corrupt: {what}"),
            AuditError::Range => f.write_str("outside the log"),
            AuditError::Tlog(e) => write!(f, "{e}"),
            AuditError::Export(why) => write!(f, "the log export cannot be used: {why}"),
        }
    }
}

impl std::error::Error for AuditError {}

impl From<StoreError> for AuditError {
    fn from(e: StoreError) -> Self {
        AuditError::Store(e)
    }
}

impl From<TlogError> for AuditError {
    fn from(e: TlogError) -> Self {
        AuditError::Tlog(e)
    }
}

/// Where a thread's entries go in a day's batch: entity and policy
/// entries first, then each thread's entries in the order they happened.
pub fn rank_of(event: &Event, thread_seq: u32) -> u32 {
    match event {
        Event::Entity { .. } => 0,
        Event::Policy { .. } | Event::IssuerKey { .. } | Event::StaffKey { .. } => 1,
        Event::Restored { .. } => 0,
        _ => 2u32.saturating_add(thread_seq),
    }
}

/// Adds an entry to a batch, to be appended once its day has ended. The
/// key is random so the pending table keeps no order either.
pub fn pending(b: &mut Batch, entropy: &dyn Entropy, rank: u32, entry: &Entry) {
    let key: [u8; 16] = crate::platform::random(entropy);
    let mut value = rank.to_be_bytes().to_vec();
    value.extend_from_slice(&entry.encode());
    b.put(Table::AuditPending, key, value);
}

/// A pending entry whose day has ended: its key, its (day, rank) and bytes.
type Due = (Vec<u8>, (crate::core::Day, u32), Vec<u8>);

/// The log over a store.
pub struct AuditLog {
    store: Arc<dyn Store>,
    entropy: Arc<dyn Entropy>,
    lock: Mutex<()>,
}

fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Complete subtrees in the store, plus those a batch is about to write.
struct StoredNodes<'a> {
    store: &'a dyn Store,
    fresh: HashMap<(u8, u64), Hash>,
}

impl tlog::Nodes for StoredNodes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, TlogError> {
        if let Some(h) = self.fresh.get(&(level, index)) {
            return Ok(*h);
        }
        let v = self
            .store
            .get(Table::AuditNode, &node_key(level, index))
            .map_err(|_| TlogError::MissingNode)?
            .ok_or(TlogError::MissingNode)?;
        <[u8; 32]>::try_from(v.as_slice()).map_err(|_| TlogError::MissingNode)
    }
}

/// What one batch appended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub entries: u64,
    pub size: u64,
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>, entropy: Arc<dyn Entropy>) -> AuditLog {
        AuditLog {
            store,
            entropy,
            lock: Mutex::new(()),
        }
    }

    /// The log's signer: its own Ed25519 key (not the entity-document
    /// key), and its origin line, both made on first use.
    pub fn signer(&self) -> Result<NoteSigner, AuditError> {
        let seed: [u8; 32] = match self.store.get(Table::Meta, META_SEED)? {
            Some(v) => v
                .as_slice()
                .try_into()
                .map_err(|_| AuditError::Corrupt("signing key"))?,
            None => {
                let seed: [u8; 32] = crate::platform::random(self.entropy.as_ref());
                let mut b = Batch::new();
                b.put(Table::Meta, META_SEED, seed.to_vec());
                self.store.apply(b)?;
                self.store.flush()?;
                seed
            }
        };
        let origin = match self.store.get(Table::Meta, META_ORIGIN)? {
            Some(v) => String::from_utf8(v).map_err(|_| AuditError::Corrupt("origin"))?,
            None => {
                let tag: [u8; 4] = crate::platform::random(self.entropy.as_ref());
                let origin = format!("buzon.audit/{}", hex::encode(tag));
                let mut b = Batch::new();
                b.put(Table::Meta, META_ORIGIN, origin.as_bytes().to_vec());
                self.store.apply(b)?;
                self.store.flush()?;
                origin
            }
        };
        let signer = NoteSigner::new(&origin, &seed)?;
        Ok(signer)
    }

    /// The verifier key auditors pass to `buzon audit verify --key`.
    pub fn verifier_key(&self) -> Result<String, AuditError> {
        Ok(self.signer()?.verifier_key())
    }

    /// Entries in the log.
    pub fn size(&self) -> Result<u64, AuditError> {
        match self.store.get(Table::Meta, META_SIZE)? {
            None => Ok(0),
            Some(v) => Ok(u64::from_be_bytes(
                v.as_slice()
                    .try_into()
                    .map_err(|_| AuditError::Corrupt("size"))?,
            )),
        }
    }

    /// The latest signed checkpoint (a signed note), made if none exists.
    pub fn checkpoint(&self) -> Result<String, AuditError> {
        if let Some(v) = self.store.get(Table::Meta, META_CHECKPOINT)? {
            return String::from_utf8(v).map_err(|_| AuditError::Corrupt("checkpoint"));
        }
        let _l = self.lock.lock().map_err(|_| AuditError::Corrupt("lock"))?;
        let size = self.size()?;
        let nodes = StoredNodes {
            store: self.store.as_ref(),
            fresh: HashMap::new(),
        };
        let note = self.sign(&nodes, size)?;
        let mut b = Batch::new();
        b.put(Table::Meta, META_CHECKPOINT, note.as_bytes().to_vec());
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(note)
    }

    fn sign(&self, nodes: &dyn tlog::Nodes, size: u64) -> Result<String, AuditError> {
        let signer = self.signer()?;
        let root = if size == 0 {
            tlog::empty_root()
        } else {
            tlog::root(nodes, size)?
        };
        let cp = Checkpoint {
            origin: signer.name().to_string(),
            size,
            root,
            extensions: Vec::new(),
        };
        Ok(signer.sign(&cp.body())?)
    }

    /// The root of the whole log now.
    pub fn root(&self) -> Result<Hash, AuditError> {
        let size = self.size()?;
        if size == 0 {
            return Ok(tlog::empty_root());
        }
        let nodes = StoredNodes {
            store: self.store.as_ref(),
            fresh: HashMap::new(),
        };
        Ok(tlog::root(&nodes, size)?)
    }

    /// The whole log and its checkpoint, for a copy kept apart from the
    /// data (`buzon audit export`): a restore from an older backup takes
    /// it to re-apply what happened after the backup.
    pub fn export(&self) -> Result<Export, AuditError> {
        use base64::Engine;
        // Made first if none exists; then entries and checkpoint are read
        // under the lock, so no batch lands between them.
        self.checkpoint()?;
        let _l = self.lock.lock().map_err(|_| AuditError::Corrupt("lock"))?;
        let checkpoint = String::from_utf8(
            self.store
                .get(Table::Meta, META_CHECKPOINT)?
                .ok_or(AuditError::Corrupt("checkpoint"))?,
        )
        .map_err(|_| AuditError::Corrupt("checkpoint"))?;
        let entries = self
            .all_entries()?
            .iter()
            .map(|e| base64::engine::general_purpose::STANDARD.encode(e))
            .collect();
        let mut pending = Vec::new();
        for (_, value) in self.store.scan(Table::AuditPending, &[], usize::MAX)? {
            if let Some(bytes) = value.get(4..) {
                pending.push(base64::engine::general_purpose::STANDARD.encode(bytes));
            }
        }
        Ok(Export {
            v: 1,
            checkpoint,
            entries,
            pending,
        })
    }

    /// Appends entries now (restores only: they are not reporter activity,
    /// so they do not wait for a daily batch), and signs a checkpoint.
    fn append_now(&self, list: &[Vec<u8>], note: Option<String>) -> Result<u64, AuditError> {
        let _l = self.lock.lock().map_err(|_| AuditError::Corrupt("lock"))?;
        let mut size = self.size()?;
        let mut nodes = StoredNodes {
            store: self.store.as_ref(),
            fresh: HashMap::new(),
        };
        let mut b = Batch::new();
        for bytes in list {
            let leaf = tlog::leaf_hash(bytes);
            for (level, index, hash) in tlog::append(&nodes, size, leaf)? {
                nodes.fresh.insert((level, index), hash);
                b.put(Table::AuditNode, node_key(level, index), hash.to_vec());
            }
            b.put(Table::AuditEntry, size.to_be_bytes(), bytes.clone());
            size += 1;
        }
        let note = match note {
            Some(n) => n,
            None => self.sign(&nodes, size)?,
        };
        b.put(Table::Meta, META_SIZE, size.to_be_bytes().to_vec());
        b.put(Table::Meta, META_CHECKPOINT, note.as_bytes().to_vec());
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(size)
    }

    /// Takes the entries a newer export holds beyond this (restored) log:
    /// the export must be signed by this log's key, hash to its own
    /// checkpoint, and begin with exactly this log. Returns them decoded.
    pub fn import_after(
        &self,
        export: &Export,
        size: u64,
        root: &Hash,
    ) -> Result<Vec<Entry>, AuditError> {
        use base64::Engine;
        if self.size()? != size || self.root()? != *root {
            return Err(AuditError::Corrupt("the restored log is not the backup's"));
        }
        let verifier = self.signer()?.verifier();
        let text = verifier
            .open(&export.checkpoint)
            .map_err(|_| AuditError::Export("its checkpoint is not signed by this log's key"))?;
        let cp = Checkpoint::parse(&text)
            .map_err(|_| AuditError::Export("its checkpoint does not parse"))?;
        let mut raw = Vec::with_capacity(export.entries.len());
        let mut tree = tlog::MemoryTree::new();
        for e in &export.entries {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(e)
                .map_err(|_| AuditError::Export("an entry is not base64"))?;
            tree.push(&bytes);
            raw.push(bytes);
            if tree.size() == size && tree.root() != *root {
                return Err(AuditError::Export(
                    "it does not begin with the backup's log",
                ));
            }
        }
        if tree.size() != cp.size || tree.root() != cp.root {
            return Err(AuditError::Export(
                "its entries do not match its checkpoint",
            ));
        }
        if cp.size < size {
            return Err(AuditError::Export("it is older than the backup"));
        }
        let newer: Vec<Vec<u8>> = raw.split_off(size as usize);
        let mut decoded = Vec::with_capacity(newer.len());
        for bytes in &newer {
            decoded.push(
                Entry::decode(bytes).map_err(|_| AuditError::Export("an entry does not decode"))?,
            );
        }
        if !newer.is_empty() {
            self.append_now(&newer, Some(export.checkpoint.clone()))?;
            // Entries still pending in the backup that the live log
            // appended afterwards are in the export now: not twice.
            let appended: std::collections::HashSet<&[u8]> =
                newer.iter().map(Vec::as_slice).collect();
            let mut b = Batch::new();
            for (key, value) in self.store.scan(Table::AuditPending, &[], usize::MAX)? {
                if value.get(4..).is_some_and(|e| appended.contains(e)) {
                    b.delete(Table::AuditPending, key);
                }
            }
            if !b.is_empty() {
                self.store.apply(b)?;
                self.store.flush()?;
            }
        }
        Ok(decoded)
    }

    /// Queues an export's pending entries in this (restored) log, unless
    /// already pending here; returns them decoded.
    pub fn import_pending(&self, export: &Export) -> Result<Vec<Entry>, AuditError> {
        use base64::Engine;
        let mut have = std::collections::HashSet::new();
        for (_, value) in self.store.scan(Table::AuditPending, &[], usize::MAX)? {
            if let Some(bytes) = value.get(4..) {
                have.insert(bytes.to_vec());
            }
        }
        let mut out = Vec::new();
        let mut b = Batch::new();
        for (i, e) in export.pending.iter().enumerate() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(e)
                .map_err(|_| AuditError::Export("a pending entry is not base64"))?;
            let entry = Entry::decode(&bytes)
                .map_err(|_| AuditError::Export("a pending entry does not decode"))?;
            if !have.contains(&bytes) {
                // Deletions last within their day, the rest in export order.
                let rank = match entry.event {
                    Event::Deleted { .. } => u32::MAX - 1,
                    _ => rank_of(&entry.event, u32::try_from(i).unwrap_or(u32::MAX - 2)),
                };
                pending(&mut b, self.entropy.as_ref(), rank, &entry);
            }
            out.push(entry);
        }
        if !b.is_empty() {
            self.store.apply(b)?;
            self.store.flush()?;
        }
        Ok(out)
    }

    /// Records a restore in the log at once: the backup's log size, root
    /// and day. An auditor holding a later checkpoint sees the log fork.
    pub fn append_restored(
        &self,
        size: u64,
        root: Hash,
        backup_day: crate::core::Day,
        today: crate::core::Day,
    ) -> Result<u64, AuditError> {
        let entry = Entry {
            day: today,
            event: Event::Restored {
                size,
                root: crate::core::retention::LogRoot(root),
                backup_day,
            },
        };
        self.append_now(&[entry.encode()], None)
    }

    /// Entries still waiting for their day to end.
    pub fn pending_count(&self) -> Result<usize, AuditError> {
        Ok(self
            .store
            .scan_keys(Table::AuditPending, &[], usize::MAX)?
            .len())
    }

    /// Appends, in one shuffled batch, every pending entry whose day has
    /// ended in its entity's zone (`zone_of`; UTC for entries with no
    /// entity), signs a new checkpoint, and flushes. Idempotent: entries
    /// leave the pending table in the batch that appends them.
    pub fn append_due(
        &self,
        now_unix: u64,
        zone_of: &dyn Fn(&Id) -> Zone,
    ) -> Result<Appended, AuditError> {
        let _l = self.lock.lock().map_err(|_| AuditError::Corrupt("lock"))?;
        let mut due: Vec<Due> = Vec::new();
        let mut zones: HashMap<Id, Zone> = HashMap::new();
        for (key, value) in self.store.scan(Table::AuditPending, &[], usize::MAX)? {
            let (rank, bytes) = value
                .split_first_chunk::<4>()
                .ok_or(AuditError::Corrupt("pending entry"))?;
            let entry = Entry::decode(bytes).map_err(|_| AuditError::Corrupt("pending entry"))?;
            let today = match entry.event.entity() {
                Some(e) => {
                    let id = Id(e.0);
                    zones
                        .entry(id)
                        .or_insert_with(|| zone_of(&id))
                        .day(now_unix)
                }
                None => crate::core::Day::from_unix_seconds(now_unix),
            };
            if entry.day < today {
                due.push((key, (entry.day, u32::from_be_bytes(*rank)), bytes.to_vec()));
            }
        }
        let mut size = self.size()?;
        if due.is_empty() {
            return Ok(Appended { entries: 0, size });
        }
        // Fisher–Yates with the service's entropy, then a stable sort by
        // day and rank (several days wait together after a pause): the
        // order inside one day and rank says nothing about time.
        for i in (1..due.len()).rev() {
            let r: [u8; 8] = crate::platform::random(self.entropy.as_ref());
            let j = (u64::from_le_bytes(r) % (i as u64 + 1)) as usize;
            due.swap(i, j);
        }
        due.sort_by_key(|(_, rank, _)| *rank);
        let mut nodes = StoredNodes {
            store: self.store.as_ref(),
            fresh: HashMap::new(),
        };
        let mut b = Batch::new();
        let count = due.len() as u64;
        for (key, _, bytes) in due {
            let leaf = tlog::leaf_hash(&bytes);
            for (level, index, hash) in tlog::append(&nodes, size, leaf)? {
                nodes.fresh.insert((level, index), hash);
                b.put(Table::AuditNode, node_key(level, index), hash.to_vec());
            }
            b.put(Table::AuditEntry, size.to_be_bytes(), bytes);
            b.delete(Table::AuditPending, key);
            size += 1;
        }
        let note = self.sign(&nodes, size)?;
        b.put(Table::Meta, META_SIZE, size.to_be_bytes().to_vec());
        b.put(Table::Meta, META_CHECKPOINT, note.as_bytes().to_vec());
        self.store.apply(b)?;
        self.store.flush()?;
        Ok(Appended {
            entries: count,
            size,
        })
    }

    /// Entries `start..end` (at most [`MAX_PAGE`]), as stored.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, AuditError> {
        let size = self.size()?;
        if start > end || end > size || end - start > MAX_PAGE {
            return Err(AuditError::Range);
        }
        let mut out = Vec::with_capacity((end - start) as usize);
        for i in start..end {
            out.push(
                self.store
                    .get(Table::AuditEntry, &i.to_be_bytes())?
                    .ok_or(AuditError::Corrupt("missing entry"))?,
            );
        }
        Ok(out)
    }

    /// RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, AuditError> {
        if index >= size || size > self.size()? {
            return Err(AuditError::Range);
        }
        let nodes = StoredNodes {
            store: self.store.as_ref(),
            fresh: HashMap::new(),
        };
        Ok(tlog::inclusion_proof(&nodes, index, size)?)
    }

    /// RFC 9162 §2.1.4 consistency proof between two sizes.
    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, AuditError> {
        if old > new || new > self.size()? {
            return Err(AuditError::Range);
        }
        let nodes = StoredNodes {
            store: self.store.as_ref(),
            fresh: HashMap::new(),
        };
        Ok(tlog::consistency_proof(&nodes, old, new)?)
    }

    /// Every entry and its position, for `buzon audit scan` (host-side).
    pub fn all_entries(&self) -> Result<Vec<Vec<u8>>, AuditError> {
        let size = self.size()?;
        let mut out = Vec::new();
        let mut start = 0;
        while start < size {
            let end = (start + MAX_PAGE).min(size);
            out.extend(self.entries(start, end)?);
            start = end;
        }
        Ok(out)
    }

    /// Holds the log still (a backup's snapshot): no batch is appended
    /// while the guard lives.
    pub fn hold(&self) -> Result<std::sync::MutexGuard<'_, ()>, AuditError> {
        self.lock.lock().map_err(|_| AuditError::Corrupt("lock"))
    }

    /// Pending entries (decoded), for the host-side scan.
    pub fn pending_entries(&self) -> Result<Vec<Entry>, AuditError> {
        let mut out = Vec::new();
        for (_, value) in self.store.scan(Table::AuditPending, &[], usize::MAX)? {
            let (_, bytes) = value
                .split_first_chunk::<4>()
                .ok_or(AuditError::Corrupt("pending entry"))?;
            out.push(Entry::decode(bytes).map_err(|_| AuditError::Corrupt("pending entry"))?);
        }
        Ok(out)
    }
}

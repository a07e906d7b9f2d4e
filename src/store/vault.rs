//! The key vault: each thread's storage key `SK`, kept in two small files
//! of their own outside sled, so that removing a key destroys it on disk
//! (crypto-shredding; spec/storage.md, "Key vault").
//!
//! # Why not sled
//!
//! sled is log-structured: a delete writes a tombstone and leaves the old
//! value in older segments. A key deleted there is still on the disk. The
//! vault instead encrypts every `SK` under a *vault key*, and destroys keys
//! by re-encrypting the survivors under a fresh vault key and then
//! overwriting the old vault key **in place**. Old copies of the vault file
//! (the renamed-away file, stale blocks the file system left behind) stay
//! on the disk but can no longer be decrypted. Only 72 bytes must really be
//! overwritten for a removal to hold, and they always live at the same
//! offset of the same file.
//!
//! Parties: the server process alone. Nothing here is visible to reporters
//! or staff; the vault key never leaves this module and the key file.
//!
//! # Files
//!
//! The caller passes a directory (`<data>/vault/`); it holds:
//!
//! **`key`**, 8192 bytes, created once and then only overwritten in place
//! (opened without truncation, written at an offset, `sync_data`), never
//! renamed, truncated or recreated, so each vault key has exactly one
//! place on the disk. Two slots, each at the start of its own 4096-byte
//! block, so writing one never rewrites the page holding the other:
//!
//! ```text
//! offset 0     slot 0: holds even generations
//! offset 4096  slot 1: holds odd generations
//! slot (72 bytes, rest of the block zero):
//!   generation  u64 big-endian  (8)    1, 2, 3, ...; generation g sits in slot g mod 2
//!   vault key                   (32)
//!   check                       (32)   BLAKE3 derive_key("buzon vault key slot v1",
//!                                        generation || vault key)
//! ```
//!
//! A slot whose check fails (torn write, or overwritten with random bytes,
//! which is how a slot is destroyed) is empty.
//!
//! **`vault`**, a header and then fixed-size records, replaced only whole
//! (written as `vault.new`, synced, renamed over `vault`):
//!
//! ```text
//! header (21 bytes):
//!   magic       "buzon-vault\0"  (12)
//!   version     u8               (1)    1
//!   generation  u64 big-endian   (8)    which key-file slot opens it
//! record i = 0, 1, ... (93 bytes each):
//!   length      u32 big-endian   (4)    89, the length of what follows
//!   nonce                        (24)   random
//!   ciphertext                   (49)   XChaCha20-Poly1305 under the vault key of
//!   tag                          (16)     `generation`, AAD = header || i (u64 BE)
//! plaintext (49 bytes):
//!   op          u8               (1)    1 = put
//!   thread id                    (16)
//!   storage key                  (32)
//! ```
//!
//! The record index in the AAD binds each record to its place, so records
//! cannot be reordered, duplicated or dropped from the middle without the
//! file failing to open; dropping whole records from the end looks like a
//! crash before they were written and is not detected (the file system is
//! trusted to keep what `sync_data` confirmed). Two changes from the first
//! design: the AAD carries the index, not only the header; and there is no
//! "remove" record: a logged removal would leave the key readable in the
//! file, so every removal rewrites the file instead, and any op other than
//! 1 is corruption. Every id appears at most once.
//!
//! # Operations and what a crash leaves
//!
//! [`Vault::put`] seals one record, appends it at the end of the last good
//! record, and calls `sync_data`; only then does it insert the key in
//! memory and return, and only then may the caller acknowledge. A crash
//! during the append can damage only that last record, which nobody was
//! told about: [`Vault::open`] drops a damaged final record (one that is
//! short or does not open and ends within 93 bytes of the end of the file)
//! and then rewrites the vault under a fresh key, so the torn bytes are
//! left under a destroyed key and never sit before a later append. A
//! damaged record anywhere else is [`VaultError::Corrupt`]. If an append
//! fails while the server runs, the vault is marked dirty and the next
//! change first rewrites it from memory, so nothing is ever appended after
//! a possibly partial record.
//!
//! [`Vault::remove`] (and [`Vault::rewrite`], which is a removal of
//! nothing) moves from generation `g` (key `K`) to `g+1` (fresh key `K'`):
//!
//! 1. write `g+1 || K' || check` into the slot *not* holding `g`,
//!    `sync_data`. A crash before or during this leaves the old vault and
//!    `K` intact: the old state, all keys; a torn slot is just empty.
//! 2. write the surviving keys sealed under `K'` to `vault.new`,
//!    `sync_all`. A crash leaves `vault` (generation `g`) and slot `g`:
//!    the old state. Open destroys slot `g+1` and deletes `vault.new`.
//! 3. rename `vault.new` over `vault`. A crash before the rename reaches
//!    the disk: the old state; after: the new state (the rename is atomic).
//! 4. fsync the directory, making the rename durable. Until this returns,
//!    slot `g` is left alone, so whichever file the rename left is readable.
//! 5. overwrite slot `g` with random bytes, `sync_data`. A crash before or
//!    during this leaves the new vault and slot `g+1`, plus `K` possibly
//!    still in slot `g`: open overwrites that slot before it returns.
//!
//! So after a crash at any point, open finds either the old vault with
//! every key (the rename had not happened; the caller must retry the
//! removal, which the error it got, or never got, calls for) or the new
//! vault without the removed keys. Open always overwrites the slot that
//! does not open the current vault, finishing an interrupted step 5 and
//! undoing an interrupted step 1. `remove` returns `Ok` only after step 5:
//! then the removed keys are in no current file and the vault key that
//! sealed them is gone from the key file. If a step after the rename
//! fails, memory already follows the new file and the vault is marked
//! dirty, so the next change (or a retried `remove`) rewrites once more,
//! which overwrites the leftover slot.
//!
//! First use writes `vault` (generation 1, no records) through `vault.new`
//! and a rename, and only then creates `key`. So a vault file without a
//! usable key is an interrupted first use exactly when it is generation 1
//! and holds no records, and open starts over; in every other case (a key
//! file without a vault file, a vault with records and no key) it is
//! [`VaultError::Corrupt`], never a silent reset, and nothing is written
//! before the whole vault has been read and authenticated.
//!
//! # What a copy of the disk taken after a removal reveals
//!
//! Cannot reveal: a removed key. Its only copies on the disk are records
//! sealed under vault keys of earlier generations, and those vault keys
//! existed only in their key-file slot, which step 5 (or the next open)
//! overwrote. That holds for the current files, for the renamed-away vault
//! files, and for any of their stale blocks, because it does not depend on
//! those blocks being erased: only on the 72-byte slot being overwritten.
//!
//! Can reveal: the surviving keys (the current key file opens the current
//! vault; protecting live keys at rest is the job of disk encryption, not
//! of this module); the number of live keys (the file size); the
//! generation, which counts removals, compactions and crash recoveries
//! (how many, not which); the files' modification times; and the sizes of
//! earlier vault files if their stale blocks are found.
//!
//! # Limits
//!
//! - Overwriting in place is what the file system is asked for, not what
//!   the medium does. SSDs remap writes (wear levelling) and may keep the
//!   old block until it is erased; copy-on-write file systems (btrfs, ZFS)
//!   and snapshots (LVM, ZFS, VM images) keep old blocks by design; ext4
//!   with `data=journal` passes data through its journal; backups of the
//!   data directory keep old key files. On those, a removed key may be
//!   recoverable from the old key block plus an old vault copy. Full-disk
//!   encryption with its key outside the copy is the remedy. This limit
//!   belongs in spec/retention.md.
//! - Memory: keys live in memory while the vault is open (each in its own
//!   allocation, zeroed when removed or dropped); swap and core dumps are
//!   outside this module. The AEAD keeps a copy of the vault key on the
//!   stack while it runs.
//! - One `Vault` per directory at a time. The vault takes no lock of its
//!   own; the caller must hold the data directory's lock (sled's) first.
//! - At most [`MAX_ENTRIES`] keys; a vault file longer than
//!   [`MAX_FILE_LEN`] is refused. Open reads and decrypts every record,
//!   and a removal re-seals every survivor (each about 3.5 s per million
//!   keys on the development machine); all keys are held in memory.
//!   Removals should be batched: `remove` takes many ids at once.
//! - A removal interrupted by a crash before its rename leaves the keys in
//!   the vault until someone retries it. The caller should, at start,
//!   remove every id of [`Vault::ids`] that no live thread owns.
//! - A `put` that failed may still have reached the disk; it can reappear
//!   after a crash as a key nobody acknowledged (removing it is harmless).
//!   A second `put` of an id with a different key is refused
//!   ([`VaultError::Exists`]): replacing a key in place would leave the
//!   old one in the file; remove it first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::platform::Entropy;

/// The most keys a vault holds; a `put` beyond it is [`VaultError::Full`].
pub const MAX_ENTRIES: usize = 10_000_000;

/// The longest vault file [`Vault::open`] reads: a full vault plus one torn
/// record.
pub const MAX_FILE_LEN: u64 = (HEADER_LEN + (MAX_ENTRIES + 1) * RECORD_LEN) as u64;

const KEY_FILE: &str = "key";
const VAULT_FILE: &str = "vault";
const NEW_FILE: &str = "vault.new";

/// One slot per 4096-byte block of the key file.
const SLOT_BLOCK: usize = 4096;
const KEY_FILE_LEN: usize = 2 * SLOT_BLOCK;
/// generation (8) || vault key (32) || check (32).
const SLOT_LEN: usize = 8 + 32 + 32;
const SLOT_CONTEXT: &str = "buzon vault key slot v1";

const MAGIC: &[u8; 12] = b"buzon-vault\0";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 12 + 1 + 8;

const OP_PUT: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// op (1) || thread id (16) || storage key (32).
const PLAIN_LEN: usize = 1 + 16 + 32;
const SEALED_LEN: usize = NONCE_LEN + PLAIN_LEN + TAG_LEN;
/// length (4) || nonce || ciphertext || tag.
const RECORD_LEN: usize = 4 + SEALED_LEN;
const AAD_LEN: usize = HEADER_LEN + 8;

/// A vault failure. Carries no path, id or key bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultError {
    /// The operating system reported an I/O error of this kind.
    Io(io::ErrorKind),
    /// A vault file is damaged, missing, or not a vault file: what is wrong,
    /// in words that name no content.
    Corrupt(&'static str),
    /// `put` of an id that already holds a different key.
    Exists,
    /// The vault already holds [`MAX_ENTRIES`] keys.
    Full,
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::Io(kind) => write!(f, "key vault I/O error: {kind}"),
            VaultError::Corrupt(what) => write!(f, "key vault is corrupt: {what}"),
            VaultError::Exists => f.write_str("key vault already holds another key for this id"),
            VaultError::Full => f.write_str("key vault is full"),
        }
    }
}

impl std::error::Error for VaultError {}

impl From<io::Error> for VaultError {
    fn from(e: io::Error) -> Self {
        VaultError::Io(e.kind())
    }
}

/// The storage keys of all threads, durable and destroyable (see the
/// module documentation). All methods take `&self`; one internal mutex
/// orders them.
pub struct Vault {
    state: Mutex<State>,
    entropy: Arc<dyn Entropy>,
}

struct State {
    dir: PathBuf,
    key_file: File,
    generation: u64,
    vault_key: Zeroizing<[u8; 32]>,
    header: [u8; HEADER_LEN],
    /// The current vault file, read-write.
    file: File,
    /// End of the last good record: where the next one goes.
    file_len: u64,
    /// Records in the file: the index of the next one.
    records: u64,
    /// Each key boxed so rebalancing the map never copies key bytes around.
    map: BTreeMap<[u8; 16], Box<Zeroizing<[u8; 32]>>>,
    /// The file may not match memory (a failed append, or a failure after
    /// a rename): the next change rewrites the vault from memory first.
    dirty: bool,
    #[cfg(test)]
    crash_after: Option<Step>,
}

/// Where the test fault hook can stop an operation, as a crash would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Rewrite: before anything is written.
    Start,
    /// Rewrite: the new key is in its slot.
    SlotWritten,
    /// Rewrite: `vault.new` is written and synced.
    NewFileWritten,
    /// Rewrite: renamed, directory not yet synced.
    Renamed,
    /// Rewrite: the directory is synced, the old slot not yet overwritten.
    DirSynced,
    /// Rewrite: done.
    OldSlotDestroyed,
    /// Put: the record is written, not yet synced.
    Appended,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault in `dir`, creating the directory and both files on
    /// first use. Reads every record; drops a torn final record and then
    /// rewrites the vault; finishes or undoes an interrupted removal.
    /// `entropy` supplies every vault key and nonce.
    pub fn open(dir: &Path, entropy: Arc<dyn Entropy>) -> Result<Vault, VaultError> {
        create_dir(dir)?;
        let vault_file = open_existing(&dir.join(VAULT_FILE))?;
        let key_file = open_existing(&dir.join(KEY_FILE))?;
        let Some(vault_file) = vault_file else {
            if key_file.is_some() {
                return Err(VaultError::Corrupt("the vault file is missing"));
            }
            return Self::initialize(dir, entropy, None);
        };

        let file_len = vault_file.metadata()?.len();
        if file_len > MAX_FILE_LEN {
            return Err(VaultError::Corrupt("the vault file is too large"));
        }
        let mut reader = BufReader::with_capacity(1 << 16, &vault_file);
        let mut header = [0u8; HEADER_LEN];
        read_exact_or_corrupt(&mut reader, &mut header, "the vault header is short")?;
        let generation = parse_header(&header)?;

        let vault_key = match &key_file {
            Some(kf) => read_slot(kf, generation)?,
            None => None,
        };
        let Some(vault_key) = vault_key else {
            // Only an interrupted first use leaves a vault without its key,
            // and then the vault is generation 1 and empty: nothing to lose.
            if generation == 1 && file_len == HEADER_LEN as u64 {
                drop(reader);
                return Self::initialize(dir, entropy, key_file);
            }
            return Err(VaultError::Corrupt(if key_file.is_some() {
                "no valid key for the vault's generation"
            } else {
                "the key file is missing"
            }));
        };
        let Some(key_file) = key_file else {
            return Err(VaultError::Corrupt("the key file is missing"));
        };

        let loaded = load_records(&mut reader, file_len, &header, &vault_key)?;
        drop(reader);

        // Everything is read and authenticated; only now may anything be
        // written. The other slot holds either a destroyed key or one an
        // interrupted rewrite left (older: step 5; newer: steps 1–2).
        let other = generation.wrapping_add(1);
        write_block(&key_file, other, &destroyed_slot(entropy.as_ref()))?;
        remove_if_present(&dir.join(NEW_FILE))?;

        let state = State {
            dir: dir.to_path_buf(),
            key_file,
            generation,
            vault_key,
            header,
            file: vault_file,
            file_len: loaded.good_len,
            records: loaded.records,
            map: loaded.map,
            dirty: false,
            #[cfg(test)]
            crash_after: None,
        };
        let vault = Vault {
            state: Mutex::new(state),
            entropy,
        };
        if loaded.torn {
            vault.rewrite()?;
        }
        Ok(vault)
    }

    /// First use (or an interrupted one): an empty generation-1 vault file,
    /// then the key file. `key_file` is a key file already there, which is
    /// overwritten in place rather than recreated.
    fn initialize(
        dir: &Path,
        entropy: Arc<dyn Entropy>,
        key_file: Option<File>,
    ) -> Result<Vault, VaultError> {
        let generation = 1;
        let mut vault_key = Zeroizing::new([0u8; 32]);
        entropy.fill(vault_key.as_mut_slice());
        let header = header(generation);

        let new_path = dir.join(NEW_FILE);
        let file = create_file(&new_path, true)?;
        (&file).write_all(&header)?;
        file.sync_all()?;
        fs::rename(&new_path, dir.join(VAULT_FILE))?;
        sync_dir(dir)?;

        let key_file = match key_file {
            Some(f) => f,
            None => create_file(&dir.join(KEY_FILE), false)?,
        };
        let mut whole = Zeroizing::new([0u8; KEY_FILE_LEN]);
        for (i, block) in whole.chunks_exact_mut(SLOT_BLOCK).enumerate() {
            if i as u64 == generation % 2 {
                block.copy_from_slice(slot_block(generation, &vault_key).as_slice());
            } else {
                block.copy_from_slice(destroyed_slot(entropy.as_ref()).as_slice());
            }
        }
        (&key_file).seek(SeekFrom::Start(0))?;
        (&key_file).write_all(whole.as_slice())?;
        key_file.sync_all()?;
        sync_dir(dir)?;

        let state = State {
            dir: dir.to_path_buf(),
            key_file,
            generation,
            vault_key,
            header,
            file,
            file_len: HEADER_LEN as u64,
            records: 0,
            map: BTreeMap::new(),
            dirty: false,
            #[cfg(test)]
            crash_after: None,
        };
        Ok(Vault {
            state: Mutex::new(state),
            entropy,
        })
    }

    /// Stores `key` for thread `id`: one sealed record appended and synced.
    /// Once this returns `Ok` the key survives a crash, and the caller may
    /// acknowledge. Storing the same key again is `Ok`; a different key
    /// for an id already present is [`VaultError::Exists`].
    pub fn put(&self, id: [u8; 16], key: [u8; 32]) -> Result<(), VaultError> {
        let key = Zeroizing::new(key);
        let mut st = self.lock();
        if let Some(existing) = st.map.get(&id) {
            let same: &[u8; 32] = existing;
            return if same == &*key {
                Ok(())
            } else {
                Err(VaultError::Exists)
            };
        }
        if st.map.len() >= MAX_ENTRIES {
            return Err(VaultError::Full);
        }
        if st.dirty {
            self.rewrite_locked(&mut st, &BTreeSet::new())?;
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.entropy.fill(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&(*st.vault_key).into());
        let record = seal_record(&cipher, &st.header, st.records, &id, &key, nonce)?;
        if let Err(e) = append(&mut st, &record) {
            st.dirty = true;
            return Err(e);
        }
        st.file_len = st.file_len.saturating_add(RECORD_LEN as u64);
        st.records = st.records.saturating_add(1);
        st.map.insert(id, Box::new(key));
        Ok(())
    }

    /// The storage key of thread `id`, if the vault holds one.
    pub fn get(&self, id: &[u8; 16]) -> Option<Zeroizing<[u8; 32]>> {
        let st = self.lock();
        st.map.get(id).map(|k| {
            let bytes: &[u8; 32] = k;
            Zeroizing::new(*bytes)
        })
    }

    /// The ids of every key held, in ascending byte order.
    pub fn ids(&self) -> Vec<[u8; 16]> {
        self.lock().map.keys().copied().collect()
    }

    /// How many keys the vault holds.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the vault holds no key.
    pub fn is_empty(&self) -> bool {
        self.lock().map.is_empty()
    }

    /// Destroys the keys of `ids`: rewrites the vault without them under a
    /// fresh vault key and overwrites the old vault key (the five steps of
    /// the module documentation). `Ok` means the keys are in no current
    /// file and cannot be decrypted from old ones. Ids not present are
    /// ignored; if none is present (and no earlier failure is pending) the
    /// files are left alone. On an error, retry: after a crash the vault
    /// reopens either as before (keys still there) or with the keys gone.
    pub fn remove(&self, ids: &[[u8; 16]]) -> Result<(), VaultError> {
        let mut st = self.lock();
        let removed: BTreeSet<[u8; 16]> = ids
            .iter()
            .filter(|id| st.map.contains_key(*id))
            .copied()
            .collect();
        if removed.is_empty() && !st.dirty {
            return Ok(());
        }
        self.rewrite_locked(&mut st, &removed)
    }

    /// Rewrites the vault under a fresh vault key and destroys the old one:
    /// a removal of nothing. Open uses it after a torn append.
    pub fn rewrite(&self) -> Result<(), VaultError> {
        let mut st = self.lock();
        self.rewrite_locked(&mut st, &BTreeSet::new())
    }

    fn rewrite_locked(
        &self,
        st: &mut State,
        removed: &BTreeSet<[u8; 16]>,
    ) -> Result<(), VaultError> {
        let old_generation = st.generation;
        let generation = old_generation
            .checked_add(1)
            .ok_or(VaultError::Corrupt("the generation counter is exhausted"))?;
        let mut vault_key = Zeroizing::new([0u8; 32]);
        self.entropy.fill(vault_key.as_mut_slice());
        fault(st, Step::Start)?;

        // 1. The new key into the free slot.
        write_block(
            &st.key_file,
            generation,
            &slot_block(generation, &vault_key),
        )?;
        fault(st, Step::SlotWritten)?;

        // 2. The survivors, sealed under it, into vault.new.
        let header = header(generation);
        let new_path = st.dir.join(NEW_FILE);
        let file = create_file(&new_path, true)?;
        let cipher = XChaCha20Poly1305::new(&(*vault_key).into());
        let mut index: u64 = 0;
        {
            let mut out = BufWriter::with_capacity(1 << 16, &file);
            out.write_all(&header)?;
            for (id, key) in st.map.iter().filter(|(id, _)| !removed.contains(*id)) {
                let mut nonce = [0u8; NONCE_LEN];
                self.entropy.fill(&mut nonce);
                out.write_all(&seal_record(&cipher, &header, index, id, key, nonce)?)?;
                index = index.saturating_add(1);
            }
            out.flush()?;
        }
        file.sync_all()?;
        fault(st, Step::NewFileWritten)?;

        // 3. The switch. From here the directory holds the new vault, so
        // memory follows it at once (nothing between can fail or panic).
        fs::rename(&new_path, st.dir.join(VAULT_FILE))?;
        st.generation = generation;
        st.vault_key = vault_key;
        st.header = header;
        st.file = file;
        st.records = index;
        st.file_len = (HEADER_LEN as u64).saturating_add(index.saturating_mul(RECORD_LEN as u64));
        st.map.retain(|id, _| !removed.contains(id));
        st.dirty = true;
        fault(st, Step::Renamed)?;

        // 4. Make the rename durable before the old key is destroyed.
        sync_dir(&st.dir)?;
        fault(st, Step::DirSynced)?;

        // 5. Destroy the old vault key.
        write_block(
            &st.key_file,
            old_generation,
            &destroyed_slot(self.entropy.as_ref()),
        )?;
        st.dirty = false;
        fault(st, Step::OldSlotDestroyed)?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // A panic mid-operation may have left the file behind
                // memory; memory is the truth, so the next change rewrites.
                let mut guard = poisoned.into_inner();
                guard.dirty = true;
                self.state.clear_poison();
                guard
            }
        }
    }
}

/// The test fault hook: returns an error at `step` if asked to, as if the
/// process had died there (the caller then drops the vault and reopens).
#[cfg(test)]
fn fault(st: &State, step: Step) -> Result<(), VaultError> {
    if st.crash_after == Some(step) {
        return Err(VaultError::Io(io::ErrorKind::Interrupted));
    }
    Ok(())
}

#[cfg(not(test))]
#[inline(always)]
fn fault(_: &State, _: Step) -> Result<(), VaultError> {
    Ok(())
}

/// Appends one record after the last good one and syncs it.
fn append(st: &mut State, record: &[u8; RECORD_LEN]) -> Result<(), VaultError> {
    (&st.file).seek(SeekFrom::Start(st.file_len))?;
    (&st.file).write_all(record)?;
    fault(st, Step::Appended)?;
    st.file.sync_data()?;
    Ok(())
}

fn header(generation: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..12].copy_from_slice(MAGIC);
    h[12] = VERSION;
    h[13..].copy_from_slice(&generation.to_be_bytes());
    h
}

/// Reads the header (module documentation, "Files"): its generation.
fn parse_header(h: &[u8; HEADER_LEN]) -> Result<u64, VaultError> {
    let (magic, rest) = h
        .split_first_chunk::<12>()
        .ok_or(VaultError::Corrupt("header"))?;
    if magic != MAGIC {
        return Err(VaultError::Corrupt("not a vault file"));
    }
    let (version, generation) = rest.split_first().ok_or(VaultError::Corrupt("header"))?;
    if *version != VERSION {
        return Err(VaultError::Corrupt("unknown vault version"));
    }
    let generation: [u8; 8] = generation
        .try_into()
        .map_err(|_| VaultError::Corrupt("header"))?;
    let generation = u64::from_be_bytes(generation);
    if generation == 0 {
        return Err(VaultError::Corrupt("generation 0"));
    }
    Ok(generation)
}

fn aad(header: &[u8; HEADER_LEN], index: u64) -> [u8; AAD_LEN] {
    let mut a = [0u8; AAD_LEN];
    a[..HEADER_LEN].copy_from_slice(header);
    a[HEADER_LEN..].copy_from_slice(&index.to_be_bytes());
    a
}

/// Writes record `index` (module documentation, "Files").
fn seal_record(
    cipher: &XChaCha20Poly1305,
    header: &[u8; HEADER_LEN],
    index: u64,
    id: &[u8; 16],
    key: &[u8; 32],
    nonce: [u8; NONCE_LEN],
) -> Result<[u8; RECORD_LEN], VaultError> {
    let mut body = Zeroizing::new([0u8; PLAIN_LEN]);
    let b: &mut [u8; PLAIN_LEN] = &mut body;
    b[0] = OP_PUT;
    b[1..17].copy_from_slice(id);
    b[17..].copy_from_slice(key);
    // Fails only for messages beyond 2^38 bytes; the body is 49.
    let tag = cipher
        .encrypt_inout_detached(
            &XNonce::from(nonce),
            &aad(header, index),
            body.as_mut_slice().into(),
        )
        .map_err(|_| VaultError::Corrupt("a record could not be sealed"))?;
    let mut record = [0u8; RECORD_LEN];
    record[..4].copy_from_slice(&(SEALED_LEN as u32).to_be_bytes());
    record[4..4 + NONCE_LEN].copy_from_slice(&nonce);
    record[4 + NONCE_LEN..4 + NONCE_LEN + PLAIN_LEN].copy_from_slice(body.as_slice());
    record[4 + NONCE_LEN + PLAIN_LEN..].copy_from_slice(tag.as_slice());
    Ok(record)
}

/// Reads record `index`: its id and key, or `None` if it does not open.
fn open_record(
    cipher: &XChaCha20Poly1305,
    header: &[u8; HEADER_LEN],
    index: u64,
    record: &[u8; RECORD_LEN],
) -> Option<([u8; 16], Zeroizing<[u8; 32]>)> {
    let (len, rest) = record.split_first_chunk::<4>()?;
    if u32::from_be_bytes(*len) != SEALED_LEN as u32 {
        return None;
    }
    let (nonce, rest) = rest.split_first_chunk::<NONCE_LEN>()?;
    let (body, tag) = rest.split_first_chunk::<PLAIN_LEN>()?;
    let tag: [u8; TAG_LEN] = tag.try_into().ok()?;
    let mut body = Zeroizing::new(*body);
    cipher
        .decrypt_inout_detached(
            &XNonce::from(*nonce),
            &aad(header, index),
            body.as_mut_slice().into(),
            &Tag::from(tag),
        )
        .ok()?;
    let (op, rest) = body.split_first()?;
    if *op != OP_PUT {
        return None;
    }
    let (id, key) = rest.split_first_chunk::<16>()?;
    let mut out = Zeroizing::new([0u8; 32]);
    if key.len() != out.len() {
        return None;
    }
    out.copy_from_slice(key);
    Some((*id, out))
}

struct Loaded {
    map: BTreeMap<[u8; 16], Box<Zeroizing<[u8; 32]>>>,
    good_len: u64,
    records: u64,
    torn: bool,
}

/// Reads every record after the header. A record that is short or does
/// not open is a torn append if it is the last one (ends within one record
/// of the end of the file), and corruption otherwise.
fn load_records(
    reader: &mut impl Read,
    file_len: u64,
    header: &[u8; HEADER_LEN],
    vault_key: &[u8; 32],
) -> Result<Loaded, VaultError> {
    let cipher = XChaCha20Poly1305::new(&(*vault_key).into());
    let mut map = BTreeMap::new();
    let mut pos = HEADER_LEN as u64;
    let mut records: u64 = 0;
    let mut buf = Zeroizing::new([0u8; RECORD_LEN]);
    loop {
        let remaining = file_len.saturating_sub(pos);
        if remaining == 0 {
            return Ok(Loaded {
                map,
                good_len: pos,
                records,
                torn: false,
            });
        }
        let opened = if remaining >= RECORD_LEN as u64 {
            read_exact_or_corrupt(reader, buf.as_mut_slice(), "the vault file shrank")?;
            open_record(&cipher, header, records, &buf)
        } else {
            None
        };
        let Some((id, key)) = opened else {
            // Only the append under way at a crash can be damaged, and it
            // was never acknowledged.
            if remaining <= RECORD_LEN as u64 {
                return Ok(Loaded {
                    map,
                    good_len: pos,
                    records,
                    torn: true,
                });
            }
            return Err(VaultError::Corrupt("a vault record does not open"));
        };
        if map.len() >= MAX_ENTRIES {
            return Err(VaultError::Corrupt("too many records"));
        }
        if map.insert(id, Box::new(key)).is_some() {
            return Err(VaultError::Corrupt("an id appears twice"));
        }
        pos = pos.saturating_add(RECORD_LEN as u64);
        records = records.saturating_add(1);
    }
}

fn read_exact_or_corrupt(
    reader: &mut impl Read,
    buf: &mut [u8],
    what: &'static str,
) -> Result<(), VaultError> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => VaultError::Corrupt(what),
        kind => VaultError::Io(kind),
    })
}

fn check(generation: u64, key: &[u8; 32]) -> blake3::Hash {
    let mut h = blake3::Hasher::new_derive_key(SLOT_CONTEXT);
    h.update(&generation.to_be_bytes());
    h.update(key);
    h.finalize()
}

/// The key-file block holding `key` as `generation`.
fn slot_block(generation: u64, key: &[u8; 32]) -> Zeroizing<[u8; SLOT_BLOCK]> {
    let mut block = Zeroizing::new([0u8; SLOT_BLOCK]);
    let b: &mut [u8; SLOT_BLOCK] = &mut block;
    b[..8].copy_from_slice(&generation.to_be_bytes());
    b[8..40].copy_from_slice(key);
    b[40..SLOT_LEN].copy_from_slice(check(generation, key).as_bytes());
    block
}

/// A key-file block whose slot is random bytes: empty, and whatever it
/// held is overwritten.
fn destroyed_slot(entropy: &dyn Entropy) -> Zeroizing<[u8; SLOT_BLOCK]> {
    let mut block = Zeroizing::new([0u8; SLOT_BLOCK]);
    let b: &mut [u8; SLOT_BLOCK] = &mut block;
    entropy.fill(&mut b[..SLOT_LEN]);
    block
}

/// The vault key of `generation` from its slot, if that slot holds it.
fn parse_slot(block: &[u8], generation: u64) -> Option<Zeroizing<[u8; 32]>> {
    let (stored, rest) = block.split_first_chunk::<8>()?;
    let (key, rest) = rest.split_first_chunk::<32>()?;
    let (sum, _) = rest.split_first_chunk::<32>()?;
    if u64::from_be_bytes(*stored) != generation {
        return None;
    }
    let key = Zeroizing::new(*key);
    (check(generation, &key) == blake3::Hash::from_bytes(*sum)).then_some(key)
}

/// Reads the key file's slot for `generation`. A short file (interrupted
/// first use) has empty slots; a long one is not a key file.
fn read_slot(file: &File, generation: u64) -> Result<Option<Zeroizing<[u8; 32]>>, VaultError> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_FILE_LEN + 1));
    (&*file).seek(SeekFrom::Start(0))?;
    file.take(KEY_FILE_LEN as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > KEY_FILE_LEN {
        return Err(VaultError::Corrupt("the key file has the wrong size"));
    }
    let start = slot_offset(generation) as usize;
    Ok(bytes.get(start..).and_then(|b| parse_slot(b, generation)))
}

fn slot_offset(generation: u64) -> u64 {
    (generation % 2) * SLOT_BLOCK as u64
}

/// Overwrites the block of `generation`'s slot in place and syncs it.
fn write_block(file: &File, generation: u64, block: &[u8; SLOT_BLOCK]) -> Result<(), VaultError> {
    (&*file).seek(SeekFrom::Start(slot_offset(generation)))?;
    (&*file).write_all(block)?;
    file.sync_data()?;
    Ok(())
}

fn open_existing(path: &Path) -> Result<Option<File>, VaultError> {
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A new file readable by the owner only; `truncate` empties one already
/// there (a `vault.new` left by a crash).
fn create_file(path: &Path, truncate: bool) -> Result<File, VaultError> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    Ok(o.open(path)?)
}

fn remove_if_present(path: &Path) -> Result<(), VaultError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates `dir` (owner only) if needed, durably.
fn create_dir(dir: &Path) -> Result<(), VaultError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)?;
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p)?,
        _ => sync_dir(Path::new("."))?,
    }
    Ok(())
}

/// Makes renames and new names in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), VaultError> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Deterministic randomness, a fresh stream for every vault opened (a
    /// reopened vault must not draw the keys of an earlier run again).
    struct TestEntropy(Mutex<blake3::OutputReader>);

    impl Entropy for TestEntropy {
        fn fill(&self, out: &mut [u8]) {
            self.0.lock().unwrap().fill(out);
        }
    }

    fn entropy() -> Arc<dyn Entropy> {
        static STREAM: AtomicU64 = AtomicU64::new(0);
        let n = STREAM.fetch_add(1, Ordering::Relaxed);
        let mut h = blake3::Hasher::new_derive_key("buzon vault tests");
        h.update(&n.to_be_bytes());
        Arc::new(TestEntropy(Mutex::new(h.finalize_xof())))
    }

    fn id(n: u32) -> [u8; 16] {
        let h = blake3::hash(&[b"id".as_slice(), &n.to_be_bytes()].concat());
        h.as_bytes()[..16].try_into().unwrap()
    }

    fn key(n: u32) -> [u8; 32] {
        *blake3::hash(&[b"key".as_slice(), &n.to_be_bytes()].concat()).as_bytes()
    }

    fn ids_of(ns: &[u32]) -> Vec<[u8; 16]> {
        let mut v: Vec<_> = ns.iter().map(|&n| id(n)).collect();
        v.sort();
        v
    }

    fn fresh(n: u32) -> (tempfile::TempDir, PathBuf, Vault) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("vault");
        let v = Vault::open(&path, entropy()).unwrap();
        for i in 0..n {
            v.put(id(i), key(i)).unwrap();
        }
        (tmp, path, v)
    }

    fn reopen(path: &Path) -> Result<Vault, VaultError> {
        Vault::open(path, entropy())
    }

    /// Every file in the directory, by name.
    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    fn names(dir: &Path) -> Vec<String> {
        files(dir).into_keys().collect()
    }

    /// The slots of a key file that hold a key: (generation, vault key).
    fn valid_slots(key_file: &[u8]) -> Vec<(u64, [u8; 32])> {
        key_file
            .chunks(SLOT_BLOCK)
            .enumerate()
            .filter_map(|(i, block)| {
                let generation = u64::from_be_bytes(block.get(..8)?.try_into().ok()?);
                if generation % 2 != i as u64 {
                    return None;
                }
                parse_slot(block, generation).map(|k| (generation, *k))
            })
            .collect()
    }

    /// Decrypts a whole vault file with `vault_key`, as open would.
    fn decrypt(vault: &[u8], vault_key: &[u8; 32]) -> Option<BTreeMap<[u8; 16], [u8; 32]>> {
        let header: [u8; HEADER_LEN] = vault.get(..HEADER_LEN)?.try_into().ok()?;
        parse_header(&header).ok()?;
        let mut r = Cursor::new(vault.get(HEADER_LEN..)?);
        let loaded = load_records(&mut r, vault.len() as u64, &header, vault_key).ok()?;
        if loaded.torn {
            return None;
        }
        Some(loaded.map.into_iter().map(|(i, k)| (i, **k)).collect())
    }

    /// Tries every 32-byte window of every file as the vault key of `vault`.
    fn opens_with_anything_in(vault: &[u8], files: &BTreeMap<String, Vec<u8>>) -> bool {
        files.values().any(|bytes| {
            bytes
                .windows(32)
                .any(|w| decrypt(vault, w.try_into().unwrap()).is_some_and(|m| !m.is_empty()))
        })
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn set_crash(v: &Vault, step: Option<Step>) {
        v.lock().crash_after = step;
    }

    fn generation(v: &Vault) -> u64 {
        v.lock().generation
    }

    #[test]
    fn put_get_remove_and_reopen() {
        let (_tmp, path, v) = fresh(0);
        assert!(v.is_empty());
        for i in 0..5 {
            v.put(id(i), key(i)).unwrap();
        }
        assert_eq!(v.len(), 5);
        assert_eq!(*v.get(&id(3)).unwrap(), key(3));
        assert!(v.get(&id(9)).is_none());
        assert_eq!(v.ids(), ids_of(&[0, 1, 2, 3, 4]));

        v.remove(&[id(1), id(3)]).unwrap();
        assert!(v.get(&id(1)).is_none());
        assert!(v.get(&id(3)).is_none());
        v.put(id(7), key(7)).unwrap();
        assert_eq!(v.ids(), ids_of(&[0, 2, 4, 7]));
        drop(v);

        let v = reopen(&path).unwrap();
        assert_eq!(v.ids(), ids_of(&[0, 2, 4, 7]));
        for i in [0, 2, 4, 7] {
            assert_eq!(*v.get(&id(i)).unwrap(), key(i));
        }
        assert_eq!(names(&path), ["key", "vault"]);
        let f = files(&path);
        assert_eq!(f["key"].len(), KEY_FILE_LEN);
        assert_eq!(f["vault"].len(), HEADER_LEN + 4 * RECORD_LEN);
    }

    #[test]
    fn remove_is_idempotent() {
        let (_tmp, path, v) = fresh(2);
        let g = generation(&v);
        v.remove(&[id(9)]).unwrap();
        v.remove(&[]).unwrap();
        assert_eq!(generation(&v), g, "nothing to remove: files untouched");
        v.remove(&[id(0), id(0), id(9)]).unwrap();
        assert_eq!(generation(&v), g + 1);
        v.remove(&[id(0)]).unwrap();
        assert_eq!(generation(&v), g + 1);
        assert_eq!(v.ids(), ids_of(&[1]));
        drop(v);
        assert_eq!(reopen(&path).unwrap().ids(), ids_of(&[1]));
    }

    #[test]
    fn a_second_put_of_an_id_needs_the_same_key() {
        let (_tmp, path, v) = fresh(1);
        let len = v.lock().file_len;
        v.put(id(0), key(0)).unwrap();
        assert_eq!(v.lock().file_len, len, "the same key again appends nothing");
        assert_eq!(v.put(id(0), key(1)), Err(VaultError::Exists));
        assert_eq!(*v.get(&id(0)).unwrap(), key(0));
        v.remove(&[id(0)]).unwrap();
        v.put(id(0), key(1)).unwrap();
        drop(v);
        assert_eq!(*reopen(&path).unwrap().get(&id(0)).unwrap(), key(1));
    }

    #[test]
    fn removal_shreds_at_the_byte_level() {
        let (_tmp, path, v) = fresh(4);
        // A raw copy from before the removal: what stale blocks could give.
        let before = files(&path);
        let old_vault_key = *v.lock().vault_key;
        assert!(contains(&before["key"], &old_vault_key));
        assert!(
            opens_with_anything_in(&before["vault"], &before),
            "before the removal, the key file opens the vault"
        );

        v.remove(&[id(2)]).unwrap();
        let after = files(&path);
        assert_eq!(after.keys().collect::<Vec<_>>(), ["key", "vault"]);

        assert!(
            !opens_with_anything_in(&before["vault"], &after),
            "no bytes of the current files open the old vault"
        );
        for bytes in after.values() {
            assert!(!contains(bytes, &key(2)));
            assert!(!contains(bytes, &old_vault_key));
        }
        let slots = valid_slots(&after["key"]);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].0, 2);
        let now = decrypt(&after["vault"], &slots[0].1).unwrap();
        assert_eq!(now.keys().copied().collect::<Vec<_>>(), ids_of(&[0, 1, 3]));
        assert_eq!(now[&id(3)], key(3));
        // The old slot's block now holds other bytes where the key was.
        assert_ne!(after["key"][8..40], before["key"][8..40]);
    }

    const REWRITE_STEPS: [Step; 6] = [
        Step::Start,
        Step::SlotWritten,
        Step::NewFileWritten,
        Step::Renamed,
        Step::DirSynced,
        Step::OldSlotDestroyed,
    ];

    #[test]
    fn a_crash_at_any_step_of_a_removal_leaves_old_or_new() {
        for (k, step) in REWRITE_STEPS.into_iter().enumerate() {
            let renamed = k >= 3;
            for restart in [true, false] {
                let (_tmp, path, v) = fresh(4);
                let old_vault_key = *v.lock().vault_key;
                set_crash(&v, Some(step));
                assert!(v.remove(&[id(1)]).is_err(), "{step:?}");
                let v = if restart {
                    drop(v);
                    let v = reopen(&path).unwrap();
                    // Open cleaned up: one usable slot, no vault.new.
                    assert_eq!(names(&path), ["key", "vault"], "{step:?}");
                    let slots = valid_slots(&files(&path)["key"]);
                    assert_eq!(slots.len(), 1, "{step:?}");
                    assert_eq!(slots[0].0, generation(&v), "{step:?}");
                    if renamed {
                        assert!(!contains(&files(&path)["key"], &old_vault_key));
                    }
                    v
                } else {
                    set_crash(&v, None);
                    v
                };
                let expected: &[u32] = if renamed { &[0, 2, 3] } else { &[0, 1, 2, 3] };
                assert_eq!(v.ids(), ids_of(expected), "{step:?} restart={restart}");
                assert_eq!(generation(&v), if renamed { 2 } else { 1 });

                // Retrying converges: once it returns Ok, the old vault key
                // is gone from the disk, without waiting for a reopen.
                v.remove(&[id(1)]).unwrap();
                assert_eq!(v.ids(), ids_of(&[0, 2, 3]));
                let f = files(&path);
                assert_eq!(
                    valid_slots(&f["key"]).len(),
                    1,
                    "{step:?} restart={restart}"
                );
                assert!(
                    !contains(&f["key"], &old_vault_key),
                    "{step:?} restart={restart}"
                );
                assert_eq!(f.len(), 2);
                v.put(id(5), key(5)).unwrap();
                drop(v);
                let v = reopen(&path).unwrap();
                assert_eq!(v.ids(), ids_of(&[0, 2, 3, 5]), "{step:?} restart={restart}");
                assert_eq!(*v.get(&id(5)).unwrap(), key(5));
                let f = files(&path);
                assert_eq!(valid_slots(&f["key"]).len(), 1);
                assert!(!contains(&f["key"], &old_vault_key));
            }
        }
    }

    #[test]
    fn a_crash_in_the_rewrite_after_a_torn_append_is_also_safe() {
        for step in REWRITE_STEPS {
            let (_tmp, path, v) = fresh(3);
            drop(v);
            let vault = path.join(VAULT_FILE);
            let len = fs::metadata(&vault).unwrap().len();
            OpenOptions::new()
                .write(true)
                .open(&vault)
                .unwrap()
                .set_len(len - 10)
                .unwrap();
            // Open's own rewrite: drive it by hand with the fault hook.
            let v = reopen(&path).unwrap();
            set_crash(&v, Some(step));
            let _ = v.rewrite();
            drop(v);
            assert_eq!(reopen(&path).unwrap().ids(), ids_of(&[0, 1]), "{step:?}");
        }
    }

    #[test]
    fn a_torn_append_loses_only_the_unacknowledged_record() {
        enum Damage {
            Cut(u64),
            ZeroLast,
            Append(usize),
        }
        let cases = [
            (Damage::Cut(1), Some(&[0, 1][..]), true),
            (Damage::Cut(4), Some(&[0, 1]), true),
            (Damage::Cut(5), Some(&[0, 1]), true),
            (Damage::Cut(50), Some(&[0, 1]), true),
            (Damage::Cut(92), Some(&[0, 1]), true),
            (Damage::Cut(93), Some(&[0, 1]), false),
            (Damage::ZeroLast, Some(&[0, 1]), true),
            (Damage::Append(10), Some(&[0, 1, 2]), true),
            (Damage::Append(RECORD_LEN), Some(&[0, 1, 2]), true),
            (Damage::Append(RECORD_LEN + 1), None, false),
        ];
        for (damage, expected, rewritten) in cases {
            let (_tmp, path, v) = fresh(3);
            drop(v);
            let vault = path.join(VAULT_FILE);
            let mut bytes = fs::read(&vault).unwrap();
            match damage {
                Damage::Cut(n) => bytes.truncate(bytes.len() - n as usize),
                Damage::ZeroLast => {
                    let n = bytes.len();
                    bytes[n - RECORD_LEN..].fill(0);
                }
                Damage::Append(n) => bytes.extend(std::iter::repeat_n(0u8, n)),
            }
            fs::write(&vault, &bytes).unwrap();
            let Some(expected) = expected else {
                assert!(matches!(reopen(&path), Err(VaultError::Corrupt(_))));
                continue;
            };
            let v = reopen(&path).unwrap();
            assert_eq!(v.ids(), ids_of(expected));
            assert_eq!(generation(&v), if rewritten { 2 } else { 1 });
            let len = (HEADER_LEN + expected.len() * RECORD_LEN) as u64;
            assert_eq!(fs::metadata(&vault).unwrap().len(), len);
            v.put(id(9), key(9)).unwrap();
            drop(v);
            let v = reopen(&path).unwrap();
            assert_eq!(v.len(), expected.len() + 1);
            assert_eq!(generation(&v), if rewritten { 2 } else { 1 });
        }
    }

    #[test]
    fn a_failed_append_is_not_built_upon() {
        let (_tmp, path, v) = fresh(3);
        set_crash(&v, Some(Step::Appended));
        assert!(v.put(id(3), key(3)).is_err());
        set_crash(&v, None);
        assert!(v.lock().dirty);
        assert!(v.get(&id(3)).is_none());
        v.put(id(4), key(4)).unwrap();
        assert!(!v.lock().dirty);
        assert_eq!(generation(&v), 2, "the next put rewrote the vault first");
        drop(v);
        let v = reopen(&path).unwrap();
        assert_eq!(v.ids(), ids_of(&[0, 1, 2, 4]));
        assert_eq!(generation(&v), 2, "no torn record was found");
    }

    #[test]
    fn corruption_is_an_error_and_nothing_is_written() {
        fn flip(path: &Path, file: &str, at: usize) {
            let p = path.join(file);
            let mut b = fs::read(&p).unwrap();
            b[at] ^= 0x40;
            fs::write(&p, b).unwrap();
        }
        let record = |i: usize| HEADER_LEN + i * RECORD_LEN;
        type Damage = Box<dyn Fn(&Path)>;
        let cases: Vec<(&str, Damage)> = vec![
            (
                "record body",
                Box::new(move |p| flip(p, VAULT_FILE, record(0) + 40)),
            ),
            (
                "record length",
                Box::new(move |p| flip(p, VAULT_FILE, record(1) + 3)),
            ),
            ("magic", Box::new(|p| flip(p, VAULT_FILE, 0))),
            ("version", Box::new(|p| flip(p, VAULT_FILE, 12))),
            ("generation", Box::new(|p| flip(p, VAULT_FILE, 20))),
            (
                "current slot",
                Box::new(|p| flip(p, KEY_FILE, SLOT_BLOCK + 20)),
            ),
            (
                "both slots",
                Box::new(|p| {
                    flip(p, KEY_FILE, 20);
                    flip(p, KEY_FILE, SLOT_BLOCK + 20);
                }),
            ),
            (
                "swapped records",
                Box::new(move |p| {
                    let f = p.join(VAULT_FILE);
                    let mut b = fs::read(&f).unwrap();
                    let (a, c) = b[record(0)..record(2)].split_at_mut(RECORD_LEN);
                    a.swap_with_slice(c);
                    fs::write(&f, b).unwrap();
                }),
            ),
            (
                "long key file",
                Box::new(|p| {
                    let f = p.join(KEY_FILE);
                    let mut b = fs::read(&f).unwrap();
                    b.push(0);
                    fs::write(&f, b).unwrap();
                }),
            ),
            (
                "no key file",
                Box::new(|p| fs::remove_file(p.join(KEY_FILE)).unwrap()),
            ),
            (
                "no vault file",
                Box::new(|p| fs::remove_file(p.join(VAULT_FILE)).unwrap()),
            ),
        ];
        for (what, damage) in cases {
            let (_tmp, path, v) = fresh(3);
            drop(v);
            damage(&path);
            let before = files(&path);
            match reopen(&path) {
                Err(VaultError::Corrupt(_)) => {}
                other => panic!("{what}: {other:?}"),
            }
            assert_eq!(files(&path), before, "{what}: open wrote nothing");
        }

        // The other slot is not needed: damage there is harmless.
        let (_tmp, path, v) = fresh(3);
        drop(v);
        flip(&path, KEY_FILE, 20);
        assert_eq!(reopen(&path).unwrap().len(), 3);
    }

    #[test]
    fn an_interrupted_first_use_starts_over() {
        // The vault file is written first; the key file may then be
        // missing or short.
        let (_tmp, path, v) = fresh(0);
        drop(v);
        fs::remove_file(path.join(KEY_FILE)).unwrap();
        let v = reopen(&path).unwrap();
        v.put(id(0), key(0)).unwrap();
        drop(v);
        assert_eq!(reopen(&path).unwrap().len(), 1);

        let (_tmp, path, v) = fresh(0);
        drop(v);
        let k = OpenOptions::new()
            .write(true)
            .open(path.join(KEY_FILE))
            .unwrap();
        k.set_len(100).unwrap();
        fs::write(path.join(NEW_FILE), b"leftover").unwrap();
        let v = reopen(&path).unwrap();
        assert_eq!(names(&path), ["key", "vault"]);
        assert_eq!(
            fs::metadata(path.join(KEY_FILE)).unwrap().len(),
            KEY_FILE_LEN as u64
        );
        v.put(id(0), key(0)).unwrap();
        drop(v);
        assert_eq!(reopen(&path).unwrap().len(), 1);
    }

    #[test]
    fn concurrent_puts_and_removes_all_land() {
        let (_tmp, path, v) = fresh(0);
        let v = Arc::new(v);
        let threads: Vec<_> = (0..8u32)
            .map(|t| {
                let v = Arc::clone(&v);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let n = t * 1000 + i;
                        v.put(id(n), key(n)).unwrap();
                        if i % 10 == 9 {
                            v.remove(&[id(n - 1)]).unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let expected: Vec<u32> = (0..8u32)
            .flat_map(|t| (0..50).filter(|i| i % 10 != 8).map(move |i| t * 1000 + i))
            .collect();
        assert_eq!(v.ids(), ids_of(&expected));
        drop(v);
        let v = reopen(&path).unwrap();
        assert_eq!(v.ids(), ids_of(&expected));
        for n in expected {
            assert_eq!(*v.get(&id(n)).unwrap(), key(n));
        }
    }

    #[test]
    fn debug_and_errors_print_no_secrets() {
        let (_tmp, path, v) = fresh(1);
        assert_eq!(format!("{v:?}"), "Vault { .. }");
        drop(v);
        fs::remove_file(path.join(KEY_FILE)).unwrap();
        let e = reopen(&path).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(path.to_str().unwrap()));
        assert!(!shown.contains(&format!("{:x?}", &key(0)[..4])));
    }

    #[test]
    fn layouts_are_as_documented() {
        assert_eq!(HEADER_LEN, 21);
        assert_eq!(RECORD_LEN, 93);
        let h = header(0x0102_0304_0506_0708);
        assert_eq!(&h[..12], b"buzon-vault\0");
        assert_eq!(h[12], 1);
        assert_eq!(h[13..], [1, 2, 3, 4, 5, 6, 7, 8]);
        let b = slot_block(3, &[7; 32]);
        assert_eq!(b[..8], 3u64.to_be_bytes());
        assert_eq!(b[8..40], [7; 32]);
        assert!(b[SLOT_LEN..].iter().all(|&x| x == 0));
        assert!(parse_slot(&b[..], 3).is_some());
        assert!(parse_slot(&b[..], 5).is_none());
        let cipher = XChaCha20Poly1305::new(&[9u8; 32].into());
        let r = seal_record(&cipher, &h, 4, &[1; 16], &[2; 32], [3; 24]).unwrap();
        assert_eq!(r[..4], 89u32.to_be_bytes());
        assert_eq!(r[4..28], [3; 24]);
        let (i, k) = open_record(&cipher, &h, 4, &r).unwrap();
        assert_eq!((i, *k), ([1; 16], [2; 32]));
        assert!(open_record(&cipher, &h, 5, &r).is_none(), "index is bound");
        assert!(
            open_record(&cipher, &header(2), 4, &r).is_none(),
            "header is bound"
        );
    }

    fn arbitrary_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn garbage_files_never_panic(
            vault in arbitrary_bytes(400),
            key_file in arbitrary_bytes(KEY_FILE_LEN + 2),
            good_header in any::<bool>(),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("vault");
            fs::create_dir(&path).unwrap();
            let mut v = if good_header { header(1).to_vec() } else { Vec::new() };
            v.extend_from_slice(&vault);
            fs::write(path.join(VAULT_FILE), v).unwrap();
            fs::write(path.join(KEY_FILE), key_file).unwrap();
            let _ = reopen(&path);
        }

        #[test]
        fn damaged_vaults_never_panic_nor_invent_keys(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            cut in proptest::option::of(any::<usize>()),
            extra in arbitrary_bytes(200),
        ) {
            let (_tmp, path, v) = fresh(3);
            drop(v);
            let vault = path.join(VAULT_FILE);
            let mut vb = fs::read(&vault).unwrap();
            let mut kb = fs::read(path.join(KEY_FILE)).unwrap();
            for (at, x) in edits {
                let at = at % (vb.len() + kb.len());
                if at < vb.len() { vb[at] ^= x } else { kb[at - vb.len()] ^= x }
            }
            if let Some(c) = cut {
                vb.truncate(c % (vb.len() + 1));
            }
            vb.extend_from_slice(&extra);
            fs::write(&vault, vb).unwrap();
            fs::write(path.join(KEY_FILE), kb).unwrap();
            if let Ok(v) = reopen(&path) {
                for i in v.ids() {
                    let n = (0..3).find(|&n| id(n) == i);
                    prop_assert!(n.is_some());
                    prop_assert_eq!(*v.get(&i).unwrap(), key(n.unwrap()));
                }
            }
        }
    }

    /// Timings on this machine: `cargo test --release -- --ignored timings --nocapture`.
    #[test]
    #[ignore]
    fn timings() {
        use std::time::Instant;
        for n in [10_000u32, 100_000] {
            let (_tmp, path, v) = fresh(0);
            {
                let mut st = v.lock();
                for i in 0..n {
                    st.map.insert(id(i), Box::new(Zeroizing::new(key(i))));
                }
            }
            v.rewrite().unwrap();
            let rounds = 200;
            let t = Instant::now();
            for i in 0..rounds {
                v.put(id(n + i), key(n + i)).unwrap();
            }
            let put = t.elapsed() / rounds;
            let t = Instant::now();
            for i in 0..5 {
                v.remove(&[id(i)]).unwrap();
            }
            let remove = t.elapsed() / 5;
            drop(v);
            let t = Instant::now();
            let v = reopen(&path).unwrap();
            let open = t.elapsed();
            assert_eq!(v.len(), (n + rounds - 5) as usize);
            let size = fs::metadata(path.join(VAULT_FILE)).unwrap().len();
            println!(
                "{n} entries: put {put:?} (append + sync_data, mean of {rounds}); \
                 remove {remove:?} (mean of 5); open {open:?}; vault file {size} bytes"
            );
        }
    }
}

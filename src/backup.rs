//! Encrypted backups whose keys expire (spec/retention.md, "Backups").
//!
//! A backup is the whole sled keyspace and every storage key of the key
//! vault, sealed under a **backup key** kept in its own key vault (a
//! directory apart from the data, `[backup] keys`). A new backup key is
//! made every `key_days`; each is destroyed `keep_days` after its last day
//! of use, by every retention pass and every backup or restore that can
//! reach the key directory. A deletion is therefore final everywhere once
//! the last backup taken before it can no longer be opened: at most
//! `key_days + keep_days` days later. Reporters are shown that figure.
//!
//! File format (all integers big-endian):
//!
//! ```text
//! header  = "buzon-backup\0" (13) ‖ version 1 (1) ‖ key id (16) ‖ UTC day (4)
//! frame_i = length (4) ‖ seal(backup key, nonce, header ‖ i (8) ‖ last (1), records)
//! records = record*
//! record  = 'H' ‖ log size (8) ‖ log root (32)                   — first
//!         | 'E' ‖ table (1) ‖ key length (4) ‖ key ‖ value length (4) ‖ value
//!         | 'K' ‖ thread id (16) ‖ storage key (32)
//!         | 'Z' ‖ entries (8) ‖ keys (8)                          — last
//! key id  = made day (4) ‖ last day of use (4) ‖ destroy day (4) ‖ random (4)
//! ```
//!
//! Frames hold at most 1 MiB of records; the last frame says so in its
//! associated data, so a truncated file is refused, as is any frame out
//! of place. Restoring writes into a new directory, re-applies what a log
//! export recorded after the backup (deletions, closings, reopenings;
//! threads created later are logged as lost), and logs the restore, so an
//! auditor sees it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::core::Day;
use crate::core::seal;
use crate::core::secret::Key32;
use crate::platform::Entropy;
use crate::services::Services;
use crate::store::vault::Vault;
use crate::store::{Batch, Store, Table};

const MAGIC: &[u8; 13] = b"buzon-backup\0";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 13 + 1 + 16 + 4;
const FRAME_PLAIN: usize = 1 << 20;
/// Longest frame accepted when reading: 1 MiB of records, or one larger
/// record alone, plus sealing.
const FRAME_MAX: usize = 8 * FRAME_PLAIN;

/// Where backup keys live and how long they last.
#[derive(Clone, Debug)]
pub struct BackupSettings {
    /// The backup key vault: keep it on other storage than the data
    /// directory (a restore needs it; a copy of the data alone must not
    /// open a backup).
    pub keys_dir: PathBuf,
    /// Days one backup key is used for.
    pub key_days: u32,
    /// Days a backup key is kept after its last day of use.
    pub keep_days: u32,
}

impl BackupSettings {
    /// The longest a backup stays readable: a deletion is final
    /// everywhere this many days after it at the latest.
    pub fn horizon_days(&self) -> u32 {
        self.key_days.saturating_add(self.keep_days)
    }

    /// Defaults: a key a week, kept 30 days more, next to the data
    /// directory as `<data>-backup-keys`.
    pub fn default_for(data: &Path) -> BackupSettings {
        let name = data
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "buzon-data".into());
        let parent = data.parent().unwrap_or(Path::new("."));
        BackupSettings {
            keys_dir: parent.join(format!("{name}-backup-keys")),
            key_days: 7,
            keep_days: 30,
        }
    }
}

fn day_of(id: &[u8; 16], at: usize) -> Day {
    let mut b = [0u8; 4];
    if let Some(s) = id.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    Day(u32::from_be_bytes(b))
}

/// Destroys every backup key whose destroy day has come; returns how many.
pub fn destroy_expired(keys: &Vault, today: Day) -> Result<usize, String> {
    let expired: Vec<[u8; 16]> = keys
        .ids()
        .into_iter()
        .filter(|id| day_of(id, 8) <= today)
        .collect();
    if !expired.is_empty() {
        keys.remove(&expired)
            .map_err(|e| format!("backup keys: {e}"))?;
    }
    Ok(expired.len())
}

/// The backup key for today, made if none covers it.
fn current_key(
    keys: &Vault,
    settings: &BackupSettings,
    today: Day,
    entropy: &dyn Entropy,
) -> Result<([u8; 16], Zeroizing<[u8; 32]>), String> {
    for id in keys.ids() {
        if day_of(&id, 0) <= today && today <= day_of(&id, 4) {
            if let Some(k) = keys.get(&id) {
                return Ok((id, k));
            }
        }
    }
    let last = Day(today.0.saturating_add(settings.key_days.max(1) - 1));
    let destroy = Day(last.0.saturating_add(settings.keep_days).saturating_add(1));
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&today.0.to_be_bytes());
    id[4..8].copy_from_slice(&last.0.to_be_bytes());
    id[8..12].copy_from_slice(&destroy.0.to_be_bytes());
    let tail: [u8; 4] = crate::platform::random(entropy);
    id[12..].copy_from_slice(&tail);
    let key: [u8; 32] = crate::platform::random(entropy);
    keys.put(id, key).map_err(|e| format!("backup keys: {e}"))?;
    Ok((id, Zeroizing::new(key)))
}

/// Opens the backup key vault (creating it, owner-only).
pub fn open_keys(settings: &BackupSettings, entropy: Arc<dyn Entropy>) -> Result<Vault, String> {
    Vault::open(&settings.keys_dir, entropy)
        .map_err(|e| format!("backup keys at {}: {e}", settings.keys_dir.display()))
}

/// What a backup holds.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    pub entries: u64,
    pub keys: u64,
    pub log_size: u64,
    pub day: Day,
    /// The first day on which the backup can no longer be read.
    pub unreadable_from: Day,
}

struct FrameWriter<W: Write> {
    out: W,
    key: Key32,
    header: Vec<u8>,
    buf: Vec<u8>,
    index: u64,
    entropy: Arc<dyn Entropy>,
}

impl<W: Write> FrameWriter<W> {
    fn aad(&self, last: bool) -> Vec<u8> {
        let mut a = self.header.clone();
        a.extend_from_slice(&self.index.to_be_bytes());
        a.push(u8::from(last));
        a
    }

    fn flush_frame(&mut self, last: bool) -> std::io::Result<()> {
        let nonce = crate::platform::random(self.entropy.as_ref());
        let sealed = seal::seal(&self.key, nonce, &self.aad(last), &self.buf);
        let len = u32::try_from(sealed.len()).map_err(std::io::Error::other)?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(&sealed)?;
        self.buf.clear();
        self.index += 1;
        Ok(())
    }

    /// Adds a record; a frame is sealed before it would pass 1 MiB, so
    /// only a record larger than that (none is: sled values stay under
    /// 300 KiB) makes a frame alone.
    fn record(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if !self.buf.is_empty() && self.buf.len() + bytes.len() > FRAME_PLAIN {
            self.flush_frame(false)?;
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Writes a backup of everything to `out` (which must not exist). Holds
/// the SAADD write lock meanwhile, so no thread changes half-way.
pub async fn backup(
    services: &Services,
    settings: &BackupSettings,
    out: &Path,
) -> Result<BackupInfo, String> {
    if out.exists() {
        return Err(format!("{} exists: choose a new file name", out.display()));
    }
    let saadd = services.saadd.clone();
    let entropy = saadd.entropy().clone();
    let keys = open_keys(settings, entropy.clone())?;
    let today = saadd.today();
    destroy_expired(&keys, today)?;
    let (key_id, key) = current_key(&keys, settings, today, entropy.as_ref())?;
    let _w = saadd.write_lock().await;
    let store = saadd.store().clone();
    let audit = services.audit.clone();
    let vault = saadd.vault().clone();
    let out = out.to_path_buf();
    let tmp = out.with_extension("partial");
    let info = tokio::task::spawn_blocking(move || -> Result<BackupInfo, String> {
        // No daily batch while the tables are copied: the size and root
        // recorded here are those of the log in the backup.
        let _log = audit.hold().map_err(|e| e.to_string())?;
        let log_size = audit.size().map_err(|e| e.to_string())?;
        let log_root = audit.root().map_err(|e| e.to_string())?;
        let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&key_id);
        header.extend_from_slice(&today.0.to_be_bytes());
        let mut w = FrameWriter {
            out: std::io::BufWriter::new(file),
            key: Key32::from_bytes(*key),
            header: header.clone(),
            buf: Vec::new(),
            index: 0,
            entropy,
        };
        let io = |e: std::io::Error| format!("{}: {e}", tmp.display());
        w.out.write_all(&header).map_err(io)?;
        let mut h = vec![b'H'];
        h.extend_from_slice(&log_size.to_be_bytes());
        h.extend_from_slice(&log_root);
        w.record(&h).map_err(io)?;
        let mut entries = 0u64;
        for table in Table::ALL {
            // Keys first, values one by one: chunk tables are large.
            for k in store
                .scan_keys(table, &[], usize::MAX)
                .map_err(|e| e.to_string())?
            {
                let Some(v) = store.get(table, &k).map_err(|e| e.to_string())? else {
                    continue;
                };
                let mut r = vec![b'E', table as u8];
                put_bytes(&mut r, &k);
                put_bytes(&mut r, &v);
                w.record(&r).map_err(io)?;
                entries += 1;
            }
        }
        let mut nkeys = 0u64;
        for id in vault.ids() {
            if let Some(k) = vault.get(&id) {
                let mut r = Zeroizing::new(vec![b'K']);
                r.extend_from_slice(&id);
                r.extend_from_slice(&k[..]);
                w.record(&r).map_err(io)?;
                nkeys += 1;
            }
        }
        let mut z = vec![b'Z'];
        z.extend_from_slice(&entries.to_be_bytes());
        z.extend_from_slice(&nkeys.to_be_bytes());
        w.record(&z).map_err(io)?;
        w.flush_frame(true).map_err(io)?;
        let file = w.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, &out).map_err(io)?;
        if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(BackupInfo {
            entries,
            keys: nkeys,
            log_size,
            day: today,
            unreadable_from: day_of(&key_id, 8),
        })
    })
    .await
    .map_err(|_| "backup stopped".to_string())??;
    Ok(info)
}

/// The contents of a backup, decrypted, one record at a time.
pub struct BackupReader {
    file: std::io::BufReader<std::fs::File>,
    key: Key32,
    header: Vec<u8>,
    index: u64,
    plain: Vec<u8>,
    at: usize,
    done: bool,
    /// The backup's UTC day.
    pub day: Day,
    /// The first day its key is destroyed on.
    pub unreadable_from: Day,
}

/// One record of a backup.
pub enum Record {
    Log {
        size: u64,
        root: [u8; 32],
    },
    Entry {
        table: Table,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Key {
        id: [u8; 16],
        key: Zeroizing<[u8; 32]>,
    },
    End {
        entries: u64,
        keys: u64,
    },
}

impl BackupReader {
    /// Opens a backup with the key from the backup key vault.
    pub fn open(path: &Path, keys: &Vault) -> Result<BackupReader, String> {
        let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut file = std::io::BufReader::new(f);
        let mut header = vec![0u8; HEADER_LEN];
        file.read_exact(&mut header)
            .map_err(|_| "not a buzon backup (too short)".to_string())?;
        if header.get(..13) != Some(&MAGIC[..]) {
            return Err("not a buzon backup".into());
        }
        if header.get(13) != Some(&VERSION) {
            return Err("a backup of another format version".into());
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(header.get(14..30).unwrap_or(&[0u8; 16]));
        let day = Day(u32::from_be_bytes(
            header
                .get(30..34)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 4]),
        ));
        let unreadable_from = day_of(&id, 8);
        let Some(key) = keys.get(&id) else {
            return Err(format!(
                "the key of this backup (taken {}) is not in the backup key directory: it was destroyed on schedule (from {}) or the directory is not the right one. A backup whose key is destroyed can no longer be read: that is retention working.",
                day.iso(),
                unreadable_from.iso()
            ));
        };
        Ok(BackupReader {
            file,
            key: Key32::from_bytes(*key),
            header,
            index: 0,
            plain: Vec::new(),
            at: 0,
            done: false,
            day,
            unreadable_from,
        })
    }

    fn next_frame(&mut self) -> Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        let mut len = [0u8; 4];
        self.file
            .read_exact(&mut len)
            .map_err(|_| "the backup is cut short".to_string())?;
        let len = u32::from_be_bytes(len) as usize;
        if len > FRAME_MAX {
            return Err("the backup is damaged (a frame is too long)".into());
        }
        let mut sealed = vec![0u8; len];
        self.file
            .read_exact(&mut sealed)
            .map_err(|_| "the backup is cut short".to_string())?;
        for last in [false, true] {
            let mut aad = self.header.clone();
            aad.extend_from_slice(&self.index.to_be_bytes());
            aad.push(u8::from(last));
            if let Ok(p) = seal::open(&self.key, &aad, &sealed) {
                self.plain = p.expose().to_vec();
                self.at = 0;
                self.index += 1;
                self.done = last;
                return Ok(true);
            }
        }
        Err("the backup is damaged or was altered (a frame does not open)".into())
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let bad = || "the backup is damaged (a record runs past its frame)".to_string();
        let end = self.at.checked_add(n).ok_or_else(bad)?;
        let out = self.plain.get(self.at..end).ok_or_else(bad)?.to_vec();
        self.at = end;
        Ok(out)
    }

    fn take_u32(&mut self) -> Result<usize, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes(b.try_into().unwrap_or([0; 4])) as usize)
    }

    fn take_u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
    }

    /// The next record, or `None` after the last frame.
    pub fn next_record(&mut self) -> Result<Option<Record>, String> {
        while self.at >= self.plain.len() {
            if !self.next_frame()? {
                return Ok(None);
            }
        }
        let tag = self.take(1)?;
        match tag.first() {
            Some(b'H') => {
                let size = self.take_u64()?;
                let mut root = [0u8; 32];
                root.copy_from_slice(&self.take(32)?);
                Ok(Some(Record::Log { size, root }))
            }
            Some(b'E') => {
                let t = self.take(1)?;
                let table = t
                    .first()
                    .and_then(|b| Table::from_byte(*b))
                    .ok_or("the backup names an unknown table")?;
                let kl = self.take_u32()?;
                let key = self.take(kl)?;
                let vl = self.take_u32()?;
                let value = self.take(vl)?;
                Ok(Some(Record::Entry { table, key, value }))
            }
            Some(b'K') => {
                let mut id = [0u8; 16];
                id.copy_from_slice(&self.take(16)?);
                let mut key = Zeroizing::new([0u8; 32]);
                key.copy_from_slice(&self.take(32)?);
                Ok(Some(Record::Key { id, key }))
            }
            Some(b'Z') => {
                let entries = self.take_u64()?;
                let keys = self.take_u64()?;
                Ok(Some(Record::End { entries, keys }))
            }
            _ => Err("the backup is damaged (unknown record)".into()),
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, Default)]
pub struct RestoreInfo {
    pub entries: u64,
    pub keys: u64,
    pub backup_day: Day,
    /// Log entries the backup held.
    pub log_size: u64,
    /// Entries taken from a newer log export and re-applied.
    pub imported: u64,
    pub deleted: usize,
    pub lost: usize,
    pub policies: usize,
    pub staff_removed: usize,
    pub staff_rekey: usize,
}

/// What [`load`] leaves open for [`finish_restore`].
pub struct Loaded {
    pub info: RestoreInfo,
    /// The backup's log root.
    pub root: [u8; 32],
    pub store: crate::store::SledStore,
    pub vault: Vault,
}

/// Loads a backup into `data`, which must be new or empty: sled entries
/// into `data/db`, storage keys into `data/vault`. The caller builds the
/// service over the store and vault returned (sled releases its lock only
/// a moment after close) and calls [`finish_restore`].
pub fn load(
    from: &Path,
    keys: &Vault,
    data: &Path,
    entropy: Arc<dyn Entropy>,
) -> Result<Loaded, String> {
    if data.exists()
        && std::fs::read_dir(data)
            .map_err(|e| format!("{}: {e}", data.display()))?
            .next()
            .is_some()
    {
        return Err(format!(
            "{} is not empty: restore into a new directory",
            data.display()
        ));
    }
    let mut reader = BackupReader::open(from, keys)?;
    std::fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let store = crate::store::SledStore::open(&data.join("db")).map_err(|e| e.to_string())?;
    let vault = Vault::open(&data.join("vault"), entropy).map_err(|e| format!("key vault: {e}"))?;
    let mut info = RestoreInfo {
        backup_day: reader.day,
        ..RestoreInfo::default()
    };
    let mut root = [0u8; 32];
    let mut b = Batch::new();
    let mut ended = false;
    while let Some(r) = reader.next_record()? {
        match r {
            Record::Log { size, root: r } => {
                info.log_size = size;
                root = r;
            }
            Record::Entry { table, key, value } => {
                b.put(table, key, value);
                info.entries += 1;
                if info.entries % 1000 == 0 {
                    store
                        .apply(std::mem::take(&mut b))
                        .map_err(|e| e.to_string())?;
                }
            }
            Record::Key { id, key } => {
                vault.put(id, *key).map_err(|e| format!("key vault: {e}"))?;
                info.keys += 1;
            }
            Record::End { entries, keys } => {
                if entries != info.entries || keys != info.keys {
                    return Err("the backup is damaged (counts do not match)".into());
                }
                ended = true;
            }
        }
    }
    if !ended {
        return Err("the backup is cut short (no end record)".into());
    }
    store.apply(b).map_err(|e| e.to_string())?;
    store.flush().map_err(|e| e.to_string())?;
    Ok(Loaded {
        info,
        root,
        store,
        vault,
    })
}

/// After [`load`]: re-applies what a newer log export recorded (if given),
/// logs threads the backup cannot bring back as lost, and logs the
/// restore itself, so auditors see it (spec/retention.md, "Restoring").
pub async fn finish_restore(
    services: &Services,
    mut info: RestoreInfo,
    root: [u8; 32],
    export: Option<&Path>,
) -> Result<RestoreInfo, String> {
    if let Some(path) = export {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let export: crate::audit::Export =
            serde_json::from_str(&text).map_err(|_| "the log export does not parse".to_string())?;
        let mut newer = services
            .audit
            .import_after(&export, info.log_size, &root)
            .map_err(|e| e.to_string())?;
        info.imported = newer.len() as u64;
        let pending = services
            .audit
            .import_pending(&export)
            .map_err(|e| e.to_string())?;
        info.imported += pending.len() as u64;
        newer.extend(pending);
        let r = services
            .saadd
            .apply_logged(&newer)
            .await
            .map_err(|e| e.to_string())?;
        info.deleted = r.deleted;
        info.lost = r.lost;
        info.policies = r.policies;
        info.staff_removed = r.staff_removed;
        info.staff_rekey = r.staff_rekey;
    }
    services
        .audit
        .append_restored(info.log_size, root, info.backup_day, services.saadd.today())
        .map_err(|e| e.to_string())?;
    Ok(info)
}

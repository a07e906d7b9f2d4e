//! `buzon audit scan`: on the host, checks that storage matches the log
//! and the policy (spec/retention.md, "Scan"): nothing past its deadline
//! is still present, nothing the log calls deleted still has a key, no
//! key outlives its thread, no record outlives its thread, and the stored
//! log matches its own signed checkpoint.

use std::collections::HashSet;

use crate::core::retention::{Entry, Event};
use crate::core::tlog;
use crate::saadd::retention::thread_deadline;
use crate::services::Services;
use crate::store::Table;

/// What the scan found.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub threads: usize,
    pub keys: usize,
    pub log_entries: u64,
    pub pending: usize,
    /// One sentence per problem; empty when storage matches.
    pub problems: Vec<String>,
}

impl ScanReport {
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} threads, {} storage keys, {} log entries ({} pending)",
            self.threads, self.keys, self.log_entries, self.pending
        );
        if self.problems.is_empty() {
            out.push_str("\nstorage matches the log and the policy");
        } else {
            out.push_str(&format!("\n{} problem(s):", self.problems.len()));
            for p in &self.problems {
                out.push_str("\n  - ");
                out.push_str(p);
            }
        }
        out
    }
}

fn id16(k: &[u8]) -> Option<[u8; 16]> {
    k.get(..16).and_then(|s| <[u8; 16]>::try_from(s).ok())
}

pub fn scan(services: &Services) -> Result<ScanReport, String> {
    let saadd = services.saadd.as_ref();
    let store = saadd.store().as_ref();
    let e = |e: crate::store::StoreError| e.to_string();
    let mut r = ScanReport::default();
    let now = saadd.clock().unix_seconds();

    // The log: entries, their root against the signed checkpoint, and
    // every handle it calls deleted (pending entries included).
    let entries = services.audit.all_entries().map_err(|e| e.to_string())?;
    r.log_entries = entries.len() as u64;
    let mut tree = tlog::MemoryTree::new();
    let mut deleted = HashSet::new();
    for bytes in &entries {
        tree.push(bytes);
        match Entry::decode(bytes) {
            Ok(Entry {
                event: Event::Deleted { thread, .. },
                ..
            }) => {
                deleted.insert(thread.0);
            }
            Ok(_) => {}
            Err(_) => r.problems.push("a log entry does not decode".into()),
        }
    }
    let pending = services
        .audit
        .pending_entries()
        .map_err(|e| e.to_string())?;
    r.pending = pending.len();
    for p in pending {
        if let Event::Deleted { thread, .. } = p.event {
            deleted.insert(thread.0);
        }
    }
    let note = services.audit.checkpoint().map_err(|e| e.to_string())?;
    let key = services.audit.verifier_key().map_err(|e| e.to_string())?;
    match tlog::NoteVerifier::parse(&key).and_then(|v| v.open(&note)) {
        Ok(text) => match tlog::Checkpoint::parse(&text) {
            Ok(cp) if cp.size == r.log_entries && cp.root == tree.root() => {}
            Ok(_) => r
                .problems
                .push("the stored entries do not match the signed checkpoint".into()),
            Err(_) => r.problems.push("the checkpoint does not parse".into()),
        },
        Err(_) => r
            .problems
            .push("the checkpoint's signature does not verify".into()),
    }

    // Threads against the policy and the log.
    let mut live = HashSet::new();
    let mut overdue = 0usize;
    for (k, v) in store.scan(Table::Thread, &[], usize::MAX).map_err(e)? {
        let Ok(t) = serde_json::from_slice::<crate::saadd::ThreadRecord>(&v) else {
            r.problems.push("a thread record does not parse".into());
            continue;
        };
        r.threads += 1;
        if let Some(id) = id16(&k) {
            live.insert(id);
        }
        if t.deleting.is_some() {
            r.problems
                .push("a deletion was interrupted (the next retention pass finishes it)".into());
            continue;
        }
        let zone = saadd
            .entity(t.entity)
            .map(|e| e.zone())
            .unwrap_or_else(|_| crate::core::zone::Zone::default_zone());
        let today = zone.day(now);
        let (_, deadline) = thread_deadline(&t);
        if today.0 > deadline.0.saturating_add(1) {
            overdue += 1;
        }
        match t.audit {
            None => r.problems.push("a thread has no audit handle yet".into()),
            Some(h) if deleted.contains(&h.0) => r.problems.push(format!(
                "the log calls thread {} deleted, but it is still stored",
                hex::encode(h.0)
            )),
            Some(_) => {}
        }
        if saadd.vault().get(&t.id.0).is_none() {
            r.problems
                .push("a thread has no storage key (unreadable)".into());
        }
    }
    if overdue > 0 {
        r.problems.push(format!(
            "{overdue} thread(s) are past the end of the day after their deadline and still stored"
        ));
    }

    // Keys and records with no thread.
    let keys = saadd.vault().ids();
    r.keys = keys.len();
    let orphan_keys = keys.iter().filter(|k| !live.contains(*k)).count();
    if orphan_keys > 0 {
        r.problems.push(format!(
            "{orphan_keys} storage key(s) belong to no thread (a deleted thread's key must be destroyed)"
        ));
    }
    let legacy = store
        .scan_keys(Table::Vault, &[], usize::MAX)
        .map_err(e)?
        .len();
    if legacy > 0 {
        r.problems.push(format!(
            "{legacy} storage key(s) are still in sled's old Vault table"
        ));
    }
    for table in [Table::Wrap, Table::Link, Table::Message, Table::Attachment] {
        let stray = store
            .scan_keys(table, &[], usize::MAX)
            .map_err(e)?
            .iter()
            .filter(|k| id16(k).is_none_or(|id| !live.contains(&id)))
            .count();
        if stray > 0 {
            r.problems
                .push(format!("{stray} {table:?} record(s) belong to no thread"));
        }
    }
    let stray_index = store
        .scan(Table::ReceiptIndex, &[], usize::MAX)
        .map_err(e)?
        .iter()
        .filter(|(_, v)| id16(v).is_none_or(|id| !live.contains(&id)))
        .count();
    if stray_index > 0 {
        r.problems.push(format!(
            "{stray_index} receipt index entr(ies) point to no thread"
        ));
    }
    Ok(r)
}

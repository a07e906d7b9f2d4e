//! Crypto-shredding against a seizure (spec/retention.md, "What a copy of
//! the disk taken after a deletion holds"): a thread deleted by policy is
//! then attacked with a copy of the whole data directory taken after the
//! deletion, stale sled pages and a copy of the key vault from before the
//! deletion included, with every key the system still has plus the
//! reporter's receipt. It stays closed. The same attack opens a thread
//! that was not deleted, so the test can fail.

mod common;

use std::path::Path;
use std::sync::Arc;

use buzon::core::envelope::{self, EpochKeys, Slot};
use buzon::core::receipt::{self, RECEIPT_COST, Receipt};
use buzon::core::secret::Key32;
use buzon::core::status::{Kind, Status};
use buzon::platform::OsEntropy;
use buzon::store::Table;
use common::{STAFF_PASSWORD, TestClock, TestServer, fixture};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else if e.file_name() != "admin.sock" {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn files(dir: &Path, out: &mut Vec<Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(std::fs::read(&p).unwrap());
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every storage key an attacker can get from a directory: the vault's
/// current keys, plus every 32-byte window of every file (a key left in
/// the clear anywhere, stale pages included).
fn candidate_keys(dir: &Path) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    if let Ok(v) = buzon::store::vault::Vault::open(&dir.join("vault"), Arc::new(OsEntropy)) {
        for id in v.ids() {
            out.push(*v.get(&id).unwrap());
        }
    }
    let mut blobs = Vec::new();
    files(dir, &mut blobs);
    let mut seen = std::collections::HashSet::new();
    for b in blobs {
        for w in b.windows(32) {
            // Long runs of one byte are sled's padding, not keys.
            if w.iter().all(|x| *x == w[0]) {
                continue;
            }
            let k: [u8; 32] = w.try_into().unwrap();
            if seen.insert(k) {
                out.push(k);
            }
        }
    }
    out
}

/// The attacker's chain: a storage key opens the wrap record, the
/// receipt's key opens the wrap, the thread key opens the first message.
fn try_open(
    candidates: &[[u8; 32]],
    thread: buzon::core::envelope::Id,
    wrap: &[u8],
    message: &[u8],
    receipt: &Receipt,
) -> Option<String> {
    let secret = receipt::derive(receipt, RECEIPT_COST).unwrap().secret;
    for k in candidates {
        let sk = Key32::from_bytes(*k);
        let Ok(opened) = envelope::open_wrap_outer(&sk, thread, &Slot::Reporter, wrap) else {
            continue;
        };
        let tk = envelope::unwrap_thread_key(&opened, thread, &Slot::Reporter, &secret).ok()?;
        let keys = EpochKeys::new(0, tk);
        let (_, body) = envelope::open_message(&keys, thread, 0, message).ok()?;
        return Some(body.text.clone());
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seized_disk_does_not_open_a_thread_deleted_by_policy() {
    let clock = TestClock::at("2026-03-02");
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_clock(dir, clock.clone()).await;
    let saadd = server.saadd.clone();
    let f = fixture(&saadd).await;
    let readers: Vec<_> = saadd
        .coordinators(f.entity)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let mut made = Vec::new();
    for text in [
        "Pregunta que se borrará por política",
        "Pregunta que se queda",
    ] {
        let new = saadd.begin_thread();
        let sub = saadd
            .submit(f.entity, Kind::Question, text, &readers, new, vec![])
            .await
            .unwrap();
        made.push(sub);
    }
    let (gone, kept) = (&made[0], &made[1]);
    let store = saadd.store().clone();
    let wrap_of = |t: buzon::core::envelope::Id| {
        let mut k = t.0.to_vec();
        k.extend_from_slice(&Slot::Reporter.encode());
        store.get(Table::Wrap, &k).unwrap().unwrap()
    };
    let msg_of = |t: buzon::core::envelope::Id| {
        let mut k = t.0.to_vec();
        k.extend_from_slice(&0u32.to_be_bytes());
        store.get(Table::Message, &k).unwrap().unwrap()
    };
    // What the attacker will look for in stale pages.
    let (gone_wrap, gone_msg) = (wrap_of(gone.thread), msg_of(gone.thread));
    let (kept_wrap, kept_msg) = (wrap_of(kept.thread), msg_of(kept.thread));
    let coord_id = saadd.staff_by_login("coord-a").unwrap().id;
    let gone_coord_wrap = {
        let mut k = gone.thread.0.to_vec();
        k.extend_from_slice(&Slot::Staff(coord_id).encode());
        store.get(Table::Wrap, &k).unwrap().unwrap()
    };
    store.flush().unwrap();

    // A copy of the key vault from before the deletion: blocks a file
    // system may leave behind when the vault is rewritten.
    let stale_vault = tempfile::tempdir().unwrap();
    copy_dir(&server.data_dir().join("vault"), stale_vault.path());

    // The coordinator closes it; the policy deletes questions 90 days
    // after closing (default). The sweeper runs on the deadline day.
    let coord = saadd.staff_login("coord-a", STAFF_PASSWORD).await.unwrap();
    saadd
        .set_status(gone.thread, &coord, Status::Closed)
        .await
        .unwrap();
    clock.advance_days(90);
    let pass = server.services.retention_pass().await.unwrap();
    assert_eq!(pass.closed, 1, "{pass:?}");
    assert!(saadd.thread(gone.thread).is_err());
    assert!(saadd.vault().get(&gone.thread.0).is_none());
    assert!(saadd.thread(kept.thread).is_ok());
    store.flush().unwrap();

    // The seizure: the whole data directory, as it is on disk now.
    let seized = tempfile::tempdir().unwrap();
    copy_dir(&server.data_dir(), seized.path());
    let mut raw = Vec::new();
    files(seized.path(), &mut raw);
    let everything: Vec<u8> = raw.concat();
    // sled keeps the deleted thread's records in stale pages: the attacker
    // has its ciphertext (if sled had reclaimed it, the attack would be
    // easier to resist, and this test would say nothing).
    assert!(
        contains(&everything, &gone_wrap) || contains(&everything, &gone_msg),
        "the deleted thread's records should still be in sled's stale pages"
    );

    // Every key the attacker can assemble: the seized vault, every window
    // of every seized file, and the pre-deletion vault opened with the
    // seized vault key file.
    let mut keys = candidate_keys(seized.path());
    let mixed = tempfile::tempdir().unwrap();
    std::fs::copy(seized.path().join("vault/key"), mixed.path().join("key")).unwrap();
    std::fs::copy(stale_vault.path().join("vault"), mixed.path().join("vault")).unwrap();
    // Opening fails when the old generation's key is overwritten, as it
    // must be; if it opened, it must not hold the deleted thread's key.
    if let Ok(v) = buzon::store::vault::Vault::open(mixed.path(), Arc::new(OsEntropy)) {
        {
            assert!(
                v.get(&gone.thread.0).is_none(),
                "the old vault must not open with the new key file"
            );
            keys.extend(v.ids().iter().filter_map(|id| v.get(id)).map(|k| *k));
        }
    }
    for k in candidate_keys(stale_vault.path()) {
        keys.push(k);
    }
    assert!(
        keys.len() > 1000,
        "the attack tries many keys ({})",
        keys.len()
    );

    assert_eq!(
        try_open(&keys, gone.thread, &gone_wrap, &gone_msg, &gone.receipt),
        None,
        "a thread deleted by policy opened from the seized disk"
    );
    assert_eq!(
        try_open(&keys, kept.thread, &kept_wrap, &kept_msg, &kept.receipt).as_deref(),
        Some("Pregunta que se queda"),
        "the same attack must open a thread that was not deleted"
    );

    // A staff member's wrap needs the same storage key: no candidate
    // opens the coordinator's wrap record of the deleted thread either.
    let coord_slot = Slot::Staff(coord.staff.id);
    assert!(keys.iter().all(|k| {
        envelope::open_wrap_outer(
            &Key32::from_bytes(*k),
            gone.thread,
            &coord_slot,
            &gone_coord_wrap,
        )
        .is_err()
    }));
    server.stop().await;
}
